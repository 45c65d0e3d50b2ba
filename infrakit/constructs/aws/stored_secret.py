"""A value kept in Secrets Manager, so tasks receive it as a secret, never as plain environment."""

from __future__ import annotations

from functools import cached_property

from constructs import Construct

from infrakit.cdk import SecretsmanagerSecret, SecretsmanagerSecretVersion
from infrakit.constructs.aws.encryption_key import EnvironmentKey

# Secrets Manager keeps a deleted secret's name for its recovery window: re-creating an environment
# within it fails with "already scheduled for deletion". Protected environments keep the window, to
# undo a mistaken destroy; disposable ones (deletion_protection = false) delete at once.
RECOVERY_WINDOW_DAYS = 7


class StoredSecret(Construct):
    """`arn` names the secret; `version` is what holds its value; `value_from` names that version.

    A reader that names the secret by `arn` alone is not ordered after `version`: Terraform may
    start it before the value exists, so such a reader must depend on `version`.
    """

    def __init__(
        self, scope: Construct, id_: str, *, name: str, value: str, key: EnvironmentKey, protect: bool
    ):
        super().__init__(scope, id_)
        secret = SecretsmanagerSecret(
            self,
            "secret",
            name=name,
            kms_key_id=key.arn,
            description="Managed by infrakit; the value comes from Terraform at apply time.",
            recovery_window_in_days=RECOVERY_WINDOW_DAYS if protect else 0,
        )
        self.version = SecretsmanagerSecretVersion(self, "value", secret_id=secret.id, secret_string=value)
        self.arn: str = secret.arn

    @cached_property
    def value_from(self) -> str:
        """An ECS `valueFrom` pinned to this value's version: `<arn>:<json-key>:<version-stage>:
        <version-id>`, with the first two empty (ECS developer guide, "Pass Secrets Manager secrets
        through Amazon ECS environment variables"; aws-cdk's `Secret.fromSecretsManagerVersion`
        writes the same). A new value is a new `aws_secretsmanager_secret_version` (its
        `secret_string` forces replacement, hashicorp/aws secret_version.go) with a new version id,
        so a task definition that reads it gets a new revision and ECS rolls the tasks onto the new
        value; and tasks started from an older revision, as in a rollback, still read the value it
        was made with."""
        return f"{self.arn}:::{self.version.version_id}"
