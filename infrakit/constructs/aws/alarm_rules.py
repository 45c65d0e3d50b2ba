"""What each AWS service of an environment is alarmed on, declared as rules (see alarms.py).

Each rule picks what missing data means, from what the metric's silence says:
- Gauges that a running resource always reports (ECS CPU and memory, Redis memory and CPU): silence
  means the resource is gone or between nodes, which another alarm or AWS itself reports. ECS uses
  notBreaching, with the running-task alarm for the gone case; Redis keeps its state (missing), so a
  failover's gap neither pages nor clears a page.
- Counts that AWS publishes only when non-zero (ALB 5xx, WAF blocks, Evictions): silence means zero,
  so notBreaching, and metric math fills the gaps with 0 (FILL).
- The running-task count: silence is no proof that tasks run, so breaching.
"""

from __future__ import annotations

from collections.abc import Sequence

from infrakit.config.alarms import AlarmSettings
from infrakit.constructs.aws.alarms import AlarmRule, Metric, MetricMath, Runbook, Signal

ECS = "AWS/ECS"
CONTAINER_INSIGHTS = "ECS/ContainerInsights"
ALB = "AWS/ApplicationELB"
REDIS = "AWS/ElastiCache"
WAF = "AWS/WAFV2"
FIVE_MINUTES = 300


# ----------------------------------------------------------------------------- api and worker (ECS)


def service_rules(
    service: str,
    *,
    cluster: str,
    ecs_service: str,
    min_count: int,
    log_group: str,
    settings: AlarmSettings,
) -> list[AlarmRule]:
    dimensions = {"ClusterName": cluster, "ServiceName": ecs_service}
    rules = [
        AlarmRule(
            key=f"{service}-cpu-high",
            title=f"{service}: CPU, % of the task's",
            signal=Metric(ECS, "CPUUtilization", dimensions, "Average", period=FIVE_MINUTES),
            comparison="GreaterThanThreshold",
            threshold=settings.service_cpu_percent,
            periods=3,
            missing_data="notBreaching",
            runbook=Runbook(
                f"{service} tasks averaged over {settings.service_cpu_percent}% CPU for 15 minutes: "
                "autoscaling has not kept up, and requests or jobs slow down.",
                f"the running task count against max_count on the dashboard; then raise {service}.cpu or "
                f"{service}.max_count, or look for a hot loop in the last release.",
            ),
        ),
        AlarmRule(
            key=f"{service}-memory-high",
            title=f"{service}: memory, % of the task's",
            signal=Metric(ECS, "MemoryUtilization", dimensions, "Average", period=FIVE_MINUTES),
            comparison="GreaterThanThreshold",
            threshold=settings.service_memory_percent,
            periods=3,
            missing_data="notBreaching",
            runbook=Runbook(
                f"{service} tasks averaged over {settings.service_memory_percent}% memory for 15 minutes; "
                "at 100% ECS kills them (OutOfMemoryError).",
                f"stopped tasks' reasons in the ECS console, and memory over time on the dashboard (a "
                f"climb after a release is a leak); then raise {service}.memory_mb.",
            ),
        ),
    ]
    if min_count > 0:  # with min_count = 0, no task running is a valid state
        rules.append(
            AlarmRule(
                key=f"{service}-tasks-below-min",
                title=f"{service}: running tasks",
                signal=Metric(CONTAINER_INSIGHTS, "RunningTaskCount", dimensions, "Minimum"),
                comparison="LessThanThreshold",
                threshold=min_count,
                periods=5,
                missing_data="breaching",
                runbook=Runbook(
                    f"{service} has run fewer than min_count = {min_count} tasks for 5 minutes: capacity "
                    "is down, or tasks crash as they start.",
                    f"the ECS service's events and its stopped tasks' stop reasons, then the log group "
                    f"{log_group}.",
                ),
            )
        )
    return rules


# ----------------------------------------------------------------------------- api entry point (ALB)

FIVE_XX_RATE = "5xx-rate"
P99_LATENCY = "p99-latency"


