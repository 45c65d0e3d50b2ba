"""An ECR repository per app service: immutable tags, scanned on push, encrypted with the images key,
and a lifecycle policy that keeps it from holding every image for ever."""

from __future__ import annotations

import json
from typing import Any

from constructs import Construct

from infrakit.cdk import (
    EcrLifecyclePolicy,
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from infrakit.constructs.aws.encryption_key import EnvironmentKey

# Untagged images are expired this many days after their push. Nothing here deploys an untagged
# image by itself: a service names an image by tag, or by a digest next to a tag.
UNTAGGED_DAYS = 7


def lifecycle_policy(deployed_tag: str, keep_tagged: int) -> dict[str, Any]:
    """The repository's lifecycle policy: the image the environment file names is never expired, the
    newest `keep_tagged` tagged images are kept, and untagged images go after UNTAGGED_DAYS days.

    How ECR applies it (ECR user guide, "Lifecycle policies", "Lifecycle policy evaluation rules"
    and "Lifecycle policy properties"):

    - Rules apply in `rulePriority` order, lowest first, and an image that matches the tagging
      requirements of a rule cannot be expired by a rule with a lower priority. Rule 1 selects
      exactly the deployed tag (a `tagPatternList` entry without a wildcard), and its count of 1
      never expires the single image that holds it (tags are immutable), so no later rule may
      expire that image, however old it is.
    - `imageCountMoreThan` sorts the images a rule selects from youngest to oldest by push time and
      expires those past the count: rule 3 keeps the `keep_tagged` most recently pushed tagged
      images. It counts by push time, not by deploy time, and knows nothing of task definitions.
    - `sinceImagePushed` expires images older than `countNumber` days: rule 2, untagged images.

    What it does not protect: the tag that ran before the current one is kept only while it is
    among the newest `keep_tagged` pushes. A circuit-breaker or alarm rollback returns to it, and so
    does setting `image_tag` back to it; if more than `keep_tagged` newer images were pushed since,
    ECR may have expired it (the image check before deploy then stops a manual rollback, naming the
    missing tag). An `image_digest` is protected only through the tag it carries.
    """
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"keep {deployed_tag}, the image the environment file names",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": [deployed_tag],
                    "countType": "imageCountMoreThan",
                    "countNumber": 1,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"expire untagged images {UNTAGGED_DAYS} days after their push",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": UNTAGGED_DAYS,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 3,
                "description": f"keep the {keep_tagged} most recently pushed tagged images",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_tagged,
                },
                "action": {"type": "expire"},
            },
        ]
    }


class ImageRepository(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        key: EnvironmentKey,
        protect: bool,
        deployed_tag: str,
        keep_tagged: int,
    ):
        super().__init__(scope, id_)
        self.repository = repository = EcrRepository(
            self,
            "repository",
            name=name,
            image_tag_mutability="IMMUTABLE",  # a tag in config then names exactly one image
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[
                EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=key.arn)
            ],
            force_delete=not protect,
        )
        # Plain JSON, not jsonencode: tests and scanners read it as it is.
        EcrLifecyclePolicy(
            self,
            "lifecycle",
            repository=repository.name,
            policy=json.dumps(lifecycle_policy(deployed_tag, keep_tagged)),
        )
        self.arn = repository.arn
        self.url = repository.repository_url
