"""Every import of the CDK and of its prebuilt providers, in this one file.

cdktf is archived, and CDK Terrain (cdktn) continues it under other package names. Everything
else in infrakit, its tests and its policies imports the CDK from here (`from infrakit.cdk import
Vpc`), so that a move to another release or fork changes this file and the pins, nothing else.

Each name is imported on first use, from its own provider submodule: a stack loads only the
bindings it builds, and a local synth never loads the AWS bindings (infrakit/provider_imports.py
keeps each provider package's own __init__ from importing all of them). Type checkers read the
imports under TYPE_CHECKING instead.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cdktf import (
        App as App,
    )
    from cdktf import (
        Fn as Fn,
    )
    from cdktf import (
        LocalBackend as LocalBackend,
    )
    from cdktf import (
        Precondition as Precondition,
    )
    from cdktf import (
        S3Backend as S3Backend,
    )
    from cdktf import (
        TerraformDataSource as TerraformDataSource,
    )
    from cdktf import (
        TerraformLocal as TerraformLocal,
    )
    from cdktf import (
        TerraformOutput as TerraformOutput,
    )
    from cdktf import (
        TerraformProvider as TerraformProvider,
    )
    from cdktf import (
        TerraformProviderGeneratorMetadata as TerraformProviderGeneratorMetadata,
    )
    from cdktf import (
        TerraformResource as TerraformResource,
    )
    from cdktf import (
        TerraformResourceLifecycle as TerraformResourceLifecycle,
    )
    from cdktf import (
        TerraformStack as TerraformStack,
    )
    from cdktf import (
        TerraformVariable as TerraformVariable,
    )
    from cdktf import (
        Testing as Testing,
    )
    from cdktf import (
        Token as Token,
    )
    from cdktf_cdktf_provider_aws.acm_certificate import (
        AcmCertificate as AcmCertificate,
    )
    from cdktf_cdktf_provider_aws.acm_certificate import (
        AcmCertificateOptions as AcmCertificateOptions,
    )
    from cdktf_cdktf_provider_aws.acm_certificate_validation import (
        AcmCertificateValidation as AcmCertificateValidation,
    )
    from cdktf_cdktf_provider_aws.appautoscaling_policy import (
        AppautoscalingPolicy as AppautoscalingPolicy,
    )
    from cdktf_cdktf_provider_aws.appautoscaling_policy import (
        AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration as AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    )
    from cdktf_cdktf_provider_aws.appautoscaling_policy import (
        AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification as AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
    )
    from cdktf_cdktf_provider_aws.appautoscaling_target import (
        AppautoscalingTarget as AppautoscalingTarget,
    )
    from cdktf_cdktf_provider_aws.cloudwatch_dashboard import (
        CloudwatchDashboard as CloudwatchDashboard,
    )
    from cdktf_cdktf_provider_aws.cloudwatch_log_group import (
        CloudwatchLogGroup as CloudwatchLogGroup,
    )
    from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
        CloudwatchLogMetricFilter as CloudwatchLogMetricFilter,
    )
    from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
        CloudwatchLogMetricFilterMetricTransformation as CloudwatchLogMetricFilterMetricTransformation,
    )
    from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
        CloudwatchMetricAlarm as CloudwatchMetricAlarm,
    )
    from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
        CloudwatchMetricAlarmMetricQuery as CloudwatchMetricAlarmMetricQuery,
    )
    from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
        CloudwatchMetricAlarmMetricQueryMetric as CloudwatchMetricAlarmMetricQueryMetric,
    )
    from cdktf_cdktf_provider_aws.data_aws_caller_identity import (
        DataAwsCallerIdentity as DataAwsCallerIdentity,
    )
    from cdktf_cdktf_provider_aws.data_aws_ecr_repository import (
        DataAwsEcrRepository as DataAwsEcrRepository,
    )
    from cdktf_cdktf_provider_aws.data_aws_elb_service_account import (
        DataAwsElbServiceAccount as DataAwsElbServiceAccount,
    )
    from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
        DataAwsIamPolicyDocument as DataAwsIamPolicyDocument,
    )
    from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
        DataAwsIamPolicyDocumentStatement as DataAwsIamPolicyDocumentStatement,
    )
    from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
        DataAwsIamPolicyDocumentStatementCondition as DataAwsIamPolicyDocumentStatementCondition,
    )
    from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
        DataAwsIamPolicyDocumentStatementPrincipals as DataAwsIamPolicyDocumentStatementPrincipals,
    )
    from cdktf_cdktf_provider_aws.data_aws_partition import (
        DataAwsPartition as DataAwsPartition,
    )
    from cdktf_cdktf_provider_aws.data_aws_region import (
        DataAwsRegion as DataAwsRegion,
    )
    from cdktf_cdktf_provider_aws.default_security_group import (
        DefaultSecurityGroup as DefaultSecurityGroup,
    )
    from cdktf_cdktf_provider_aws.ecr_repository import (
        EcrRepository as EcrRepository,
    )
    from cdktf_cdktf_provider_aws.ecr_repository import (
        EcrRepositoryEncryptionConfiguration as EcrRepositoryEncryptionConfiguration,
    )
    from cdktf_cdktf_provider_aws.ecr_repository import (
        EcrRepositoryImageScanningConfiguration as EcrRepositoryImageScanningConfiguration,
    )
    from cdktf_cdktf_provider_aws.ecs_cluster import (
        EcsCluster as EcsCluster,
    )
    from cdktf_cdktf_provider_aws.ecs_cluster import (
        EcsClusterConfiguration as EcsClusterConfiguration,
    )
    from cdktf_cdktf_provider_aws.ecs_cluster import (
        EcsClusterConfigurationExecuteCommandConfiguration as EcsClusterConfigurationExecuteCommandConfiguration,
    )
    from cdktf_cdktf_provider_aws.ecs_cluster import (
        EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration as EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration,
    )
    from cdktf_cdktf_provider_aws.ecs_cluster import (
        EcsClusterSetting as EcsClusterSetting,
    )
    from cdktf_cdktf_provider_aws.ecs_service import (
        EcsService as EcsService,
    )
    from cdktf_cdktf_provider_aws.ecs_service import (
        EcsServiceDeploymentCircuitBreaker as EcsServiceDeploymentCircuitBreaker,
    )
    from cdktf_cdktf_provider_aws.ecs_service import (
        EcsServiceLoadBalancer as EcsServiceLoadBalancer,
    )
    from cdktf_cdktf_provider_aws.ecs_service import (
        EcsServiceNetworkConfiguration as EcsServiceNetworkConfiguration,
    )
    from cdktf_cdktf_provider_aws.ecs_task_definition import (
        EcsTaskDefinition as EcsTaskDefinition,
    )
    from cdktf_cdktf_provider_aws.ecs_task_definition import (
        EcsTaskDefinitionRuntimePlatform as EcsTaskDefinitionRuntimePlatform,
    )
    from cdktf_cdktf_provider_aws.ecs_task_definition import (
        EcsTaskDefinitionVolume as EcsTaskDefinitionVolume,
    )
    from cdktf_cdktf_provider_aws.eip import (
        Eip as Eip,
    )
    from cdktf_cdktf_provider_aws.elasticache_parameter_group import (
        ElasticacheParameterGroup as ElasticacheParameterGroup,
    )
    from cdktf_cdktf_provider_aws.elasticache_parameter_group import (
        ElasticacheParameterGroupParameter as ElasticacheParameterGroupParameter,
    )
    from cdktf_cdktf_provider_aws.elasticache_replication_group import (
        ElasticacheReplicationGroup as ElasticacheReplicationGroup,
    )
    from cdktf_cdktf_provider_aws.elasticache_subnet_group import (
        ElasticacheSubnetGroup as ElasticacheSubnetGroup,
    )
    from cdktf_cdktf_provider_aws.flow_log import (
        FlowLog as FlowLog,
    )
    from cdktf_cdktf_provider_aws.iam_role import (
        IamRole as IamRole,
    )
    from cdktf_cdktf_provider_aws.iam_role_policy import (
        IamRolePolicy as IamRolePolicy,
    )
    from cdktf_cdktf_provider_aws.internet_gateway import (
        InternetGateway as InternetGateway,
    )
    from cdktf_cdktf_provider_aws.kms_alias import (
        KmsAlias as KmsAlias,
    )
    from cdktf_cdktf_provider_aws.kms_key import (
        KmsKey as KmsKey,
    )
    from cdktf_cdktf_provider_aws.lb import (
        Lb as Lb,
    )
    from cdktf_cdktf_provider_aws.lb import (
        LbAccessLogs as LbAccessLogs,
    )
    from cdktf_cdktf_provider_aws.lb_listener import (
        LbListener as LbListener,
    )
    from cdktf_cdktf_provider_aws.lb_listener import (
        LbListenerDefaultAction as LbListenerDefaultAction,
    )
    from cdktf_cdktf_provider_aws.lb_listener import (
        LbListenerDefaultActionRedirect as LbListenerDefaultActionRedirect,
    )
    from cdktf_cdktf_provider_aws.lb_target_group import (
        LbTargetGroup as LbTargetGroup,
    )
    from cdktf_cdktf_provider_aws.lb_target_group import (
        LbTargetGroupHealthCheck as LbTargetGroupHealthCheck,
    )
    from cdktf_cdktf_provider_aws.nat_gateway import (
        NatGateway as NatGateway,
    )
    from cdktf_cdktf_provider_aws.provider import (
        AwsProvider as AwsProvider,
    )
    from cdktf_cdktf_provider_aws.provider import (
        AwsProviderDefaultTags as AwsProviderDefaultTags,
    )
    from cdktf_cdktf_provider_aws.route53_record import (
        Route53Record as Route53Record,
    )
    from cdktf_cdktf_provider_aws.route53_record import (
        Route53RecordAlias as Route53RecordAlias,
    )
    from cdktf_cdktf_provider_aws.route_table import (
        RouteTable as RouteTable,
    )
    from cdktf_cdktf_provider_aws.route_table import (
        RouteTableRoute as RouteTableRoute,
    )
    from cdktf_cdktf_provider_aws.route_table_association import (
        RouteTableAssociation as RouteTableAssociation,
    )
    from cdktf_cdktf_provider_aws.s3_bucket import (
        S3Bucket as S3Bucket,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
        S3BucketLifecycleConfiguration as S3BucketLifecycleConfiguration,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
        S3BucketLifecycleConfigurationRule as S3BucketLifecycleConfigurationRule,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload as S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
        S3BucketLifecycleConfigurationRuleExpiration as S3BucketLifecycleConfigurationRuleExpiration,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
        S3BucketLifecycleConfigurationRuleFilter as S3BucketLifecycleConfigurationRuleFilter,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration as S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
        S3BucketOwnershipControls as S3BucketOwnershipControls,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
        S3BucketOwnershipControlsRule as S3BucketOwnershipControlsRule,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_policy import (
        S3BucketPolicy as S3BucketPolicy,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import (
        S3BucketPublicAccessBlock as S3BucketPublicAccessBlock,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
        S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfigurationA,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
        S3BucketServerSideEncryptionConfigurationRuleA as S3BucketServerSideEncryptionConfigurationRuleA,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA as S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
        S3BucketVersioningA as S3BucketVersioningA,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
        S3BucketVersioningVersioningConfiguration as S3BucketVersioningVersioningConfiguration,
    )
    from cdktf_cdktf_provider_aws.secretsmanager_secret import (
        SecretsmanagerSecret as SecretsmanagerSecret,
    )
    from cdktf_cdktf_provider_aws.secretsmanager_secret_version import (
        SecretsmanagerSecretVersion as SecretsmanagerSecretVersion,
    )
    from cdktf_cdktf_provider_aws.security_group import (
        SecurityGroup as SecurityGroup,
    )
    from cdktf_cdktf_provider_aws.sns_topic import (
        SnsTopic as SnsTopic,
    )
    from cdktf_cdktf_provider_aws.sns_topic_subscription import (
        SnsTopicSubscription as SnsTopicSubscription,
    )
    from cdktf_cdktf_provider_aws.subnet import (
        Subnet as Subnet,
    )
    from cdktf_cdktf_provider_aws.vpc import (
        Vpc as Vpc,
    )
    from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import (
        VpcSecurityGroupEgressRule as VpcSecurityGroupEgressRule,
    )
    from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
        VpcSecurityGroupIngressRule as VpcSecurityGroupIngressRule,
    )
    from cdktf_cdktf_provider_aws.wafv2_web_acl import (
        Wafv2WebAcl as Wafv2WebAcl,
    )
    from cdktf_cdktf_provider_aws.wafv2_web_acl import (
        Wafv2WebAclDefaultAction as Wafv2WebAclDefaultAction,
    )
    from cdktf_cdktf_provider_aws.wafv2_web_acl import (
        Wafv2WebAclDefaultActionAllow as Wafv2WebAclDefaultActionAllow,
    )
    from cdktf_cdktf_provider_aws.wafv2_web_acl import (
        Wafv2WebAclRule as Wafv2WebAclRule,
    )
    from cdktf_cdktf_provider_aws.wafv2_web_acl import (
        Wafv2WebAclRuleAction as Wafv2WebAclRuleAction,
    )
    from cdktf_cdktf_provider_aws.wafv2_web_acl import (
        Wafv2WebAclRuleActionBlock as Wafv2WebAclRuleActionBlock,
    )
    from cdktf_cdktf_provider_aws.wafv2_web_acl import (
        Wafv2WebAclRuleOverrideAction as Wafv2WebAclRuleOverrideAction,
    )
    from cdktf_cdktf_provider_aws.wafv2_web_acl import (
        Wafv2WebAclRuleOverrideActionCount as Wafv2WebAclRuleOverrideActionCount,
    )
    from cdktf_cdktf_provider_aws.wafv2_web_acl import (
        Wafv2WebAclRuleOverrideActionNone as Wafv2WebAclRuleOverrideActionNone,
    )
    from cdktf_cdktf_provider_aws.wafv2_web_acl import (
        Wafv2WebAclRuleVisibilityConfig as Wafv2WebAclRuleVisibilityConfig,
    )
    from cdktf_cdktf_provider_aws.wafv2_web_acl import (
        Wafv2WebAclVisibilityConfig as Wafv2WebAclVisibilityConfig,
    )
    from cdktf_cdktf_provider_aws.wafv2_web_acl_association import (
        Wafv2WebAclAssociation as Wafv2WebAclAssociation,
    )
    from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
        Wafv2WebAclLoggingConfiguration as Wafv2WebAclLoggingConfiguration,
    )
    from cdktf_cdktf_provider_docker.container import (
        Container as Container,
    )
    from cdktf_cdktf_provider_docker.container import (
        ContainerCapabilities as ContainerCapabilities,
    )
    from cdktf_cdktf_provider_docker.container import (
        ContainerHealthcheck as ContainerHealthcheck,
    )
    from cdktf_cdktf_provider_docker.container import (
        ContainerLabels as ContainerLabels,
    )
    from cdktf_cdktf_provider_docker.container import (
        ContainerNetworksAdvanced as ContainerNetworksAdvanced,
    )
    from cdktf_cdktf_provider_docker.container import (
        ContainerPorts as ContainerPorts,
    )
    from cdktf_cdktf_provider_docker.container import (
        ContainerVolumes as ContainerVolumes,
    )
    from cdktf_cdktf_provider_docker.image import (
        Image as Image,
    )
    from cdktf_cdktf_provider_docker.network import (
        Network as Network,
    )
    from cdktf_cdktf_provider_docker.provider import (
        DockerProvider as DockerProvider,
    )
    from cdktf_cdktf_provider_docker.volume import (
        Volume as Volume,
    )
    from cdktf_cdktf_provider_random.id import (
        Id as Id,
    )
    from cdktf_cdktf_provider_random.password import (
        Password as Password,
    )
    from cdktf_cdktf_provider_random.provider import (
        RandomProvider as RandomProvider,
    )

# The module that defines each name, grouped by module: the next release or fork renames these.
_MODULES: dict[str, tuple[str, ...]] = {
    "cdktf": (
        "App",
        "Fn",
        "LocalBackend",
        "Precondition",
        "S3Backend",
        "TerraformDataSource",
        "TerraformLocal",
        "TerraformOutput",
        "TerraformProvider",
        "TerraformProviderGeneratorMetadata",
        "TerraformResource",
        "TerraformResourceLifecycle",
        "TerraformStack",
        "TerraformVariable",
        "Testing",
        "Token",
    ),
    "cdktf_cdktf_provider_aws.acm_certificate": (
        "AcmCertificate",
        "AcmCertificateOptions",
    ),
    "cdktf_cdktf_provider_aws.acm_certificate_validation": ("AcmCertificateValidation",),
    "cdktf_cdktf_provider_aws.appautoscaling_policy": (
        "AppautoscalingPolicy",
        "AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration",
        "AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification",
    ),
    "cdktf_cdktf_provider_aws.appautoscaling_target": ("AppautoscalingTarget",),
    "cdktf_cdktf_provider_aws.cloudwatch_dashboard": ("CloudwatchDashboard",),
    "cdktf_cdktf_provider_aws.cloudwatch_log_group": ("CloudwatchLogGroup",),
    "cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter": (
        "CloudwatchLogMetricFilter",
        "CloudwatchLogMetricFilterMetricTransformation",
    ),
    "cdktf_cdktf_provider_aws.cloudwatch_metric_alarm": (
        "CloudwatchMetricAlarm",
        "CloudwatchMetricAlarmMetricQuery",
        "CloudwatchMetricAlarmMetricQueryMetric",
    ),
    "cdktf_cdktf_provider_aws.data_aws_caller_identity": ("DataAwsCallerIdentity",),
    "cdktf_cdktf_provider_aws.data_aws_ecr_repository": ("DataAwsEcrRepository",),
    "cdktf_cdktf_provider_aws.data_aws_elb_service_account": ("DataAwsElbServiceAccount",),
    "cdktf_cdktf_provider_aws.data_aws_iam_policy_document": (
        "DataAwsIamPolicyDocument",
        "DataAwsIamPolicyDocumentStatement",
        "DataAwsIamPolicyDocumentStatementCondition",
        "DataAwsIamPolicyDocumentStatementPrincipals",
    ),
    "cdktf_cdktf_provider_aws.data_aws_partition": ("DataAwsPartition",),
    "cdktf_cdktf_provider_aws.data_aws_region": ("DataAwsRegion",),
    "cdktf_cdktf_provider_aws.default_security_group": ("DefaultSecurityGroup",),
    "cdktf_cdktf_provider_aws.ecr_repository": (
        "EcrRepository",
        "EcrRepositoryEncryptionConfiguration",
        "EcrRepositoryImageScanningConfiguration",
    ),
    "cdktf_cdktf_provider_aws.ecs_cluster": (
        "EcsCluster",
        "EcsClusterConfiguration",
        "EcsClusterConfigurationExecuteCommandConfiguration",
        "EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration",
        "EcsClusterSetting",
    ),
    "cdktf_cdktf_provider_aws.ecs_service": (
        "EcsService",
        "EcsServiceDeploymentCircuitBreaker",
        "EcsServiceLoadBalancer",
        "EcsServiceNetworkConfiguration",
    ),
    "cdktf_cdktf_provider_aws.ecs_task_definition": (
        "EcsTaskDefinition",
        "EcsTaskDefinitionRuntimePlatform",
        "EcsTaskDefinitionVolume",
    ),
    "cdktf_cdktf_provider_aws.eip": ("Eip",),
    "cdktf_cdktf_provider_aws.elasticache_parameter_group": (
        "ElasticacheParameterGroup",
        "ElasticacheParameterGroupParameter",
    ),
    "cdktf_cdktf_provider_aws.elasticache_replication_group": ("ElasticacheReplicationGroup",),
    "cdktf_cdktf_provider_aws.elasticache_subnet_group": ("ElasticacheSubnetGroup",),
    "cdktf_cdktf_provider_aws.flow_log": ("FlowLog",),
    "cdktf_cdktf_provider_aws.iam_role": ("IamRole",),
    "cdktf_cdktf_provider_aws.iam_role_policy": ("IamRolePolicy",),
    "cdktf_cdktf_provider_aws.internet_gateway": ("InternetGateway",),
    "cdktf_cdktf_provider_aws.kms_alias": ("KmsAlias",),
    "cdktf_cdktf_provider_aws.kms_key": ("KmsKey",),
    "cdktf_cdktf_provider_aws.lb": (
        "Lb",
        "LbAccessLogs",
    ),
    "cdktf_cdktf_provider_aws.lb_listener": (
        "LbListener",
        "LbListenerDefaultAction",
        "LbListenerDefaultActionRedirect",
    ),
    "cdktf_cdktf_provider_aws.lb_target_group": (
        "LbTargetGroup",
        "LbTargetGroupHealthCheck",
    ),
    "cdktf_cdktf_provider_aws.nat_gateway": ("NatGateway",),
    "cdktf_cdktf_provider_aws.provider": (
        "AwsProvider",
        "AwsProviderDefaultTags",
    ),
    "cdktf_cdktf_provider_aws.route53_record": (
        "Route53Record",
        "Route53RecordAlias",
    ),
    "cdktf_cdktf_provider_aws.route_table": (
        "RouteTable",
        "RouteTableRoute",
    ),
    "cdktf_cdktf_provider_aws.route_table_association": ("RouteTableAssociation",),
    "cdktf_cdktf_provider_aws.s3_bucket": ("S3Bucket",),
    "cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration": (
        "S3BucketLifecycleConfiguration",
        "S3BucketLifecycleConfigurationRule",
        "S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload",
        "S3BucketLifecycleConfigurationRuleExpiration",
        "S3BucketLifecycleConfigurationRuleFilter",
        "S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration",
    ),
    "cdktf_cdktf_provider_aws.s3_bucket_ownership_controls": (
        "S3BucketOwnershipControls",
        "S3BucketOwnershipControlsRule",
    ),
    "cdktf_cdktf_provider_aws.s3_bucket_policy": ("S3BucketPolicy",),
    "cdktf_cdktf_provider_aws.s3_bucket_public_access_block": ("S3BucketPublicAccessBlock",),
    "cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration": (
        "S3BucketServerSideEncryptionConfigurationA",
        "S3BucketServerSideEncryptionConfigurationRuleA",
        "S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA",
    ),
    "cdktf_cdktf_provider_aws.s3_bucket_versioning": (
        "S3BucketVersioningA",
        "S3BucketVersioningVersioningConfiguration",
    ),
    "cdktf_cdktf_provider_aws.secretsmanager_secret": ("SecretsmanagerSecret",),
    "cdktf_cdktf_provider_aws.secretsmanager_secret_version": ("SecretsmanagerSecretVersion",),
    "cdktf_cdktf_provider_aws.security_group": ("SecurityGroup",),
    "cdktf_cdktf_provider_aws.sns_topic": ("SnsTopic",),
    "cdktf_cdktf_provider_aws.sns_topic_subscription": ("SnsTopicSubscription",),
    "cdktf_cdktf_provider_aws.subnet": ("Subnet",),
    "cdktf_cdktf_provider_aws.vpc": ("Vpc",),
    "cdktf_cdktf_provider_aws.vpc_security_group_egress_rule": ("VpcSecurityGroupEgressRule",),
    "cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule": ("VpcSecurityGroupIngressRule",),
    "cdktf_cdktf_provider_aws.wafv2_web_acl": (
        "Wafv2WebAcl",
        "Wafv2WebAclDefaultAction",
        "Wafv2WebAclDefaultActionAllow",
        "Wafv2WebAclRule",
        "Wafv2WebAclRuleAction",
        "Wafv2WebAclRuleActionBlock",
        "Wafv2WebAclRuleOverrideAction",
        "Wafv2WebAclRuleOverrideActionCount",
        "Wafv2WebAclRuleOverrideActionNone",
        "Wafv2WebAclRuleVisibilityConfig",
        "Wafv2WebAclVisibilityConfig",
    ),
    "cdktf_cdktf_provider_aws.wafv2_web_acl_association": ("Wafv2WebAclAssociation",),
    "cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration": ("Wafv2WebAclLoggingConfiguration",),
    "cdktf_cdktf_provider_docker.container": (
        "Container",
        "ContainerCapabilities",
        "ContainerHealthcheck",
        "ContainerLabels",
        "ContainerNetworksAdvanced",
        "ContainerPorts",
        "ContainerVolumes",
    ),
    "cdktf_cdktf_provider_docker.image": ("Image",),
    "cdktf_cdktf_provider_docker.network": ("Network",),
    "cdktf_cdktf_provider_docker.provider": ("DockerProvider",),
    "cdktf_cdktf_provider_docker.volume": ("Volume",),
    "cdktf_cdktf_provider_random.id": ("Id",),
    "cdktf_cdktf_provider_random.password": ("Password",),
    "cdktf_cdktf_provider_random.provider": ("RandomProvider",),
}
SOURCES = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    """Import `name` from its module on first use, and keep it here for the next one."""
    try:
        module = SOURCES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
