"""Everything that watches a cloud environment: the alarms on each AWS service, the topic they
notify, the dashboard, and the deployment alarms each ECS service rolls back on."""

from __future__ import annotations

from collections.abc import Mapping

from constructs import Construct

from infrakit.cdk import CloudwatchLogMetricFilter, CloudwatchLogMetricFilterMetricTransformation
from infrakit.config.alarms import AlarmSettings
from infrakit.constructs.aws.alarm_rules import (
    ERROR_LINES,
    FIVE_XX_RATE,
    P99_LATENCY,
    error_lines_rule,
    firewall_rules,
    load_balancer_rules,
    redis_rules,
    service_rules,
)
from infrakit.constructs.aws.alarms import AlarmRule, Metric, NotifyingAlarms
from infrakit.constructs.aws.dashboard import EnvironmentDashboard
from infrakit.constructs.aws.ecs_cluster import ServiceCluster
from infrakit.constructs.aws.elasticache import ElastiCacheRedisGroup
from infrakit.constructs.aws.encryption_key import EnvironmentKey
from infrakit.constructs.aws.fargate_service import FargateService
from infrakit.constructs.aws.load_balancer import PublicLoadBalancer
from infrakit.constructs.aws.notifications import AlarmNotifications


class EnvironmentMonitoring(Construct):
    """Alarms for whichever AWS services the environment runs: each ECS service, the ALB and its
    WAF, and ElastiCache. Every alarm notifies `settings`' targets.

    Deployment alarms, chosen so that none may already be firing for a reason a fix would not clear:
    - A service behind the ALB rolls back on its 5xx rate and p99 latency: they measure what the
      new tasks serve.
    - A service without one (the worker) rolls back on the rate of error lines in its own log. It
      serves no requests to measure; its errors are what a bad release changes first, while its
      queue and Redis alarms move with load, not with the release.
    Not CPU, memory or the running-task count: each moves during every healthy rollout.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        settings: AlarmSettings,
        key: EnvironmentKey,
        region: str,
        cluster: ServiceCluster | None,
        services: Mapping[str, FargateService],
        load_balancer: PublicLoadBalancer | None,
        health_check_path: str | None,
        cache: ElastiCacheRedisGroup | None,
        cache_nodes: int,
    ):
        super().__init__(scope, id_)
        notifications = AlarmNotifications(self, "notifications", name=name, settings=settings, key=key)
        rules: list[AlarmRule] = []
        release_alarms: dict[str, list[str]] = {}
        for service_name, service in services.items():
            assert cluster is not None, "ECS services run in the environment's cluster"
            rules += service_rules(
                service_name,
                cluster=cluster.name,
                ecs_service=service.ecs_service_name,
                min_count=service.min_count,
                log_group=service.log_group_name,
                settings=settings,
            )
            if service.behind_load_balancer and load_balancer is not None:
                rules += load_balancer_rules(
                    service_name,
                    balancer=load_balancer.balancer.arn_suffix,
                    target_groups=[group.arn_suffix for group in load_balancer.target_groups],
                    health_check_path=health_check_path or "/",
                    log_group=service.log_group_name,
                    settings=settings,
                )
                release_alarms[service_name] = [
                    f"{service_name}-{FIVE_XX_RATE}",
                    f"{service_name}-{P99_LATENCY}",
                ]
            else:
                metric = self._count_error_lines(name, service_name, service, settings)
                rules.append(
                    error_lines_rule(
                        service_name, metric=metric, log_group=service.log_group_name, settings=settings
                    )
                )
                release_alarms[service_name] = [f"{service_name}-{ERROR_LINES}"]
        if load_balancer is not None:
            rules += firewall_rules(
                acl_name=load_balancer.firewall.acl.name, region=region, settings=settings
            )
        if cache is not None:
            rules += redis_rules(group_id=cache.group.id, nodes=cache_nodes, settings=settings)

        self.alarms = NotifyingAlarms(self, "alarms", prefix=name, rules=rules, actions=notifications.arns)
        self.notifications = notifications
        EnvironmentDashboard(
            self, "dashboard", name=name, rules=rules, alarm_arns=self.alarms.arns, region=region
        )
        for service_name, keys in release_alarms.items():
            services[service_name].roll_back_on([self.alarms.name_of(key) for key in keys])

    def _count_error_lines(
        self, name: str, service_name: str, service: FargateService, settings: AlarmSettings
    ) -> Metric:
        """A metric counting the service's log lines that match `worker_error_pattern`. Lines that do
        not match count 0, so the graph shows a line whenever the service logs at all."""
        metric = Metric(f"infrakit/{name}", f"{service_name}-{ERROR_LINES}", {}, "Sum")
        CloudwatchLogMetricFilter(
            self,
            f"{service_name}-{ERROR_LINES}",
            name=f"{name}-{service_name}-{ERROR_LINES}",
            log_group_name=service.log_group.name,
            pattern=_literal(settings.worker_error_pattern),
            metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                namespace=metric.namespace, name=metric.name, value="1", default_value="0", unit="Count"
            ),
        )
        return metric


def _literal(text: str) -> str:
    """Text from an environment file, kept literal in Terraform JSON, where every string is a
    template: `${` and `%{` would otherwise start an expression."""
    return text.replace("${", "$${").replace("%{", "%%{")
