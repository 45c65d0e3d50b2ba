"""What a stubbed ECR answers (the `ecr` fixture in tests/conftest.py is the stubbed client)."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, HTTPServer

from botocore.stub import Stubber

REGISTRY = "480937561234.dkr.ecr.eu-west-1.amazonaws.com"


def repository_found(stubber: Stubber, name: str) -> None:
    stubber.add_response(
        "describe_repositories",
        {"repositories": [{"repositoryName": name, "repositoryUri": f"{REGISTRY}/{name}"}]},
        {"repositoryNames": [name]},
    )


def image_found(stubber: Stubber, name: str, tag: str = "0.1.0") -> None:
    stubber.add_response(
        "describe_images",
        {"imageDetails": [{"repositoryName": name, "imageTags": [tag]}]},
        {"repositoryName": name, "imageIds": [{"imageTag": tag}]},
    )


def images_found(stubber: Stubber, env: str = "dev") -> None:
    """Every service's repository and configured image exist."""
    for service in ("api", "worker"):
        repository_found(stubber, f"infrakit-{env}-{service}")
        image_found(stubber, f"infrakit-{env}-{service}")


# What ECR answers for an image's manifest and its config blob: BatchGetImage returns the manifest
# as a JSON string; GetDownloadUrlForLayer returns a pre-signed S3 URL for a blob that an image
# references, the config blob included (the ECR API reference); the blob itself comes from S3.
CONFIG_DIGEST = "sha256:" + "c" * 64
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
ACCEPTED = [
    "application/vnd.oci.image.manifest.v1+json",
    DOCKER_MANIFEST,
    OCI_INDEX,
    "application/vnd.docker.distribution.manifest.list.v2+json",
]


def image_config(volumes: list[str], user: str = "10001", platform: str = "linux/amd64") -> bytes:
    """An image config blob as `docker build` writes it (the OCI image spec's config.md: `os`,
    `architecture`, `variant` where there is one, and `config`)."""
    config = {"User": user, "Volumes": {path: {} for path in volumes} or None, "Cmd": ["node"]}
    return json.dumps({**_platform(platform), "config": config}).encode()


def _platform(name: str) -> dict[str, str]:
    """A platform such as "linux/arm64/v8", as the OCI image spec spells it."""
    system, architecture, *variant = name.split("/")
    return {"os": system, "architecture": architecture, **({"variant": variant[0]} if variant else {})}


def manifest_found(
    stubber: Stubber, name: str, image_id: dict[str, str], manifest: dict, media_type: str
) -> None:
    stubber.add_response(
        "batch_get_image",
        {
            "images": [
                {
                    "repositoryName": name,
                    "imageId": image_id,
                    "imageManifest": json.dumps(manifest),
                    "imageManifestMediaType": media_type,
                }
            ],
            "failures": [],
        },
        {"repositoryName": name, "imageIds": [image_id], "acceptedMediaTypes": ACCEPTED},
    )


def config_found(
    stubber: Stubber,
    name: str,
    url: str,
    tag: str = "0.1.0",
    *,
    index: bool = False,
    platforms: tuple[str, ...] = ("linux/arm64/v8", "linux/amd64"),
    index_type: str = OCI_INDEX,
) -> None:
    """The image `name:tag`, whose config blob S3 serves at url. With `index`, the tag names a
    multi-platform image (an image index of `index_type`) with one entry per platform and, as
    BuildKit writes it, an attestation manifest (unknown/unknown); ECR is then asked for the
    linux/amd64 entry's manifest and config only, and for nothing more where there is none."""
    image = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "digest": CONFIG_DIGEST,
            "size": 1,
        },
        "layers": [],
    }
    if index:
        entries = [
            {"digest": f"sha256:{n:064x}", "platform": _platform(platform)}
            for n, platform in enumerate((*platforms, "unknown/unknown"), start=1)
        ]
        listing = {"schemaVersion": 2, "mediaType": index_type, "manifests": entries}
        manifest_found(stubber, name, {"imageTag": tag}, listing, index_type)
        amd64 = [e["digest"] for e in entries if e["platform"] == _platform("linux/amd64")]
        if not amd64:
            return  # Fargate cannot pull it: the check reads no further
        manifest_found(stubber, name, {"imageDigest": amd64[0]}, image, DOCKER_MANIFEST)
    else:
        manifest_found(stubber, name, {"imageTag": tag}, image, DOCKER_MANIFEST)
    stubber.add_response(
        "get_download_url_for_layer",
        {"downloadUrl": url, "layerDigest": CONFIG_DIGEST},
        {"repositoryName": name, "layerDigest": CONFIG_DIGEST},
    )


class Blobs:
    """Serves one config blob per path on 127.0.0.1, on a free port, as S3 serves a pre-signed URL
    (the `s3` fixture in tests/conftest.py runs it)."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        blobs = self.blobs

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = blobs.get(self.path.split("?")[0])
                self.send_response(200 if body is not None else 403)
                self.end_headers()
                self.wfile.write(body or b"<Error><Code>AccessDenied</Code></Error>")

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)

    def url(self, path: str, blob: bytes | None) -> str:
        if blob is not None:
            self.blobs[path] = blob
        return f"http://127.0.0.1:{self.server.server_port}{path}?X-Amz-Signature=test"


def configs_found(
    stubber: Stubber,
    s3: Blobs,
    env: str = "dev",
    *,
    without_tmp: tuple[str, ...] = (),
    arm64_only: tuple[str, ...] = (),
) -> None:
    """Every service's image config, as the image checks read it after `images_found`: each is
    built for linux/amd64 and declares VOLUME /tmp, except the services named in `arm64_only`
    (built for linux/arm64/v8) and in `without_tmp`."""
    for service in ("api", "worker"):
        volumes = [] if service in without_tmp else ["/tmp"]
        platform = "linux/arm64/v8" if service in arm64_only else "linux/amd64"
        url = s3.url(f"/{env}-{service}", image_config(volumes, platform=platform))
        config_found(stubber, f"infrakit-{env}-{service}", url)
