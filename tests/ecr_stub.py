"""What a stubbed ECR answers (the `ecr` fixture in tests/conftest.py is the stubbed client)."""

from __future__ import annotations

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
