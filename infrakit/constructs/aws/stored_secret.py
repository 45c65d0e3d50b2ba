"""A value kept in Secrets Manager, so tasks receive it as a secret, never as plain environment."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from infrakit.constructs.aws.encryption_key import EnvironmentKey


class StoredSecret(Construct):
    def __init__(self, scope: Construct, id_: str, *, name: str, value: str, key: EnvironmentKey):
        super().__init__(scope, id_)
        secret = SecretsmanagerSecret(
            self,
            "secret",
            name=name,
            kms_key_id=key.arn,
            description="Managed by infrakit; the value comes from Terraform at apply time.",
            recovery_window_in_days=7,
        )
        SecretsmanagerSecretVersion(self, "value", secret_id=secret.id, secret_string=value)
        self.arn = secret.arn