def five_xx_rate(balancer: str, settings: AlarmSettings) -> MetricMath:
    """5xx responses as a percentage of requests, from the api (target) and the ALB itself (ELB:
    no healthy target, a target that hung up). Both counts are published only when non-zero, hence
    FILL; below `alb_5xx_min_requests` a minute the rate is 0, not judged."""
    dimensions = {"LoadBalancer": balancer}
    return MetricMath(
        expression=(
            f"IF(requests < {settings.alb_5xx_min_requests}, 0, "
            "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests)"
        ),
        inputs={
            "requests": Metric(ALB, "RequestCount", dimensions, "Sum"),
            "target5xx": Metric(ALB, "HTTPCode_Target_5XX_Count", dimensions, "Sum"),
            "elb5xx": Metric(ALB, "HTTPCode_ELB_5XX_Count", dimensions, "Sum"),
        },
        label="5xx responses, % of requests",
    )


def load_balancer_rules(
    service: str,
    *,
    balancer: str,
    target_groups: Sequence[str],
    health_check_path: str,
    log_group: str,
    settings: AlarmSettings,
) -> list[AlarmRule]:
    rollback = "A release in progress rolls back on this alarm."
    return [
        AlarmRule(
            key=f"{service}-{FIVE_XX_RATE}",
            title=f"{service}: 5xx responses, % of requests",
            signal=five_xx_rate(balancer, settings),
            comparison="GreaterThanThreshold",
            threshold=settings.alb_5xx_rate_percent,
            periods=3,
            missing_data="notBreaching",  # no requests: nothing failing
            runbook=Runbook(
                f"Over {settings.alb_5xx_rate_percent:g}% of {service} requests got a 5xx for 3 minutes. "
                + rollback,
                f"the ECS service's deployments and the log group {log_group}; ELB 5xx without target "
                "5xx on the dashboard means no healthy task answered.",
            ),
        ),
        AlarmRule(
            key=f"{service}-{P99_LATENCY}",
            title=f"{service}: p99 response time, seconds",
            signal=Metric(ALB, "TargetResponseTime", {"LoadBalancer": balancer}, "p99"),
            comparison="GreaterThanThreshold",
            threshold=settings.alb_p99_response_seconds,
            periods=3,
            missing_data="notBreaching",  # no requests: nothing slow
            runbook=Runbook(
                f"The slowest 1% of {service} responses took over {settings.alb_p99_response_seconds:g} s "
                "for 3 minutes. " + rollback,
                f"Postgres, Redis and Qdrant latency and {service} CPU on the dashboard, then the last "
                "deployment.",
            ),
        ),
        *(
            AlarmRule(
                key=f"{service}-unhealthy-hosts" + ("" if index == 0 else f"-{index + 1}"),
                title=f"{service}: tasks failing the load balancer's health check"
                + ("" if index == 0 else f" (target group {index + 1})"),
                signal=Metric(
                    ALB, "UnHealthyHostCount", {"LoadBalancer": balancer, "TargetGroup": group}, "Maximum"
                ),
                comparison="GreaterThanThreshold",
                threshold=0,
                periods=3,
                missing_data="notBreaching",  # reported every minute while targets are registered
                runbook=Runbook(
                    f"At least one {service} task has failed the health check on {health_check_path} for 3 "
                    "minutes.",
                    f"the target group's health reasons in the EC2 console, then the log group {log_group}.",
                ),
            )
            # One per target group: a blue/green release moves the tasks to the other group, and the
            # metric is per group (infrakit/constructs/aws/load_balancer.py, route_for).
            for index, group in enumerate(target_groups)
        ),
    ]


# ----------------------------------------------------------------------------- cache/queue (ElastiCache)


def _across_nodes(group_id: str, nodes: int, metric: str, stat: str, aggregate: str, period: int) -> Signal:
    """A metric of every node of a replication group (members are named <group>-001, -002, ...),
    as one series: a failover moves the primary, so no single node can stand for the group."""
    per_node = {
        f"node{index}": Metric(REDIS, metric, {"CacheClusterId": f"{group_id}-{index:03d}"}, stat, period)
        for index in range(1, nodes + 1)
    }
    if nodes == 1:
        return per_node["node1"]
    return MetricMath(f"{aggregate}([{', '.join(per_node)}])", per_node, f"{metric}, {aggregate} over nodes")


