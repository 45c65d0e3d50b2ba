"""Before the services deploy: every image the environment names is in its ECR repository, built
for the tasks' platform, and declares the scratch volume.

A service whose image is missing cannot start (CannotPullContainer), and on a first deploy the
circuit breaker has nothing to roll back to. So the checks run between the images stack and the
environment, and each problem stops the deploy with what fixes it. The image's manifest and config
are read once (`read_images`); the platform and scratch-volume checks judge what was read.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Mapping, Sequence
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


# ----------------------------------------------------------------------------- what each image is

MANIFEST_TYPES = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
]
INDEX_TYPES = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
]
# Fargate's runtime platform (fargate_service.py: LINUX and CPU_ARCHITECTURE) in the spelling of the
# OCI image spec's `os` and `architecture` (Go's GOOS and GOARCH values).
TASK_OS = "linux"
TASK_ARCHITECTURE = {"X86_64": "amd64", "ARM64": "arm64"}[CPU_ARCHITECTURE]
TASK_PLATFORM = f"{TASK_OS}/{TASK_ARCHITECTURE}"
# The other CPU architecture Fargate runs Linux tasks on (ECS developer guide, "Amazon ECS task
# definitions for 64-bit ARM workloads"), which the refusal offers as a way out.
_OTHER_CPU = {"X86_64": "ARM64", "ARM64": "X86_64"}[CPU_ARCHITECTURE]
_OTHER_ARCHITECTURE = {"X86_64": "amd64", "ARM64": "arm64"}[_OTHER_CPU]


@dataclass(frozen=True)
class ImageRead:
    """One configured image as ECR holds it, read once for every check below."""

    service: str
    key: str  # where the environment file names the image
    reference: str  # tag, or digest
    repository: str
    # What it is built for, as os/architecture[/variant]: its config's platform, or, for an index
    # without an entry for the tasks' platform, each of the index's platforms.
    platforms: tuple[str, ...]
    # The image config's `config` object (Volumes, User...); None where no entry fits the tasks.
    config: Mapping[str, Any] | None

    @property
    def runs_on_the_tasks(self) -> bool:
        return any(p.split("/")[:2] == [TASK_OS, TASK_ARCHITECTURE] for p in self.platforms)


def read_images(
    environment: Environment, ecr: Any, fetch: Callable[[str], bytes] | None = None
) -> list[ImageRead]:
    """Each configured image's platform and config, as ECR holds them. Run it after
    `missing_images` finds every image.

    Reads the manifest (`BatchGetImage`). An image index (a multi-platform image) lists a manifest
    per platform (OCI image spec, image-index.md); from it, the entry for the tasks' platform is
    read (a second `BatchGetImage`), which is the one Fargate pulls. Then the image config blob,
    through `GetDownloadUrlForLayer` and its pre-signed URL; the config states the image's `os` and
    `architecture` (OCI image spec, config.md). An index without an entry for the tasks' platform
    has no config worth reading: Fargate cannot pull it.
    """
    fetch = fetch or _download
    images = []
    for service, name, key, image_id in configured_images(environment):
        reference = next(iter(image_id.values()))
        try:
            manifest = _manifest(ecr, name, image_id)
            if _is_index(manifest):
                entries = manifest.get("manifests") or []
                fitting = [e for e in entries if _fits(e.get("platform") or {})]
                if not fitting:
                    offered = tuple(
                        platform
                        for e in entries
                        # BuildKit lists its attestation manifests as unknown/unknown.
                        if (platform := _platform_name(e.get("platform") or {})) != "unknown/unknown"
                    )
                    images.append(ImageRead(service, key, reference, name, offered, None))
                    continue
                manifest = _manifest(ecr, name, {"imageDigest": fitting[0]["digest"]})
                if _is_index(manifest):
                    raise KeyError("the index's entry is an index itself")
            config_digest = manifest["config"]["digest"]
            blob = ecr.get_download_url_for_layer(repositoryName=name, layerDigest=config_digest)
            document = json.loads(fetch(blob["downloadUrl"]))
            config = document.get("config") or {}
        except (ClientError, BotoCoreError, OSError, KeyError, ValueError, AttributeError) as error:
            raise _unreadable(name, image_id, error) from None
        images.append(ImageRead(service, key, reference, name, (_platform_name(document),), config))
    return images


def _manifest(ecr: Any, name: str, image_id: dict[str, str]) -> dict[str, Any]:
    found = ecr.batch_get_image(
        repositoryName=name, imageIds=[image_id], acceptedMediaTypes=MANIFEST_TYPES + INDEX_TYPES
    )
    if not found.get("images"):
        raise KeyError(f"ECR returned no manifest: {found.get('failures')}")
    manifest: dict[str, Any] = json.loads(found["images"][0]["imageManifest"])
    return manifest


def _is_index(manifest: Mapping[str, Any]) -> bool:
    return manifest.get("mediaType") in INDEX_TYPES or "manifests" in manifest


def _fits(platform: Mapping[str, Any]) -> bool:
    """The tasks' os and architecture. Any variant passes: a task's runtimePlatform names none."""
    return platform.get("os") == TASK_OS and platform.get("architecture") == TASK_ARCHITECTURE


def _platform_name(platform: Mapping[str, Any]) -> str:
    """os/architecture[/variant], as `docker buildx build --platform` spells it."""
    parts = [str(platform.get("os") or "unknown"), str(platform.get("architecture") or "unknown")]
    if platform.get("variant"):
        parts.append(str(platform["variant"]))
    return "/".join(parts)


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


# ----------------------------------------------------------------------------- the architecture


@dataclass(frozen=True)
class WrongPlatform:
    """An image not built for the tasks' platform.

    Fargate runs each task on the task definition's `runtimePlatform` (CPU_ARCHITECTURE,
    infrakit/stacks/names.py). An image built for another architecture stops at start with `exec
    format error` ("Essential container in task exited", exit code 1: AWS Knowledge Center,
    "ecs-task-exec-format-error"); an index without an entry for it cannot be pulled at all
    ("no matching manifest for linux/amd64 in the manifest list entries"). Either way the circuit
    breaker fails the deployment, and a first deploy has nothing to roll back to.
    """

    service: str
    key: str
    reference: str
    repository: str
    found: tuple[str, ...]
    index: bool  # a multi-platform image whose entries do not include the tasks' platform

    def explain(self, environment: Environment, region: str) -> str:
        found = ", ".join(self.found) or "no platform"
        built = f"is a multi-platform image for {found} only" if self.index else f"is built for {found}"
        push = (
            f"push it and set {self.key} to its digest"
            if self.key.endswith("image_digest")
            else f"push it under a new tag and set {self.key}"
        )
        # The other architecture a Fargate Linux task can run on, where the image is built for it.
        other = next((p for p in self.found if p.split("/")[:2] == [TASK_OS, _OTHER_ARCHITECTURE]), None)
        change = (
            f'    or run the tasks on {TASK_OS}/{_OTHER_ARCHITECTURE}: CPU_ARCHITECTURE = "{_OTHER_CPU}" '
            "in infrakit/stacks/names.py (every service's task, in every environment)"
            if other
            else "    (infrakit's Fargate tasks run linux/amd64, X86_64, or linux/arm64, ARM64)"
        )
        return "\n".join(
            [
                f"{self.service}: image {self.reference} in ECR repository {self.repository} "
                f"({environment.file}: {self.key}) {built}, but its tasks run on {TASK_PLATFORM} "
                f"(CPU_ARCHITECTURE {CPU_ARCHITECTURE}): Fargate could not "
                f"{'pull' if self.index else 'run'} it.",
                f"    build it for the tasks: `docker buildx build --platform {TASK_PLATFORM} ...` (or a "
                f"multi-platform image that includes {TASK_PLATFORM}); {push}{';' if other else '.'}",
                change,
            ]
        )


def wrong_platform(environment: Environment, images: Sequence[ImageRead]) -> list[WrongPlatform]:
    """Each configured image that Fargate could not run on the tasks' platform."""
    return [
        WrongPlatform(i.service, i.key, i.reference, i.repository, i.platforms, index=i.config is None)
        for i in images
        if not i.runs_on_the_tasks
    ]


# ----------------------------------------------------------------------------- the scratch volume


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


def unwritable_scratch(environment: Environment, images: Sequence[ImageRead]) -> list[UnwritableScratch]:
    """Each configured image whose config does not declare the scratch path as a VOLUME.

    An index without an entry for the tasks' platform has no config to judge: `wrong_platform`
    refuses it first. What the config cannot say: the directory's ownership and mode, which live in
    the image's layers; `chmod 1777` before `VOLUME` is the documented fix.
    """
    problems = []
    for image in images:
        if image.config is None:
            continue
        if SCRATCH_PATH not in (image.config.get("Volumes") or {}):
            user = getattr(environment.config, image.service).user
            problems.append(
                UnwritableScratch(image.service, image.key, image.reference, image.repository, user)
            )
    return problems
