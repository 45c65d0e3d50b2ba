"""api or worker as an ECS Fargate service."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from constructs import Construct

from infrakit.cdk import (
    AppautoscalingPolicy,
    AppautoscalingTarget,
    DataAwsEcrRepository,
    DataAwsIamPolicyDocument,
    EcsService,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceDeploymentConfiguration,
    EcsServiceDeploymentConfigurationCanaryConfiguration,
    EcsServiceDeploymentController,
    EcsServiceLoadBalancer,
    EcsServiceLoadBalancerAdvancedConfiguration,
    EcsServiceNetworkConfiguration,
    EcsServiceTimeouts,
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
    EcsTaskDefinitionVolume,
    IamRole,
    IamRolePolicy,
    SecurityGroup,
    TerraformLocal,
    TerraformResourceLifecycle,
    VpcSecurityGroupEgressRule,
)
from infrakit.cdk import AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration as CpuTargetTracking
from infrakit.cdk import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification as CpuMetric,
)
from infrakit.config.aws import AwsSettings
from infrakit.config.models import FargateApi, FargateWorker
from infrakit.constructs.aws.ecs_cluster import ServiceCluster
from infrakit.constructs.aws.encryption_key import EnvironmentKey
from infrakit.constructs.aws.load_balancer import TargetGroupRoute
from infrakit.constructs.aws.log_group import encrypted_log_group
from infrakit.constructs.aws.network import ANYWHERE, PrivateNetwork
from infrakit.constructs.aws.policy import assume_role_policy, condition, statement
from infrakit.constructs.aws.stored_secret import StoredSecret
from infrakit.stacks.names import CPU_ARCHITECTURE, SCRATCH_PATH
from infrakit.tokens import is_unresolved

# Read-only root filesystems still need somewhere to write temporary files. Fargate has no tmpfs,
# and mounts this volume as a root-owned bind mount (aws/containers-roadmap#938): a non-root task
# can write there only if its image declares `VOLUME /tmp` over a directory that user may write
# (Fargate copies the image's directory, ownership included). The image check before deploy
# reads the image config for it (infrakit/deploy/images.py, unwritable_scratch).
SCRATCH_VOLUME = "tmp"

T = TypeVar("T")


@dataclass(frozen=True)
class Egress:
    """One outbound rule: to a CIDR or to another security group, on one TCP port."""

    port: int
    description: str
    cidr: str | None = ANYWHERE
    security_group_id: str | None = None


class FargateService(Construct):
    """A service on Fargate, in private subnets, reachable only through what the caller allows.

    - Container: non-root user, read-only root filesystem, health check, logs to an encrypted
      log group.
    - Secrets: injected from Secrets Manager, pinned to the version that holds each value; never
      plain environment. A changed value gives a new task definition revision, rolled out by ECS.
    - Apply order: the service (which starts tasks) comes after every secret version its tasks
      read, its execution role's policy, and the listener forwarding to its target group. Naming
      a secret by ARN, a role by ARN or a target group orders none of these by itself.
    - Roles: the execution role may pull this service's image, write its log group and read
      exactly its secrets; the task role has no permissions.
    - Deployments: circuit breaker with rollback, and deployment alarms with rollback once
      `roll_back_on` names them; target-tracking CPU autoscaling.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        config: FargateApi | FargateWorker,
        cluster: ServiceCluster,
        network: PrivateNetwork,
        key: EnvironmentKey,
        aws: AwsSettings,
        environment: Mapping[str, str],
        secrets: Mapping[str, StoredSecret],
        egress: Sequence[Egress],
        route: TargetGroupRoute | None = None,
    ):
        super().__init__(scope, id_)
        self.service_name = id_
        self.min_count = config.min_count
        self.behind_load_balancer = route is not None
        target_group_arn = route.target_group_arn if route else None
        port = config.port if isinstance(config, FargateApi) else None

        # Created by the images stack, which deploys first; a missing one fails the plan, named.
        repository = DataAwsEcrRepository(self, "images", name=name)
        self.repository_url = repository.repository_url
        self.log_group_name = f"/infrakit/{name}"
        log_group = encrypted_log_group(
            self,
            "logs",
            name=self.log_group_name,
            key=key,
            retention_days=aws.log_retention_days,
        )
        self.security_group_id = SecurityGroup(
            self,
            "security-group",
            name=name,
            description=f"{name} tasks",
            vpc_id=network.vpc_id,
            tags={"Name": name},
        ).id
        for index, rule in enumerate(egress):
            VpcSecurityGroupEgressRule(
                self,
                f"out-{index}",
                security_group_id=self.security_group_id,
                cidr_ipv4=rule.cidr if rule.security_group_id is None else None,
                referenced_security_group_id=rule.security_group_id,
                ip_protocol="tcp",
                from_port=rule.port,
                to_port=rule.port,
                description=rule.description,
            )

        # By name, each once. Not by ARN: an ARN here is a token, whose text orders the secrets only
        # by when cdktn made them, which a change anywhere before them can shift.
        stored_secrets = _unique(secret for _, secret in sorted(secrets.items()))
        execution_role, execution_policy = self._execution_role(
            name, repository.arn, log_group.arn, [secret.arn for secret in stored_secrets], key
        )
        # ECS assumes the task role for this account's tasks only: the ECS developer guide ("Amazon
        # ECS task IAM role") recommends aws:SourceAccount and aws:SourceArn against the confused
        # deputy, with a wildcard after the region and account since naming a cluster is not
        # supported.
        task_role = IamRole(
            self,
            "task-role",
            name=f"{name}-task",
            assume_role_policy=assume_role_policy(
                self,
                "task-trust",
                "ecs-tasks.amazonaws.com",
                source_account=key.account_id,
                source_arn=f"arn:{key.partition}:ecs:{key.region}:{key.account_id}:*",
            ),
        )

        image = f"{self.repository_url}:{config.image_tag}"
        if config.image_digest:
            image = f"{self.repository_url}@{config.image_digest}"
        container = {
            "name": id_,
            "image": image,
            "essential": True,
            "user": config.user,
            "readonlyRootFilesystem": True,
            "privileged": False,
            "command": config.command,
            "environment": [{"name": k, "value": self._plain(k, v)} for k, v in sorted(environment.items())],
            "secrets": [{"name": k, "valueFrom": v.value_from} for k, v in sorted(secrets.items())],
            "portMappings": [{"containerPort": port, "protocol": "tcp"}] if port else [],
            "mountPoints": [
                {"sourceVolume": SCRATCH_VOLUME, "containerPath": SCRATCH_PATH, "readOnly": False}
            ],
            "healthCheck": {
                "command": config.healthcheck,
                "interval": 15,
                "timeout": 5,
                "retries": 3,
                "startPeriod": 30,
            },
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group.name,
                    "awslogs-region": aws.region,
                    "awslogs-stream-prefix": id_,
                },
            },
        }
        task = EcsTaskDefinition(
            self,
            "task",
            family=name,
            cpu=str(config.cpu),
            memory=str(config.memory_mb),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture=CPU_ARCHITECTURE
            ),
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            volume=[EcsTaskDefinitionVolume(name=SCRATCH_VOLUME)],
            # Plain JSON (not jsonencode) so policy scanners can read the container definitions.
            container_definitions=json.dumps([{k: v for k, v in container.items() if v is not None}]),
        )
        # How ECS replaces the tasks (`[<service>.deployment]`; hashicorp/aws 6.69.1,
        # aws_ecs_service deployment_configuration): ROLLING, or BLUE_GREEN and CANARY, in which ECS
        # moves the load balancer's traffic itself through `shift` (load_balancer.py, TrafficShift)
        # and keeps the old revision running for the bake time while the deployment alarms watch
        # (ECS developer guide, "Amazon ECS blue/green deployments", "Amazon ECS canary deployments").
        deployment = config.deployment
        shift = route.shift if route else None
        assert (shift is not None) == (deployment.strategy != "rolling"), "traffic shifting needs its route"
        canary_bake = deployment.canary_bake_time_minutes
        canary = (
            EcsServiceDeploymentConfigurationCanaryConfiguration(
                canary_percent=deployment.canary_percent,
                canary_bake_time_in_minutes=None if canary_bake is None else str(canary_bake),
            )
            if deployment.strategy == "canary"
            else None
        )
        bake = deployment.bake_time_minutes
        # The provider waits for the service deployment to succeed (wait_for_steady_state), which
        # with a bake comes only after it; its default 20 minutes would count the bake against the
        # rollout. ECS's canary phase lasts 10 minutes unless canary_bake_time_minutes says otherwise.
        rollout_minutes = 20 + (bake or 0) + ((10 if canary_bake is None else canary_bake) if canary else 0)
        service = EcsService(
            self,
            "service",
            name=id_,
            cluster=cluster.arn,
            task_definition=task.arn,
            launch_type="FARGATE",
            platform_version="LATEST",
            desired_count=config.min_count,
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=network.private_subnet_ids,
                security_groups=[self.security_group_id],
                assign_public_ip=False,
            ),
            # Native strategies need the ECS deployment controller (ECS developer guide, "Amazon ECS
            # blue/green deployments"): named, not left to the provider's default.
            deployment_controller=EcsServiceDeploymentController(type="ECS"),
            deployment_configuration=EcsServiceDeploymentConfiguration(
                strategy={"rolling": "ROLLING", "blue_green": "BLUE_GREEN", "canary": "CANARY"}[
                    deployment.strategy
                ],
                bake_time_in_minutes=None if bake is None else str(bake),
                canary_configuration=canary,
            ),
            # Both failure detections work with rolling and blue/green deployments, and either fails
            # one (ECS developer guide, "Amazon ECS deployment failure detection"): the circuit
            # breaker when green's tasks do not become healthy, the alarms (roll_back_on) when the
            # release misbehaves, through the bake too.
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True, rollback=True),
            # The API reference defines these two for the rolling update. A blue/green or canary
            # deployment scales the new revision up to the full desired count beside the old one
            # (DescribeServiceDeployments lifecycleStage SCALE_UP) and stops the old one only after
            # the bake (CLEAN_UP), so the service runs twice its tasks meanwhile, as 200% lets a
            # rolling update do: the account's Fargate quota must hold that much.
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            propagate_tags="SERVICE",
            enable_execute_command=False,
            load_balancer=(
                [
                    EcsServiceLoadBalancer(
                        target_group_arn=target_group_arn,
                        container_name=id_,
                        container_port=port,
                        advanced_configuration=(
                            EcsServiceLoadBalancerAdvancedConfiguration(
                                alternate_target_group_arn=shift.alternate_target_group_arn,
                                production_listener_rule=shift.production_rule_arn,
                                test_listener_rule=shift.test_rule_arn,
                                role_arn=shift.role_arn,
                            )
                            if shift
                            else None
                        ),
                    )
                ]
                if target_group_arn and port
                else None
            ),
            health_check_grace_period_seconds=60 if target_group_arn else None,
            # Autoscaling owns the running count after creation.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_count"]),
            # The apply returns once the rollout is complete (or fails when ECS rolls it back). What
            # Terraform does after this service waits for it: above all, revoking an API key that a
            # replacement made obsolete (infrakit/constructs/key_rotation.py), which the old tasks
            # hold until they are gone.
            wait_for_steady_state=True,
            timeouts=(
                EcsServiceTimeouts(create=f"{rollout_minutes}m", update=f"{rollout_minutes}m")
                if shift
                else None
            ),
            # Tasks start as soon as the service exists. A secret version not yet written fails
            # them with ResourceInitializationError, and so does an execution role whose policy
            # IAM has not yet propagated; on a first deploy the circuit breaker then fails the
            # deployment with nothing to roll back to. A target group without its listener fails
            # CreateService itself (see TargetGroupRoute), and a traffic shift without its listener
            # rules or its role's policy fails the deployment (see TrafficShift).
            depends_on=[
                *(secret.version for secret in stored_secrets),
                execution_policy,
                *(route.listeners if route else ()),
                *(shift.prerequisites if shift else ()),
            ],
        )
        self.service = service
        # The service's name as a Terraform reference (service_name is the same name as plain
        # text): a resource that names the service this way is created after it.
        self.ecs_service_name = service.name
        self.log_group = log_group
        self._autoscaling(cluster, config)

    def roll_back_on(self, alarm_names: Sequence[str]) -> None:
        """ECS watches these alarms through each deployment and its bake time; if one fires, the
        deployment fails and the service returns to the last completed task definition.

        ECS ignores the alarms for a deployment that starts while one of them is in ALARM (ECS
        developer guide, "How CloudWatch alarms detect Amazon ECS deployment failures"), so a fix
        deployed during an outage is never rolled back by the outage's alarm. What it does not
        ignore is an alarm that fires mid-deployment for a reason unrelated to the release: pick
        alarms that judge the release's output (errors, latency), never the deployment's own
        churn (CPU while new tasks warm up, a running-task count that moves with every rollout).
        """
        assert alarm_names, "deployment alarms need at least one alarm"
        self.service.put_alarms(alarm_names=list(alarm_names), enable=True, rollback=True)

    def _plain(self, name: str, value: str) -> str:
        """A value the container definitions can hold as plain JSON.

        An expression such as trimprefix(x, "https://") carries quotes that would land unescaped
        in the JSON string: Terraform copes, but scanners cannot parse it. A local keeps the
        definitions to simple ${local.x} references.
        """
        if not is_unresolved(value):
            return value
        return TerraformLocal(self, f"env-{name}", value).as_string

    def _execution_role(
        self,
        name: str,
        repository_arn: str,
        log_group_arn: str,
        secret_arns: list[str],
        key: EnvironmentKey,
    ) -> tuple[IamRole, IamRolePolicy]:
        # No aws:SourceAccount/aws:SourceArn here: the ECS developer guide recommends them for the
        # task role only, and its page on the task execution role shows a trust policy without
        # them. A condition on a key that ECS does not send when it assumes this role would stop
        # every task from starting ("ECS was unable to assume the role").
        role = IamRole(
            self,
            "execution-role",
            name=f"{name}-execution",
            assume_role_policy=assume_role_policy(self, "execution-trust", "ecs-tasks.amazonaws.com"),
        )
        statements = [
            # GetAuthorizationToken has no resource-level permissions: "*" is the only form.
            statement(["ecr:GetAuthorizationToken"], ["*"]),
            # Pulling needs no KMS permission, although the repository is encrypted with the images
            # key: ECR decrypts the layers itself, through the grant it creates on the key with the
            # repository (ECR user guide, "Encryption at rest").
            statement(
                ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                [repository_arn],
            ),
            # Writing to a log group encrypted with the key needs no KMS permission either: CloudWatch
            # Logs uses the key as itself, under the key policy (encryption_key.py).
            statement(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:*"]),
        ]
        if secret_arns:
            statements.append(statement(["secretsmanager:GetSecretValue"], secret_arns))
            # The one use of the environment key this role has: Secrets Manager decrypting these
            # secrets for GetSecretValue. The key also guards logs, Redis and the alarm topic, so the
            # grant is kept to requests Secrets Manager makes (kms:ViaService) for these secrets
            # (Secrets Manager's encryption context holds the secret's ARN as `SecretARN`).
            # Sources: AWS KMS developer guide, "AWS KMS condition keys" (kms:ViaService,
            # kms:EncryptionContext:context-key); Secrets Manager user guide, "Secret encryption and
            # decryption" (permissions for the KMS key, and the Secrets Manager encryption context).
            statements.append(
                statement(
                    ["kms:Decrypt"],
                    [key.arn],
                    conditions=[
                        *condition(
                            "StringEquals", "kms:ViaService", f"secretsmanager.{key.region}.amazonaws.com"
                        ),
                        *condition("StringEquals", "kms:EncryptionContext:SecretARN", *secret_arns),
                    ],
                )
            )
        policy = DataAwsIamPolicyDocument(self, "execution-permissions", statement=statements)
        return role, IamRolePolicy(self, "execution-policy", role=role.id, policy=policy.json)

    def _autoscaling(self, cluster: ServiceCluster, config: FargateApi | FargateWorker) -> None:
        target = AppautoscalingTarget(
            self,
            "scaling-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{cluster.name}/{self.ecs_service_name}",
            min_capacity=config.min_count,
            max_capacity=config.max_count,
        )
        AppautoscalingPolicy(
            self,
            "scaling-policy",
            name=f"{self.service_name}-cpu",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration=CpuTargetTracking(
                target_value=config.cpu_target_percent,
                predefined_metric_specification=CpuMetric(
                    predefined_metric_type="ECSServiceAverageCPUUtilization"
                ),
                scale_in_cooldown=120,
                scale_out_cooldown=60,
            ),
        )


def _unique(items: Iterable[T]) -> list[T]:
    """Items in order, each once (by identity): two names may share one secret (an alias)."""
    seen: dict[int, T] = {}
    for item in items:
        seen.setdefault(id(item), item)
    return list(seen.values())
