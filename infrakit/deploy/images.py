"""Before the services deploy: every image the environment names is in its ECR repository.

A service whose image is missing cannot start (CannotPullContainer), and on a first deploy the
circuit breaker has nothing to roll back to. So the check runs between the images stack and the
environment, and a missing image stops the deploy with the commands that push it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infrakit.config import Environment
from infrakit.stacks.names import image_services, images_stack_name, repository_name


class ImageCheckError(Exception):
    """The check itself could not run (credentials, permissions); the message says what to fix."""


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


def missing_images(environment: Environment, ecr: Any) -> list[MissingImage]:
    """Each configured image that ECR does not have. `ecr` is a boto3 ECR client."""
    missing = []
    for service in image_services(environment):
        config = getattr(environment.config, service)
        name = repository_name(environment, service)
        if config.image_digest:
            key, image_id = f"{service}.image_digest", {"imageDigest": config.image_digest}
        else:
            key, image_id = f"{service}.image_tag", {"imageTag": config.image_tag}
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
