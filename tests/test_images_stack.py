"""Each cloud environment's image repositories live in their own stack, `<env>-images`, which
deploys first: images can be pushed before any service starts, and the environment's services
find the repositories by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

CLOUD = ("dev", "staging", "prod")


def stack(synthesized: Path, name: str) -> dict[str, Any]:
    return json.loads((synthesized / "stacks" / name / "cdk.tf.json").read_text())


@pytest.mark.parametrize("env", CLOUD)
def test_the_images_stack_holds_the_repositories_and_its_own_state(synthesized: Path, env: str) -> None:
    images = stack(synthesized, f"{env}-images")
    repositories = images["resource"]["aws_ecr_repository"]
    assert sorted(r["name"] for r in repositories.values()) == [
        f"infrakit-{env}-api",
        f"infrakit-{env}-worker",
    ]
    for repository in repositories.values():
        assert repository["image_tag_mutability"] == "IMMUTABLE"
        assert repository["image_scanning_configuration"]["scan_on_push"] is True
        assert repository["encryption_configuration"][0]["encryption_type"] == "KMS"
    assert images["terraform"]["backend"]["s3"]["key"] == f"infrakit/{env}-images.tfstate"
    assert set(images["output"]) == {"api_image_repository", "worker_image_repository"}


@pytest.mark.parametrize("env", CLOUD)
def test_the_environment_finds_the_repositories_by_the_names_the_images_stack_gives(
    synthesized: Path, env: str
) -> None:
    environment = stack(synthesized, env)
    assert "aws_ecr_repository" not in environment.get("resource", {})
    looked_up = sorted(d["name"] for d in environment["data"]["aws_ecr_repository"].values())
    created = sorted(
        r["name"] for r in stack(synthesized, f"{env}-images")["resource"]["aws_ecr_repository"].values()
    )
    assert looked_up == created
    for definition in environment["resource"]["aws_ecs_task_definition"].values():
        (container,) = json.loads(definition["container_definitions"])
        assert container["image"].startswith("${data.aws_ecr_repository.")
        assert container["image"].endswith(":0.1.0")  # the image_tag in config: a new tag, a new revision


def test_local_has_no_images_stack(synthesized: Path) -> None:
    assert not (synthesized / "stacks" / "local-images").exists()