def redis_rules(*, group_id: str, nodes: int, settings: AlarmSettings) -> list[AlarmRule]:
    rules = [
        AlarmRule(
            key="redis-memory-high",
            title="Redis: memory used, % of maxmemory",
            signal=_across_nodes(group_id, nodes, "DatabaseMemoryUsagePercentage", "Maximum", "MAX", 60),
            comparison="GreaterThanThreshold",
            threshold=settings.redis_memory_percent,
            periods=5,
            missing_data="missing",
            runbook=Runbook(
                f"Redis has used over {settings.redis_memory_percent}% of maxmemory for 5 minutes; with "
                "noeviction a full Redis refuses new jobs (OOM errors in the api and worker).",
                "queue lengths, and whether completed and failed jobs are removed; then a larger "
                "cache.node_type.",
            ),
        ),
        AlarmRule(
            key="redis-evictions",
            title="Redis: evicted keys",
            signal=_across_nodes(group_id, nodes, "Evictions", "Sum", "SUM", FIVE_MINUTES),
            comparison="GreaterThanThreshold",
            threshold=0,
            periods=1,
            missing_data="notBreaching",
            runbook=Runbook(
                "Redis evicted keys, which maxmemory-policy noeviction forbids: queued jobs may be lost.",
                "the maxmemory-policy of the replication group's parameter group (it must be "
                "noeviction), and who changed it outside infrakit.",
            ),
        ),
        AlarmRule(
            key="redis-engine-cpu-high",
            title="Redis: engine CPU, %",
            signal=_across_nodes(group_id, nodes, "EngineCPUUtilization", "Average", "MAX", FIVE_MINUTES),
            comparison="GreaterThanThreshold",
            threshold=settings.redis_engine_cpu_percent,
            periods=3,
            missing_data="missing",
            runbook=Runbook(
                f"The Redis engine thread has run over {settings.redis_engine_cpu_percent}% CPU for 15 "
                "minutes: commands queue up and jobs slow down.",
                "SLOWLOG GET from a host in the VPC and the worker's concurrency; then a larger "
                "cache.node_type.",
            ),
        ),
    ]
    if nodes > 1:  # only replicas report ReplicationLag
        rules.append(
            AlarmRule(
                key="redis-replication-lag",
                title="Redis: replication lag, seconds",
                signal=_across_nodes(group_id, nodes, "ReplicationLag", "Maximum", "MAX", 60),
                comparison="GreaterThanThreshold",
                threshold=settings.redis_replication_lag_seconds,
                periods=5,
                missing_data="missing",
                runbook=Runbook(
                    "A Redis replica has lagged the primary by over "
                    f"{settings.redis_replication_lag_seconds:g} s for 5 minutes; a failover now would "
                    "lose the latest jobs.",
                    "the primary's write rate and network on the dashboard, and the replication group's "
                    "ElastiCache events.",
                ),
            )
        )
    return rules


# ----------------------------------------------------------------------------- firewall (WAF)


def firewall_rules(*, acl_name: str, region: str, settings: AlarmSettings) -> list[AlarmRule]:
    threshold = settings.waf_blocked_requests_per_5_minutes
    return [
        AlarmRule(
            key="waf-blocked-spike",
            title="WAF: blocked requests per 5 minutes",
            signal=Metric(
                WAF,
                "BlockedRequests",
                {"WebACL": acl_name, "Region": region, "Rule": "ALL"},
                "Sum",
                period=FIVE_MINUTES,
            ),
            comparison="GreaterThanThreshold",
            threshold=threshold,
            periods=1,
            missing_data="notBreaching",
            runbook=Runbook(
                f"The WAF blocked over {threshold} requests in 5 minutes: an attack, a scanner, or a real "
                "client caught by a managed rule or the per-IP rate limit.",
                f"the web ACL's sampled requests and its log group aws-waf-logs-{acl_name}, by rule and "
                "client IP.",
            ),
        )
    ]


# ----------------------------------------------------------------------------- release quality without an ALB

ERROR_LINES = "error-lines"


def error_lines_rule(service: str, *, metric: Metric, log_group: str, settings: AlarmSettings) -> AlarmRule:
    threshold = settings.worker_error_lines_per_minute
    return AlarmRule(
        key=f"{service}-{ERROR_LINES}",
        title=f"{service}: error lines per minute",
        signal=metric,
        comparison="GreaterThanThreshold",
        threshold=threshold,
        periods=3,
        missing_data="notBreaching",  # no log lines at all: no errors (the task alarms cover a dead service)
        runbook=Runbook(
            f"{service} logged over {threshold} error lines a minute for 3 minutes (alarms."
            "worker_error_pattern). A release in progress rolls back on this alarm.",
            f"the log group {log_group} around the first error, and the ECS service's last deployment.",
        ),
    )
