"""Every import of the CDK and of its prebuilt providers, in this one file.

infrakit runs on CDK Terrain (cdktn), the maintained successor of the archived cdktf. Everything
else in infrakit, its tests and its policies imports the CDK from here (`from infrakit.cdk import
Vpc`), so that the next cdktn release changes this file and the pins, nothing else.

Each name is imported on first use, from its own provider submodule: a stack loads only the
bindings it builds, and a local synth never loads the AWS bindings (infrakit/jsii_node.py does the
same for the provider modules on the Node side). Type checkers read the imports under
TYPE_CHECKING instead.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cdktn import (
        App as App,
    )
    from cdktn import (
        Fn as Fn,
    )
    from cdktn import (
        LocalBackend as LocalBackend,
    )
    from cdktn import (
        Precondition as Precondition,
    )
    from cdktn import (
        S3Backend as S3Backend,
    )
    from cdktn import (
        TerraformDataSource as TerraformDataSource,
    )
    from cdktn import (
        TerraformLocal as TerraformLocal,
    )
    from cdktn import (
        TerraformOutput as TerraformOutput,
    )
    from cdktn import (
        TerraformProvider as TerraformProvider,
    )
    from cdktn import (
        TerraformProviderGeneratorMetadata as TerraformProviderGeneratorMetadata,
    )
    from cdktn import (
        TerraformResource as TerraformResource,
    )
    from cdktn import (
        TerraformResourceLifecycle as TerraformResourceLifecycle,
    )
    from cdktn import (
        TerraformStack as TerraformStack,
    )
    from cdktn import (
        TerraformVariable as TerraformVariable,
    )
    from cdktn import (
        Testing as Testing,
    )
    from cdktn import (
        Token as Token,
    )
    from cdktn_provider_aws.acm_certificate import (
        AcmCertificate as AcmCertificate,
    )
    from cdktn_provider_aws.acm_certificate import (
        AcmCertificateOptions as AcmCertificateOptions,
    )
    from cdktn_provider_aws.acm_certificate_validation import (
        AcmCertificateValidation as AcmCertificateValidation,
    )
    from cdktn_provider_aws.appautoscaling_policy import (
        AppautoscalingPolicy as AppautoscalingPolicy,
    )
    from cdktn_provider_aws.appautoscaling_policy import (
        AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration as AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    )
    from cdktn_provider_aws.appautoscaling_policy import (
        AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification as AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
    )
    from cdktn_provider_aws.appautoscaling_target import (
        AppautoscalingTarget as AppautoscalingTarget,
    )
    from cdktn_provider_aws.cloudwatch_dashboard import (
        CloudwatchDashboard as CloudwatchDashboard,
    )
    from cdktn_provider_aws.cloudwatch_log_group import (
        CloudwatchLogGroup as CloudwatchLogGroup,
    )
    from cdktn_provider_aws.cloudwatch_log_metric_filter import (
        CloudwatchLogMetricFilter as CloudwatchLogMetricFilter,
    )
    from cdktn_provider_aws.cloudwatch_log_metric_filter import (
        CloudwatchLogMetricFilterMetricTransformation as CloudwatchLogMetricFilterMetricTransformation,
    )
    from cdktn_provider_aws.cloudwatch_metric_alarm import (
        CloudwatchMetricAlarm as CloudwatchMetricAlarm,
    )
    from cdktn_provider_aws.cloudwatch_metric_alarm import (
        CloudwatchMetricAlarmMetricQuery as CloudwatchMetricAlarmMetricQuery,
    )
    from cdktn_provider_aws.cloudwatch_metric_alarm import (
        CloudwatchMetricAlarmMetricQueryMetric as CloudwatchMetricAlarmMetricQueryMetric,
    )
    from cdktn_provider_aws.data_aws_caller_identity import (
        DataAwsCallerIdentity as DataAwsCallerIdentity,
    )
    from cdktn_provider_aws.data_aws_ecr_repository import (
        DataAwsEcrRepository as DataAwsEcrRepository,
    )
    from cdktn_provider_aws.data_aws_elb_service_account import (
        DataAwsElbServiceAccount as DataAwsElbServiceAccount,
    )
    from cdktn_provider_aws.data_aws_iam_policy_document import (
        DataAwsIamPolicyDocument as DataAwsIamPolicyDocument,
    )
    from cdktn_provider_aws.data_aws_iam_policy_document import (
        DataAwsIamPolicyDocumentStatement as DataAwsIamPolicyDocumentStatement,
    )
    from cdktn_provider_aws.data_aws_iam_policy_document import (
        DataAwsIamPolicyDocumentStatementCondition as DataAwsIamPolicyDocumentStatementCondition,
    )
    from cdktn_provider_aws.data_aws_iam_policy_document import (
        DataAwsIamPolicyDocumentStatementPrincipals as DataAwsIamPolicyDocumentStatementPrincipals,
    )
    from cdktn_provider_aws.data_aws_partition import (
        DataAwsPartition as DataAwsPartition,
    )
    from cdktn_provider_aws.data_aws_region import (
        DataAwsRegion as DataAwsRegion,
    )
    from cdktn_provider_aws.default_security_group import (
        DefaultSecurityGroup as DefaultSecurityGroup,
    )
    from cdktn_provider_aws.ecr_lifecycle_policy import (
        EcrLifecyclePolicy as EcrLifecyclePolicy,
    )
    from cdktn_provider_aws.ecr_repository import (
        EcrRepository as EcrRepository,
    )
    from cdktn_provider_aws.ecr_repository import (
        EcrRepositoryEncryptionConfiguration as EcrRepositoryEncryptionConfiguration,
    )
    from cdktn_provider_aws.ecr_repository import (
        EcrRepositoryImageScanningConfiguration as EcrRepositoryImageScanningConfiguration,
    )
    from cdktn_provider_aws.ecs_cluster import (
        EcsCluster as EcsCluster,
    )
    from cdktn_provider_aws.ecs_cluster import (
        EcsClusterConfiguration as EcsClusterConfiguration,
    )
    from cdktn_provider_aws.ecs_cluster import (
        EcsClusterConfigurationExecuteCommandConfiguration as EcsClusterConfigurationExecuteCommandConfiguration,
    )
    from cdktn_provider_aws.ecs_cluster import (
        EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration as EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration,
    )
    from cdktn_provider_aws.ecs_cluster import (
        EcsClusterSetting as EcsClusterSetting,
    )
    from cdktn_provider_aws.ecs_service import (
        EcsService as EcsService,
    )
    from cdktn_provider_aws.ecs_service import (
        EcsServiceDeploymentCircuitBreaker as EcsServiceDeploymentCircuitBreaker,
    )
    from cdktn_provider_aws.ecs_service import (
        EcsServiceDeploymentConfiguration as EcsServiceDeploymentConfiguration,
    )
    from cdktn_provider_aws.ecs_service import (
        EcsServiceDeploymentConfigurationCanaryConfiguration as EcsServiceDeploymentConfigurationCanaryConfiguration,
    )
    from cdktn_provider_aws.ecs_service import (
        EcsServiceDeploymentController as EcsServiceDeploymentController,
    )
    from cdktn_provider_aws.ecs_service import (
        EcsServiceLoadBalancer as EcsServiceLoadBalancer,
    )
    from cdktn_provider_aws.ecs_service import (
        EcsServiceLoadBalancerAdvancedConfiguration as EcsServiceLoadBalancerAdvancedConfiguration,
    )
    from cdktn_provider_aws.ecs_service import (
        EcsServiceNetworkConfiguration as EcsServiceNetworkConfiguration,
    )
    from cdktn_provider_aws.ecs_service import (
        EcsServiceTimeouts as EcsServiceTimeouts,
    )
    from cdktn_provider_aws.ecs_task_definition import (
        EcsTaskDefinition as EcsTaskDefinition,
    )
    from cdktn_provider_aws.ecs_task_definition import (
        EcsTaskDefinitionRuntimePlatform as EcsTaskDefinitionRuntimePlatform,
    )
    from cdktn_provider_aws.ecs_task_definition import (
        EcsTaskDefinitionVolume as EcsTaskDefinitionVolume,
    )
    from cdktn_provider_aws.eip import (
        Eip as Eip,
    )
    from cdktn_provider_aws.elasticache_parameter_group import (
        ElasticacheParameterGroup as ElasticacheParameterGroup,
    )
    from cdktn_provider_aws.elasticache_parameter_group import (
        ElasticacheParameterGroupParameter as ElasticacheParameterGroupParameter,
    )
    from cdktn_provider_aws.elasticache_replication_group import (
        ElasticacheReplicationGroup as ElasticacheReplicationGroup,
    )
    from cdktn_provider_aws.elasticache_replication_group import (
        ElasticacheReplicationGroupLogDeliveryConfiguration as ElasticacheReplicationGroupLogDeliveryConfiguration,
    )
    from cdktn_provider_aws.elasticache_subnet_group import (
        ElasticacheSubnetGroup as ElasticacheSubnetGroup,
    )
    from cdktn_provider_aws.flow_log import (
        FlowLog as FlowLog,
    )
    from cdktn_provider_aws.iam_role import (
        IamRole as IamRole,
    )
    from cdktn_provider_aws.iam_role_policy import (
        IamRolePolicy as IamRolePolicy,
    )
    from cdktn_provider_aws.internet_gateway import (
        InternetGateway as InternetGateway,
    )
    from cdktn_provider_aws.kms_alias import (
        KmsAlias as KmsAlias,
    )
    from cdktn_provider_aws.kms_key import (
        KmsKey as KmsKey,
    )
    from cdktn_provider_aws.lb import (
        Lb as Lb,
    )
    from cdktn_provider_aws.lb import (
        LbAccessLogs as LbAccessLogs,
    )
    from cdktn_provider_aws.lb_listener import (
        LbListener as LbListener,
    )
    from cdktn_provider_aws.lb_listener import (
        LbListenerDefaultAction as LbListenerDefaultAction,
    )
    from cdktn_provider_aws.lb_listener import (
        LbListenerDefaultActionForward as LbListenerDefaultActionForward,
    )
    from cdktn_provider_aws.lb_listener import (
        LbListenerDefaultActionForwardTargetGroup as LbListenerDefaultActionForwardTargetGroup,
    )
    from cdktn_provider_aws.lb_listener import (
        LbListenerDefaultActionRedirect as LbListenerDefaultActionRedirect,
    )
    from cdktn_provider_aws.lb_listener_rule import (
        LbListenerRule as LbListenerRule,
    )
    from cdktn_provider_aws.lb_listener_rule import (
        LbListenerRuleAction as LbListenerRuleAction,
    )
    from cdktn_provider_aws.lb_listener_rule import (
        LbListenerRuleActionForward as LbListenerRuleActionForward,
    )
    from cdktn_provider_aws.lb_listener_rule import (
        LbListenerRuleActionForwardTargetGroup as LbListenerRuleActionForwardTargetGroup,
    )
    from cdktn_provider_aws.lb_listener_rule import (
        LbListenerRuleCondition as LbListenerRuleCondition,
    )
    from cdktn_provider_aws.lb_listener_rule import (
        LbListenerRuleConditionHttpHeader as LbListenerRuleConditionHttpHeader,
    )
    from cdktn_provider_aws.lb_listener_rule import (
        LbListenerRuleConditionPathPattern as LbListenerRuleConditionPathPattern,
    )
    from cdktn_provider_aws.lb_target_group import (
        LbTargetGroup as LbTargetGroup,
    )
    from cdktn_provider_aws.lb_target_group import (
        LbTargetGroupHealthCheck as LbTargetGroupHealthCheck,
    )
    from cdktn_provider_aws.nat_gateway import (
        NatGateway as NatGateway,
    )
    from cdktn_provider_aws.provider import (
        AwsProvider as AwsProvider,
    )
    from cdktn_provider_aws.provider import (
        AwsProviderDefaultTags as AwsProviderDefaultTags,
    )
    from cdktn_provider_aws.route53_record import (
        Route53Record as Route53Record,
    )
    from cdktn_provider_aws.route53_record import (
        Route53RecordAlias as Route53RecordAlias,
    )
    from cdktn_provider_aws.route_table import (
        RouteTable as RouteTable,
    )
    from cdktn_provider_aws.route_table import (
        RouteTableRoute as RouteTableRoute,
    )
    from cdktn_provider_aws.route_table_association import (
        RouteTableAssociation as RouteTableAssociation,
    )
    from cdktn_provider_aws.s3_bucket import (
        S3Bucket as S3Bucket,
    )
    from cdktn_provider_aws.s3_bucket_lifecycle_configuration import (
        S3BucketLifecycleConfiguration as S3BucketLifecycleConfiguration,
    )
    from cdktn_provider_aws.s3_bucket_lifecycle_configuration import (
        S3BucketLifecycleConfigurationRule as S3BucketLifecycleConfigurationRule,
    )
    from cdktn_provider_aws.s3_bucket_lifecycle_configuration import (
        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload as S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    )
    from cdktn_provider_aws.s3_bucket_lifecycle_configuration import (
        S3BucketLifecycleConfigurationRuleExpiration as S3BucketLifecycleConfigurationRuleExpiration,
    )
    from cdktn_provider_aws.s3_bucket_lifecycle_configuration import (
        S3BucketLifecycleConfigurationRuleFilter as S3BucketLifecycleConfigurationRuleFilter,
    )
    from cdktn_provider_aws.s3_bucket_lifecycle_configuration import (
        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration as S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    )
    from cdktn_provider_aws.s3_bucket_ownership_controls import (
        S3BucketOwnershipControls as S3BucketOwnershipControls,
    )
    from cdktn_provider_aws.s3_bucket_ownership_controls import (
        S3BucketOwnershipControlsRule as S3BucketOwnershipControlsRule,
    )
    from cdktn_provider_aws.s3_bucket_policy import (
        S3BucketPolicy as S3BucketPolicy,
    )
    from cdktn_provider_aws.s3_bucket_public_access_block import (
        S3BucketPublicAccessBlock as S3BucketPublicAccessBlock,
    )
    from cdktn_provider_aws.s3_bucket_server_side_encryption_configuration import (
        S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfigurationA,
    )
    from cdktn_provider_aws.s3_bucket_server_side_encryption_configuration import (
        S3BucketServerSideEncryptionConfigurationRuleA as S3BucketServerSideEncryptionConfigurationRuleA,
    )
    from cdktn_provider_aws.s3_bucket_server_side_encryption_configuration import (
        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA as S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
    )
    from cdktn_provider_aws.s3_bucket_versioning import (
        S3BucketVersioningA as S3BucketVersioningA,
    )
    from cdktn_provider_aws.s3_bucket_versioning import (
        S3BucketVersioningVersioningConfiguration as S3BucketVersioningVersioningConfiguration,
    )
    from cdktn_provider_aws.secretsmanager_secret import (
        SecretsmanagerSecret as SecretsmanagerSecret,
    )
    from cdktn_provider_aws.secretsmanager_secret_version import (
        SecretsmanagerSecretVersion as SecretsmanagerSecretVersion,
    )
    from cdktn_provider_aws.security_group import (
        SecurityGroup as SecurityGroup,
    )
    from cdktn_provider_aws.sns_topic import (
        SnsTopic as SnsTopic,
    )
    from cdktn_provider_aws.sns_topic_subscription import (
        SnsTopicSubscription as SnsTopicSubscription,
    )
    from cdktn_provider_aws.subnet import (
        Subnet as Subnet,
    )
    from cdktn_provider_aws.vpc import (
        Vpc as Vpc,
    )
    from cdktn_provider_aws.vpc_endpoint import (
        VpcEndpoint as VpcEndpoint,
    )
    from cdktn_provider_aws.vpc_security_group_egress_rule import (
        VpcSecurityGroupEgressRule as VpcSecurityGroupEgressRule,
    )
    from cdktn_provider_aws.vpc_security_group_ingress_rule import (
        VpcSecurityGroupIngressRule as VpcSecurityGroupIngressRule,
    )
    from cdktn_provider_aws.wafv2_web_acl import (
        Wafv2WebAcl as Wafv2WebAcl,
    )
    from cdktn_provider_aws.wafv2_web_acl import (
        Wafv2WebAclDefaultAction as Wafv2WebAclDefaultAction,
    )
    from cdktn_provider_aws.wafv2_web_acl import (
        Wafv2WebAclDefaultActionAllow as Wafv2WebAclDefaultActionAllow,
    )
    from cdktn_provider_aws.wafv2_web_acl import (
        Wafv2WebAclRule as Wafv2WebAclRule,
    )
    from cdktn_provider_aws.wafv2_web_acl import (
        Wafv2WebAclRuleAction as Wafv2WebAclRuleAction,
    )
    from cdktn_provider_aws.wafv2_web_acl import (
        Wafv2WebAclRuleActionBlock as Wafv2WebAclRuleActionBlock,
    )
    from cdktn_provider_aws.wafv2_web_acl import (
        Wafv2WebAclRuleOverrideAction as Wafv2WebAclRuleOverrideAction,
    )
    from cdktn_provider_aws.wafv2_web_acl import (
        Wafv2WebAclRuleOverrideActionCount as Wafv2WebAclRuleOverrideActionCount,
    )
    from cdktn_provider_aws.wafv2_web_acl import (
        Wafv2WebAclRuleOverrideActionNone as Wafv2WebAclRuleOverrideActionNone,
    )
    from cdktn_provider_aws.wafv2_web_acl import (
        Wafv2WebAclRuleVisibilityConfig as Wafv2WebAclRuleVisibilityConfig,
    )
    from cdktn_provider_aws.wafv2_web_acl import (
        Wafv2WebAclVisibilityConfig as Wafv2WebAclVisibilityConfig,
    )
    from cdktn_provider_aws.wafv2_web_acl_association import (
        Wafv2WebAclAssociation as Wafv2WebAclAssociation,
    )
    from cdktn_provider_aws.wafv2_web_acl_logging_configuration import (
        Wafv2WebAclLoggingConfiguration as Wafv2WebAclLoggingConfiguration,
    )
    from cdktn_provider_docker.container import (
        Container as Container,
    )
    from cdktn_provider_docker.container import (
        ContainerCapabilities as ContainerCapabilities,
    )
    from cdktn_provider_docker.container import (
        ContainerHealthcheck as ContainerHealthcheck,
    )
    from cdktn_provider_docker.container import (
        ContainerLabels as ContainerLabels,
    )
    from cdktn_provider_docker.container import (
        ContainerNetworksAdvanced as ContainerNetworksAdvanced,
    )
    from cdktn_provider_docker.container import (
        ContainerPorts as ContainerPorts,
    )
    from cdktn_provider_docker.container import (
        ContainerVolumes as ContainerVolumes,
    )
    from cdktn_provider_docker.image import (
        Image as Image,
    )
    from cdktn_provider_docker.network import (
        Network as Network,
    )
    from cdktn_provider_docker.provider import (
        DockerProvider as DockerProvider,
    )
    from cdktn_provider_docker.volume import (
        Volume as Volume,
    )
    from cdktn_provider_random.id import (
        Id as Id,
    )
    from cdktn_provider_random.password import (
        Password as Password,
    )
    from cdktn_provider_random.provider import (
        RandomProvider as RandomProvider,
    )

# The module that defines each name, grouped by module: the next release or fork renames these.
_MODULES: dict[str, tuple[str, ...]] = {
    "cdktn": (
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
    "cdktn_provider_aws.acm_certificate": (
        "AcmCertificate",
        "AcmCertificateOptions",
    ),
    "cdktn_provider_aws.acm_certificate_validation": ("AcmCertificateValidation",),
    "cdktn_provider_aws.appautoscaling_policy": (
        "AppautoscalingPolicy",
        "AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration",
        "AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification",
    ),
    "cdktn_provider_aws.appautoscaling_target": ("AppautoscalingTarget",),
    "cdktn_provider_aws.cloudwatch_dashboard": ("CloudwatchDashboard",),
    "cdktn_provider_aws.cloudwatch_log_group": ("CloudwatchLogGroup",),
    "cdktn_provider_aws.cloudwatch_log_metric_filter": (
        "CloudwatchLogMetricFilter",
        "CloudwatchLogMetricFilterMetricTransformation",
    ),
    "cdktn_provider_aws.cloudwatch_metric_alarm": (
        "CloudwatchMetricAlarm",
        "CloudwatchMetricAlarmMetricQuery",
        "CloudwatchMetricAlarmMetricQueryMetric",
    ),
    "cdktn_provider_aws.data_aws_caller_identity": ("DataAwsCallerIdentity",),
    "cdktn_provider_aws.data_aws_ecr_repository": ("DataAwsEcrRepository",),
    "cdktn_provider_aws.data_aws_elb_service_account": ("DataAwsElbServiceAccount",),
    "cdktn_provider_aws.data_aws_iam_policy_document": (
        "DataAwsIamPolicyDocument",
        "DataAwsIamPolicyDocumentStatement",
        "DataAwsIamPolicyDocumentStatementCondition",
        "DataAwsIamPolicyDocumentStatementPrincipals",
    ),
    "cdktn_provider_aws.data_aws_partition": ("DataAwsPartition",),
    "cdktn_provider_aws.data_aws_region": ("DataAwsRegion",),
    "cdktn_provider_aws.default_security_group": ("DefaultSecurityGroup",),
    "cdktn_provider_aws.ecr_lifecycle_policy": ("EcrLifecyclePolicy",),
    "cdktn_provider_aws.ecr_repository": (
        "EcrRepository",
        "EcrRepositoryEncryptionConfiguration",
        "EcrRepositoryImageScanningConfiguration",
    ),
    "cdktn_provider_aws.ecs_cluster": (
        "EcsCluster",
        "EcsClusterConfiguration",
        "EcsClusterConfigurationExecuteCommandConfiguration",
        "EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration",
        "EcsClusterSetting",
    ),
    "cdktn_provider_aws.ecs_service": (
        "EcsService",
        "EcsServiceDeploymentCircuitBreaker",
        "EcsServiceDeploymentConfiguration",
        "EcsServiceDeploymentConfigurationCanaryConfiguration",
        "EcsServiceDeploymentController",
        "EcsServiceLoadBalancer",
        "EcsServiceLoadBalancerAdvancedConfiguration",
        "EcsServiceNetworkConfiguration",
        "EcsServiceTimeouts",
    ),
    "cdktn_provider_aws.ecs_task_definition": (
        "EcsTaskDefinition",
        "EcsTaskDefinitionRuntimePlatform",
        "EcsTaskDefinitionVolume",
    ),
    "cdktn_provider_aws.eip": ("Eip",),
    "cdktn_provider_aws.elasticache_parameter_group": (
        "ElasticacheParameterGroup",
        "ElasticacheParameterGroupParameter",
    ),
    "cdktn_provider_aws.elasticache_replication_group": (
        "ElasticacheReplicationGroup",
        "ElasticacheReplicationGroupLogDeliveryConfiguration",
    ),
    "cdktn_provider_aws.elasticache_subnet_group": ("ElasticacheSubnetGroup",),
    "cdktn_provider_aws.flow_log": ("FlowLog",),
    "cdktn_provider_aws.iam_role": ("IamRole",),
    "cdktn_provider_aws.iam_role_policy": ("IamRolePolicy",),
    "cdktn_provider_aws.internet_gateway": ("InternetGateway",),
    "cdktn_provider_aws.kms_alias": ("KmsAlias",),
    "cdktn_provider_aws.kms_key": ("KmsKey",),
    "cdktn_provider_aws.lb": (
        "Lb",
        "LbAccessLogs",
    ),
    "cdktn_provider_aws.lb_listener": (
        "LbListener",
        "LbListenerDefaultAction",
        "LbListenerDefaultActionForward",
        "LbListenerDefaultActionForwardTargetGroup",
        "LbListenerDefaultActionRedirect",
    ),
    "cdktn_provider_aws.lb_listener_rule": (
        "LbListenerRule",
        "LbListenerRuleAction",
        "LbListenerRuleActionForward",
        "LbListenerRuleActionForwardTargetGroup",
        "LbListenerRuleCondition",
        "LbListenerRuleConditionHttpHeader",
        "LbListenerRuleConditionPathPattern",
    ),
    "cdktn_provider_aws.lb_target_group": (
        "LbTargetGroup",
        "LbTargetGroupHealthCheck",
    ),
    "cdktn_provider_aws.nat_gateway": ("NatGateway",),
    "cdktn_provider_aws.provider": (
        "AwsProvider",
        "AwsProviderDefaultTags",
    ),
    "cdktn_provider_aws.route53_record": (
        "Route53Record",
        "Route53RecordAlias",
    ),
    "cdktn_provider_aws.route_table": (
        "RouteTable",
        "RouteTableRoute",
    ),
    "cdktn_provider_aws.route_table_association": ("RouteTableAssociation",),
    "cdktn_provider_aws.s3_bucket": ("S3Bucket",),
    "cdktn_provider_aws.s3_bucket_lifecycle_configuration": (
        "S3BucketLifecycleConfiguration",
        "S3BucketLifecycleConfigurationRule",
        "S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload",
        "S3BucketLifecycleConfigurationRuleExpiration",
        "S3BucketLifecycleConfigurationRuleFilter",
        "S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration",
    ),
    "cdktn_provider_aws.s3_bucket_ownership_controls": (
        "S3BucketOwnershipControls",
        "S3BucketOwnershipControlsRule",
    ),
    "cdktn_provider_aws.s3_bucket_policy": ("S3BucketPolicy",),
    "cdktn_provider_aws.s3_bucket_public_access_block": ("S3BucketPublicAccessBlock",),
    "cdktn_provider_aws.s3_bucket_server_side_encryption_configuration": (
        "S3BucketServerSideEncryptionConfigurationA",
        "S3BucketServerSideEncryptionConfigurationRuleA",
        "S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA",
    ),
    "cdktn_provider_aws.s3_bucket_versioning": (
        "S3BucketVersioningA",
        "S3BucketVersioningVersioningConfiguration",
    ),
    "cdktn_provider_aws.secretsmanager_secret": ("SecretsmanagerSecret",),
    "cdktn_provider_aws.secretsmanager_secret_version": ("SecretsmanagerSecretVersion",),
    "cdktn_provider_aws.security_group": ("SecurityGroup",),
    "cdktn_provider_aws.sns_topic": ("SnsTopic",),
    "cdktn_provider_aws.sns_topic_subscription": ("SnsTopicSubscription",),
    "cdktn_provider_aws.subnet": ("Subnet",),
    "cdktn_provider_aws.vpc": ("Vpc",),
    "cdktn_provider_aws.vpc_endpoint": ("VpcEndpoint",),
    "cdktn_provider_aws.vpc_security_group_egress_rule": ("VpcSecurityGroupEgressRule",),
    "cdktn_provider_aws.vpc_security_group_ingress_rule": ("VpcSecurityGroupIngressRule",),
    "cdktn_provider_aws.wafv2_web_acl": (
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
    "cdktn_provider_aws.wafv2_web_acl_association": ("Wafv2WebAclAssociation",),
    "cdktn_provider_aws.wafv2_web_acl_logging_configuration": ("Wafv2WebAclLoggingConfiguration",),
    "cdktn_provider_docker.container": (
        "Container",
        "ContainerCapabilities",
        "ContainerHealthcheck",
        "ContainerLabels",
        "ContainerNetworksAdvanced",
        "ContainerPorts",
        "ContainerVolumes",
    ),
    "cdktn_provider_docker.image": ("Image",),
    "cdktn_provider_docker.network": ("Network",),
    "cdktn_provider_docker.provider": ("DockerProvider",),
    "cdktn_provider_docker.volume": ("Volume",),
    "cdktn_provider_random.id": ("Id",),
    "cdktn_provider_random.password": ("Password",),
    "cdktn_provider_random.provider": ("RandomProvider",),
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
