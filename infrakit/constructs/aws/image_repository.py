"""An ECR repository per app service: immutable tags, scanned on push, encrypted with the CMK."""

from __future__ import annotations

from constructs import Construct

from infrakit.cdk import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from infrakit.constructs.aws.encryption_key import EnvironmentKey


class ImageRepository(Construct):
    def __init__(self, scope: Construct, id_: str, *, name: str, key: EnvironmentKey, protect: bool):
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
        self.arn = repository.arn
        self.url = repository.repository_url
