"""What every AWS-backed service of an environment shares: provider, key and network."""

from __future__ import annotations

from constructs import Construct

from infrakit.cdk import AwsProvider, AwsProviderDefaultTags
from infrakit.config.aws import AwsSettings
from infrakit.constructs.aws.encryption_key import EnvironmentKey
from infrakit.constructs.aws.network import PrivateNetwork
from infrakit.constructs.protection import prevent_destroy


class AwsFoundation(Construct):
    def __init__(self, scope: Construct, id_: str, *, name: str, settings: AwsSettings, tags: dict[str, str]):
        super().__init__(scope, id_)
        AwsProvider(
            self, "provider", region=settings.region, default_tags=[AwsProviderDefaultTags(tags=tags)]
        )
        self.settings = settings
        self.key = EnvironmentKey(
            self, "key", name=name, deletion_window_days=settings.kms_deletion_window_days
        )
        prevent_destroy(self.key.key, when=settings.deletion_protection)
        self.network = PrivateNetwork(self, "network", name=name, settings=settings, key=self.key)
