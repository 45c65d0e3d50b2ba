"""The S3 bucket receiving the load balancer's access logs."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_elb_service_account import DataAwsElbServiceAccount
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from infrakit.constructs.aws.encryption_key import EnvironmentKey
from infrakit.constructs.aws.policy import condition, principals, statement

PREFIX = "alb"


class AccessLogBucket(Construct):
    """Private, versioned, TLS-only, expiring after the log retention period.

    Encrypted with SSE-S3: ALB access log delivery does not support SSE-KMS.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        key: EnvironmentKey,
        retention_days: int,
        protect: bool,
    ):
        super().__init__(scope, id_)
        bucket = S3Bucket(self, "bucket", bucket=name, force_destroy=not protect)
        self.name = bucket.bucket
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        S3BucketPublicAccessBlock(
            self,
            "public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketVersioningA(
            self,
            "versioning",
            bucket=bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=bucket.id,
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
            bucket=bucket.id,
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
        load_balancers = DataAwsElbServiceAccount(self, "elb-account")
        policy = DataAwsIamPolicyDocument(
            self,
            "policy",
            statement=[
                statement(
                    ["s3:PutObject"],
                    [f"{bucket.arn}/{PREFIX}/AWSLogs/{key.account_id}/*"],
                    sid="LoadBalancerWritesLogs",
                    principals=principals("AWS", load_balancers.arn),
                ),
                statement(
                    ["s3:*"],
                    [bucket.arn, f"{bucket.arn}/*"],
                    sid="TlsOnly",
                    effect="Deny",
                    principals=principals("*", "*"),
                    conditions=condition("Bool", "aws:SecureTransport", "false"),
                ),
            ],
        )
        S3BucketPolicy(self, "bucket-policy", bucket=bucket.id, policy=policy.json)
