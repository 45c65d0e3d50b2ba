"""The environment's customer-managed KMS key: logs, secrets, Redis and alarm notifications are
encrypted with it. The images stack has a key of its own, for its ECR repositories alone."""

from __future__ import annotations

import json

from constructs import Construct

from infrakit.cdk import DataAwsCallerIdentity, DataAwsPartition, DataAwsRegion, KmsAlias, KmsKey


class EnvironmentKey(Construct):
    """One rotating CMK per environment.

    The account root may administer it (so IAM policies can grant use, as AWS recommends);
    CloudWatch Logs may use it only for this account's log groups, which it needs to
    encrypt them; and CloudWatch may use it only for this account's alarms, to publish to the
    encrypted alarm topic.

    `images_only`: the key of the `<env>-images` stack, which encrypts ECR repositories and
    nothing else. It keeps the account's statement alone: ECR uses the key through grants it
    creates with each repository (ECR user guide, "Encryption at rest"), which the account's
    statement lets the deployer create, and no log group or alarm topic uses this key.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        deletion_window_days: int,
        images_only: bool = False,
    ):
        super().__init__(scope, id_)
        account = DataAwsCallerIdentity(self, "account").account_id
        self.region = DataAwsRegion(self, "region").region
        self.partition = DataAwsPartition(self, "partition").partition
        self.account_id = account
        cloudwatch_alarms = f"arn:{self.partition}:cloudwatch:{self.region}:{account}:alarm"
        # A key policy is a resource policy: "Resource": "*" means this key. It is written on the
        # key itself rather than as an aws_iam_policy_document, whose scanners assume an
        # identity policy and read "*" as every resource in the account.
        administers = {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{self.partition}:iam::{account}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
        # What the environment's services need of the key; the images key serves ECR alone.
        uses = [
            {
                "Sid": "CloudWatchLogsEncrypts",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{self.region}.amazonaws.com"},
                "Action": [
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{self.partition}:logs:{self.region}:{account}:log-group:*"
                        )
                    }
                },
            },
            {
                # The alarm topic is encrypted with this key. CloudWatch publishes to it as its own
                # service principal, and without these two actions SNS drops every notification
                # while the alarms still show as sent (SNS docs, "compatibility between event
                # sources from AWS services and encrypted topics"). The conditions keep it to this
                # account's alarms in this region, against the confused-deputy problem.
                "Sid": "CloudWatchAlarmsPublishToEncryptedTopic",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": f"{cloudwatch_alarms}:*"},
                },
            },
        ]
        policy = {
            "Version": "2012-10-17",
            "Statement": [administers] if images_only else [administers, *uses],
        }
        self.key = KmsKey(
            self,
            "key",
            description=f"{name}: ECR images" if images_only else f"{name}: logs, secrets, cache and images",
            enable_key_rotation=True,
            deletion_window_in_days=deletion_window_days,
            policy=json.dumps(policy, sort_keys=True),
        )
        KmsAlias(self, "alias", name=f"alias/{name}", target_key_id=self.key.key_id)
        self.arn = self.key.arn
