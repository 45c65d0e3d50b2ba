"""Before the services deploy: every image the environment names is in its ECR repository.

A service whose image is missing cannot start (CannotPullContainer), and on a first deploy the
circuit breaker has nothing to roll back to. So the check runs between the images stack and the
environment, and a missing image stops the deploy with the commands that push it.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from infrakit.config import Environment
from infrakit.stacks.names import (
    CPU_ARCHITECTURE,
    SCRATCH_PATH,
    image_services,
    images_stack_name,
    repository_name,
)


class ImageCheckError(Exception):
    """The check itself could not run (credentials, permissions); the message says what to fix."""


class ImageProblem(Protocol):
    """What stops a deploy before the environment: it says what is wrong and how to fix it."""

    def explain(self, environment: Environment, region: str) -> str: ...


@dataclass(frozen=True)
class MissingImage:
    service: str
    key: str  # where the environment file names it
    reference: str  # tag, or digest
    repository: str
    repository_uri: str | None  # None: the repository itself is missing

    def explain(self, environment: Environment, region: str) -> str:
        if self.repository_uri is None:
            return (
                f"{self.service}: ECR repository {self.repository} does not exist: deploy the images stack "
                f"first (`cdktf deploy {images_stack_name(environment.name)}`)"
            )
        registry = self.repository_uri.split("/", 1)[0]
        separator = "@" if self.reference.startswith("sha256:") else ":"
        target = f"{self.repository_uri}{separator}{self.reference}"
        lines = [
            f"{self.service}: image {self.reference} is not in ECR repository {self.repository} "
            f"({environment.file}: {self.key}). Push it, then deploy again:",
            f"    aws ecr get-login-password --region {region} | docker login --username AWS "
            f"--password-stdin {registry}",
        ]
        if separator == ":":
            lines.append(f"    docker tag YOUR-{self.service.upper()}-IMAGE {target}")
            lines.append(f"    docker push {target}")
        else:
            lines.append(f"    push the image whose digest is {self.reference}, e.g. by its tag")
        return "\n".join(lines)


def configured_images(environment: Environment) -> list[tuple[str, str, str, dict[str, str]]]:
    """(service, ECR repository, the environment file's key, ECR imageId) for each image the
    environment names: by digest where one is pinned, else by tag."""
    images = []
    for service in image_services(environment):
        config = getattr(environment.config, service)
        if config.image_digest:
            key, image_id = f"{service}.image_digest", {"imageDigest": config.image_digest}
        else:
            key, image_id = f"{service}.image_tag", {"imageTag": config.image_tag}
        images.append((service, repository_name(environment, service), key, image_id))
    return images


def missing_images(environment: Environment, ecr: Any) -> list[MissingImage]:
    """Each configured image that ECR does not have. `ecr` is a boto3 ECR client."""
    missing = []
    for service, name, key, image_id in configured_images(environment):
        reference = next(iter(image_id.values()))
        try:
            uri = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]["repositoryUri"]
        except ClientError as error:
            if _code(error) != "RepositoryNotFoundException":
                raise _unusable(error) from None
            missing.append(MissingImage(service, key, reference, name, None))
            continue
        except BotoCoreError as error:
            raise _unusable(error) from None
        try:
            ecr.describe_images(repositoryName=name, imageIds=[image_id])
        except ClientError as error:
            if _code(error) != "ImageNotFoundException":
                raise _unusable(error) from None
            missing.append(MissingImage(service, key, reference, name, uri))
        except BotoCoreError as error:
            raise _unusable(error) from None
    return missing


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _unusable(error: Exception) -> ImageCheckError:
    return ImageCheckError(
        f"could not check the images in ECR ({error}); check the AWS credentials and that they may "
        "call ecr:DescribeRepositories and ecr:DescribeImages"
    )


# ----------------------------------------------------------------------------- the scratch volume

MANIFEST_TYPES = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
]
INDEX_TYPES = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
]
# Fargate's runtime platform (fargate_service.py) in the OCI platform's spelling.
PLATFORM = {"os": "linux", "architecture": {"X86_64": "amd64", "ARM64": "arm64"}[CPU_ARCHITECTURE]}


@dataclass(frozen=True)
class UnwritableScratch:
    """An image that does not declare the task's scratch path as a VOLUME.

    Fargate mounts the task's scratch volume at SCRATCH_PATH as a bind mount owned by root
    (aws/containers-roadmap#938). It copies the image's own directory there, ownership included,
    only where the image declares that path with VOLUME (ECS developer guide, "Bind mounts").
    Otherwise a non-root task cannot write there: the worker's `/tmp/worker-alive` health check
    can never pass, and the circuit breaker fails the deployment.
    """

    service: str
    key: str  # where the environment file names the image
    reference: str
    repository: str
    user: str  # the task's user (environment file: <service>.user)

    def explain(self, environment: Environment, region: str) -> str:
        return "\n".join(
            [
                f"{self.service}: image {self.reference} in ECR repository {self.repository} "
                f"({environment.file}: {self.key}) does not declare VOLUME {SCRATCH_PATH}. On Fargate, "
                f"{SCRATCH_PATH} is then a root-owned bind mount that user {self.user} "
                f"({environment.file}: {self.service}.user) cannot write (aws/containers-roadmap#938).",
                f"    in the Dockerfile, after the last RUN that writes to {SCRATCH_PATH}: `RUN chmod 1777 "
                f"{SCRATCH_PATH}` (or chown it to {self.user}), then `VOLUME {SCRATCH_PATH}`;",
                f"    push it under a new tag and set {self.key}",
            ]
        )


def unwritable_scratch(
    environment: Environment, ecr: Any, fetch: Callable[[str], bytes] | None = None
) -> list[UnwritableScratch]:
    """Each configured image whose config does not declare the scratch path as a VOLUME.

    Reads what ECR holds: the manifest (`BatchGetImage`; from an index, the linux/amd64 entry),
    then the image config blob through `GetDownloadUrlForLayer` and its pre-signed URL. Run it
    after `missing_images` finds every image. What it cannot read: the directory's ownership and
    mode, which live in the image's layers; `chmod 1777` before `VOLUME` is the documented fix.
    """
    fetch = fetch or _download
    problems = []
    for service, name, key, image_id in configured_images(environment):
        try:
            manifest = _manifest(ecr, name, image_id)
            config_digest = manifest["config"]["digest"]
            blob = ecr.get_download_url_for_layer(repositoryName=name, layerDigest=config_digest)
            image_config = json.loads(fetch(blob["downloadUrl"])).get("config") or {}
        except (ClientError, BotoCoreError, OSError, KeyError, ValueError) as error:
            raise _unreadable(name, image_id, error) from None
        if SCRATCH_PATH not in (image_config.get("Volumes") or {}):
            user = getattr(environment.config, service).user
            problems.append(UnwritableScratch(service, key, next(iter(image_id.values())), name, user))
    return problems


def _manifest(ecr: Any, name: str, image_id: dict[str, str]) -> dict[str, Any]:
    found = ecr.batch_get_image(
        repositoryName=name, imageIds=[image_id], acceptedMediaTypes=MANIFEST_TYPES + INDEX_TYPES
    )
    if not found.get("images"):
        raise KeyError(f"ECR returned no manifest: {found.get('failures')}")
    manifest: dict[str, Any] = json.loads(found["images"][0]["imageManifest"])
    if manifest.get("mediaType") in INDEX_TYPES or "manifests" in manifest:
        for entry in manifest.get("manifests", []):
            platform = entry.get("platform") or {}
            if all(platform.get(k) == v for k, v in PLATFORM.items()):
                return _manifest(ecr, name, {"imageDigest": entry["digest"]})
        raise KeyError(f"the image index has no {PLATFORM['os']}/{PLATFORM['architecture']} entry")
    return manifest


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - ECR's pre-signed https URL
        body: bytes = response.read()
        return body


def _unreadable(name: str, image_id: dict[str, str], error: Exception) -> ImageCheckError:
    return ImageCheckError(
        f"could not read the config of image {next(iter(image_id.values()))} in ECR repository {name} "
        f"({error}); check that the AWS credentials may call ecr:BatchGetImage and "
        "ecr:GetDownloadUrlForLayer, and that the image is a Docker v2 or OCI image"
    )
