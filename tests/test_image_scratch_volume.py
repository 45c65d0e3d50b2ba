"""Before deploy: each image declares the task's scratch path (/tmp) as a VOLUME.

Fargate mounts the task's scratch volume as a root-owned bind mount (aws/containers-roadmap#938)
and has no tmpfs: a non-root task writes there only if its image declares the path with VOLUME,
whose directory (ownership included) Fargate copies in. Without it the worker's
`/tmp/worker-alive` health check can never pass.

ECR is faked at the SDK boundary with botocore's Stubber (the manifest and the pre-signed URL);
the config blob is served over real HTTP by a local server standing in for S3's pre-signed URL.
What this cannot prove: ECR's real answers for a given image (the shapes are the ECR API's), and
the directory's ownership and mode, which live in the image's layers, not in its config.
"""

from __future__ import annotations

import pytest

from infrakit.config.loader import load_environment
from infrakit.deploy.images import ImageCheckError, read_images, unwritable_scratch
from tests.conftest import ENVIRONMENTS
from tests.ecr_stub import Blobs, config_found, image_config


def test_images_that_declare_tmp_pass(ecr, s3: Blobs) -> None:
    """Both images declare VOLUME /tmp (the worker's behind a multi-platform index, whose
    linux/amd64 entry is Fargate's): no problem. Cannot prove: /tmp's mode inside the image."""
    client, stubber = ecr
    config_found(stubber, "infrakit-dev-api", s3.url("/api", image_config(["/tmp"])))
    config_found(
        stubber, "infrakit-dev-worker", s3.url("/worker", image_config(["/tmp", "/data"])), index=True
    )
    environment = load_environment(ENVIRONMENTS / "dev.toml")
    assert unwritable_scratch(environment, read_images(environment, client)) == []


def test_an_image_without_volume_tmp_is_named_with_the_dockerfile_fix(ecr, s3: Blobs) -> None:
    """The worker's image declares no VOLUME: the check names the service, the image, the
    environment file's keys and the Dockerfile lines that fix it. Cannot prove: that Fargate
    refuses the write (aws/containers-roadmap#938 reports it)."""
    client, stubber = ecr
    config_found(stubber, "infrakit-dev-api", s3.url("/api", image_config(["/tmp"])))
    config_found(stubber, "infrakit-dev-worker", s3.url("/worker", image_config([])))
    environment = load_environment(ENVIRONMENTS / "dev.toml")
    problems = unwritable_scratch(environment, read_images(environment, client))
    assert [p.service for p in problems] == ["worker"]
    text = problems[0].explain(environment, "eu-west-1")
    for expected in (
        "image 0.1.0 in ECR repository infrakit-dev-worker (environments/dev.toml: worker.image_tag)",
        "does not declare VOLUME /tmp",
        "user 10001 (environments/dev.toml: worker.user) cannot write",
        "`RUN chmod 1777 /tmp`",
        "`VOLUME /tmp`",
    ):
        assert expected in text, text


def test_an_unreadable_config_says_which_permissions_the_check_needs(ecr, s3: Blobs) -> None:
    """S3 refuses the pre-signed URL (403): the check stops with the ECR permissions it needs,
    instead of guessing. Cannot prove: which of S3's errors a real expired URL returns."""
    client, stubber = ecr
    config_found(stubber, "infrakit-dev-api", s3.url("/expired", None))
    with pytest.raises(ImageCheckError, match="ecr:BatchGetImage and ecr:GetDownloadUrlForLayer") as raised:
        read_images(load_environment(ENVIRONMENTS / "dev.toml"), client)
    assert "X-Amz-Signature" not in str(raised.value)
