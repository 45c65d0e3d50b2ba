"""The ECS cluster: Container Insights on, and ECS Exec sessions (when enabled) logged encrypted."""

from __future__ import annotations

from constructs import Construct

from infrakit.cdk import (
    EcsCluster,
    EcsClusterConfiguration,
    EcsClusterConfigurationExecuteCommandConfiguration,
    EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration,
    EcsClusterSetting,
)
from infrakit.config.aws import AwsSettings
from infrakit.constructs.aws.encryption_key import EnvironmentKey
from infrakit.constructs.aws.log_group import encrypted_log_group


class ServiceCluster(Construct):
    def __init__(self, scope: Construct, id_: str, *, name: str, key: EnvironmentKey, settings: AwsSettings):
        super().__init__(scope, id_)
        exec_logs = encrypted_log_group(
            self,
            "exec-logs",
            name=f"/infrakit/{name}/ecs-exec",
            key=key,
            retention_days=settings.log_retention_days,
        )
        cluster = EcsCluster(
            self,
            "cluster",
            name=name,
            setting=[EcsClusterSetting(name="containerInsights", value="enabled")],
            configuration=EcsClusterConfiguration(
                execute_command_configuration=EcsClusterConfigurationExecuteCommandConfiguration(
                    kms_key_id=key.arn,
                    logging="OVERRIDE",
                    log_configuration=EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration(
                        cloud_watch_encryption_enabled=True,
                        cloud_watch_log_group_name=exec_logs.name,
                    ),
                )
            ),
        )
        self.name = cluster.name
        self.arn = cluster.arn
