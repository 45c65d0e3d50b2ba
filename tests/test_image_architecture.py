"""Before deploy: each image is built for the platform its Fargate tasks run on (linux/amd64, from
CPU_ARCHITECTURE X86_64 in infrakit/stacks/names.py).

An image built for another architecture stops at start with `exec format error` (AWS Knowledge
Center, "ecs-task-exec-format-error"); a multi-platform image (an image index) without a
linux/amd64 entry cannot be pulled. The check reads what the scratch-volume check already read:
the manifest (`BatchGetImage`), the index's linux/amd64 entry, and the config blob, whose `os` and
`architecture` say what the image is built for (OCI image spec, config.md and image-index.md).

ECR is faked at the SDK boundary with botocore's Stubber, which fails a test on any call it was not
told to expect, so these tests also hold the check to the calls it made before; the config blob is
served over real HTTP by a local server standing in for S3's pre-signed URL. What this cannot
prove: ECR's real answers for a given image (the shapes are the ECR API's), and that an image whose
config says linux/amd64 holds amd64 binaries (they are in its layers, which nothing here reads).
"""

from __future__ import annotations

from typing import Any

import pytest

from infrakit.config import Environment
from infrakit.config.loader import load_environment
from infrakit.deploy.images import read_images, unwritable_scratch, wrong_platform
from infrakit.deploy.order import deploy_in_order
from tests.conftest import ENVIRONMENTS
from tests.ecr_stub import (
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    Blobs,
    config_found,
    configs_found,
    image_config,
    images_found,
)

API, WORKER = "infrakit-dev-api", "infrakit-dev-worker"


def dev() -> Environment:
    return load_environment(ENVIRONMENTS / "dev.toml")


def test_an_arm64_image_is_refused_naming_what_it_is_built_for_and_the_fixes(ecr, s3: Blobs) -> None:
    """The api's image was built on an arm64 machine (Apple silicon, a Graviton runner) without
    `--platform`. Cannot prove: the exec format error itself, which only Fargate can show."""
    client, stubber = ecr
    config_found(stubber, API, s3.url("/api", image_config(["/tmp"], platform="linux/arm64/v8")))
    config_found(stubber, WORKER, s3.url("/worker", image_config(["/tmp"])))
    environment = dev()
    problems = wrong_platform(environment, read_images(environment, client))
    assert [p.service for p in problems] == ["api"]
    text = problems[0].explain(environment, "eu-west-1")
    for expected in (
        "api: image 0.1.0 in ECR repository infrakit-dev-api (environments/dev.toml: api.image_tag) "
        "is built for linux/arm64/v8, but its tasks run on linux/amd64 (CPU_ARCHITECTURE X86_64)",
        "`docker buildx build --platform linux/amd64 ...`",
        "push it under a new tag and set api.image_tag",
        'or run the tasks on linux/arm64: CPU_ARCHITECTURE = "ARM64" in infrakit/stacks/names.py',
    ):
        assert expected in text, text


def test_amd64_images_pass(ecr, s3: Blobs) -> None:
    """Both images are built for linux/amd64, as Fargate's X86_64 tasks need. Cannot prove: what
    their layers hold."""
    client, stubber = ecr
    config_found(stubber, API, s3.url("/api", image_config(["/tmp"], platform="linux/amd64")))
    config_found(stubber, WORKER, s3.url("/worker", image_config(["/tmp"], platform="linux/amd64")))
    environment = dev()
    assert wrong_platform(environment, read_images(environment, client)) == []


@pytest.mark.parametrize("index_type", [OCI_INDEX, DOCKER_MANIFEST_LIST])
def test_a_multi_platform_image_with_amd64_passes(ecr, s3: Blobs, index_type: str) -> None:
    """Both images are indexes listing linux/arm64/v8 first, then linux/amd64 (and BuildKit's
    attestation entry): Fargate pulls the amd64 entry, whose config the check reads. Cannot
    prove: which entry ECR's own pull would pick, beyond the platform match."""
    client, stubber = ecr
    for name in (API, WORKER):
        config_found(
            stubber, name, s3.url(f"/{name}", image_config(["/tmp"])), index=True, index_type=index_type
        )
    environment = dev()
    read = read_images(environment, client)
    assert [image.platforms for image in read] == [("linux/amd64",), ("linux/amd64",)]
    assert wrong_platform(environment, read) == []
    assert unwritable_scratch(environment, read) == []


def test_a_multi_platform_image_without_amd64_is_refused_and_read_no_further(ecr, s3: Blobs) -> None:
    """The worker's index lists arm64 and arm/v7 only: the check names both, asks ECR nothing more
    for it (the Stubber would fail on a call for a config it cannot need), and leaves the
    scratch-volume judgement out, there being no config Fargate could run. Cannot prove: the
    CannotPullContainerError text Fargate would show."""
    client, stubber = ecr
    config_found(stubber, API, s3.url("/api", image_config(["/tmp"])))
    config_found(
        stubber,
        WORKER,
        "unused",
        index=True,
        platforms=("linux/arm64/v8", "linux/arm/v7"),
        index_type=OCI_INDEX,
    )
    environment = dev()
    read = read_images(environment, client)
    problems = wrong_platform(environment, read)
    assert [p.service for p in problems] == ["worker"]
    text = problems[0].explain(environment, "eu-west-1")
    assert (
        "worker: image 0.1.0 in ECR repository infrakit-dev-worker (environments/dev.toml: "
        "worker.image_tag) is a multi-platform image for linux/arm64/v8, linux/arm/v7 only, but its "
        "tasks run on linux/amd64"
    ) in text, text
    assert "unknown" not in text  # BuildKit's attestation entry is no platform
    assert "--platform linux/amd64" in text
    assert unwritable_scratch(environment, read) == []


def test_the_deploy_stops_before_the_environment_on_an_arm64_image(ecr, s3: Blobs) -> None:
    """The deploy order: images stack, image found, then the platform check stops before `dev`,
    with the same ECR calls as the scratch-volume check alone made. Cannot prove: what `cdktf
    deploy` does (recorded, not run)."""
    client, stubber = ecr
    images_found(stubber)
    configs_found(stubber, s3, arm64_only=("worker",))
    ran: list[list[str]] = []
    said: list[str] = []

    def run(argv: Any) -> int:
        ran.append(list(argv))
        return 0

    code = deploy_in_order(
        dev(), run=run, ecr=lambda: client, cdktf="cdktf", auto_approve=True, say=said.append
    )
    assert code == 1
    assert ran == [["cdktf", "deploy", "dev-images", "--auto-approve"]]  # dev itself never ran
    text = "\n".join(said)
    assert "checking that every image is built for linux/amd64, the platform its tasks run on" in text
    assert "worker: image 0.1.0 in ECR repository infrakit-dev-worker" in text
    assert "is built for linux/arm64/v8, but its tasks run on linux/amd64" in text
    assert "api:" not in text
    assert said[-1] == "not deploying dev: its tasks could not start"
