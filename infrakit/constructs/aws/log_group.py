"""CloudWatch log groups, always encrypted with the environment key and always with retention."""

from __future__ import annotations

from constructs import Construct

from infrakit.cdk import CloudwatchLogGroup
from infrakit.constructs.aws.encryption_key import EnvironmentKey


def encrypted_log_group(
    scope: Construct, id_: str, *, name: str, key: EnvironmentKey, retention_days: int
) -> CloudwatchLogGroup:
    return CloudwatchLogGroup(scope, id_, name=name, kms_key_id=key.arn, retention_in_days=retention_days)
