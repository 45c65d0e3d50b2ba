"""The S3 bucket receiving the load balancer's access logs."""

from __future__ import annotations

from constructs import Construct

from infrakit.cdk import (
    DataAwsElbServiceAccount,
    DataAwsIamPolicyDocument,
    S3Bucket,
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
    S3BucketPolicy,
    S3BucketPublicAccessBlock,
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from infrakit.constructs.aws.encryption_key import EnvironmentKey
from infrakit.constructs.aws.policy import condition, principals, statement
from infrakit.constructs.protection import prevent_destroy

PREFIX = "alb"
# Regions that launched before August 2022 deliver ALB logs from a per-region Elastic Load Balancing
# account (data.aws_elb_service_account knows them). Every region since, and every future one, uses
# the log delivery service principal instead.
ELB_ACCOUNT_REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        "af-south-1",
        "ap-east-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
        "ca-central-1",
        "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-north-1",
        "me-south-1",
        "sa-east-1",
        "us-gov-east-1", "us-gov-west-1",
    }
)  # fmt: skip
LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"


class AccessLogBucket(Construct):
    """Private, versioned, TLS-only, expiring after the log retention period.

    `policy` lets the load balancer write; enabling access logs before it exists fails.

    Encrypted with SSE-S3: ALB access log delivery does not support SSE-KMS.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        key: EnvironmentKey,
        region: str,
        retention_days: int,
        protect: bool,
    ):
        super().__init__(scope, id_)
        bucket = S3Bucket(self, "bucket", bucket=name, force_destroy=not protect)
        prevent_destroy(bucket, when=protect)
        self.name = bucket.bucket
        bucket_id, bucket_arn = bucket.id, bucket.arn
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=bucket_id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        S3BucketPublicAccessBlock(
            self,
            "public-access",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketVersioningA(
            self,
            "versioning",
            bucket=bucket_id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=bucket_id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=(
                        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                            sse_algorithm="AES256"
                        )
                    )
                )
            ],
        )
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=bucket_id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-logs",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=retention_days)],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=30)
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=7
                        )
                    ],
                )
            ],
        )
        if region in ELB_ACCOUNT_REGIONS:
            writer = principals("AWS", DataAwsElbServiceAccount(self, "elb-account").arn)
        else:
            writer = principals("Service", LOG_DELIVERY_SERVICE)
        policy = DataAwsIamPolicyDocument(
            self,
            "policy",
            statement=[
                statement(
                    ["s3:PutObject"],
                    [f"{bucket_arn}/{PREFIX}/AWSLogs/{key.account_id}/*"],
                    sid="LoadBalancerWritesLogs",
                    principals=writer,
                ),
                statement(
                    ["s3:*"],
                    [bucket_arn, f"{bucket_arn}/*"],
                    sid="TlsOnly",
                    effect="Deny",
                    principals=principals("*", "*"),
                    conditions=condition("Bool", "aws:SecureTransport", "false"),
                ),
            ],
        )
        # ELB checks that it may write here when access logging is enabled ("Access Denied for
        # bucket"): a load balancer naming this bucket must depend on this policy.
        self.policy = S3BucketPolicy(self, "bucket-policy", bucket=bucket_id, policy=policy.json)
