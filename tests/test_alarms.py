"""Alarms, their topic, the dashboard and deployment rollback, stated as policies over the synthesized
dev, staging and prod stacks. Terraform expressions (the key policy, the dashboard body, metric
dimensions) are evaluated with `terraform console`, with stand-in values for what only an apply knows.

What no test here can prove: that AWS accepts the alarms, that CloudWatch evaluates them as its
documentation says, or that an email reaches a person (that needs the confirmation link clicked).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from infrakit.config import Environment, EnvironmentConfig
from infrakit.config.loader import load_environment
from tests.conftest import ENVIRONMENTS, synth
from tests.terraform_console import evaluate, stand_ins

CLOUD = ("dev", "staging", "prod")
ALARM = "aws_cloudwatch_metric_alarm"
# Metrics that move during every healthy rollout: new tasks warm up, old ones drain.
ROLLOUT_METRICS = {"CPUUtilization", "MemoryUtilization", "RunningTaskCount", "UnHealthyHostCount"}
# Metrics AWS publishes only when non-zero: their silence means zero.
PUBLISHED_WHEN_NON_ZERO = {
    "HTTPCode_Target_5XX_Count",
    "HTTPCode_ELB_5XX_Count",
    "BlockedRequests",
    "Evictions",
}


@pytest.fixture(scope="module")
def stacks(synthesized: Path) -> dict[str, dict[str, Any]]:
    return {env: json.loads((synthesized / "stacks" / env / "cdk.tf.json").read_text()) for env in CLOUD}


def of_type(stack: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = stack.get("resource", {}).get(kind, {})
    return found


def alarms_by_name(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {alarm["alarm_name"]: alarm for alarm in of_type(stack, ALARM).values()}


def config_of(env: str) -> EnvironmentConfig:
    return load_environment(ENVIRONMENTS / f"{env}.toml").config


def metrics_of(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) of every metric an alarm reads."""
    if "metric_query" not in alarm:
        return [(alarm["namespace"], alarm["metric_name"], alarm.get("dimensions", {}))]
    return [
        (query["metric"]["namespace"], query["metric"]["metric_name"], query["metric"].get("dimensions", {}))
        for query in alarm["metric_query"]
        if "metric" in query
    ]


def reference_to(kind: str, stack: dict[str, Any], attribute: str) -> set[str]:
    return {f"${{{kind}.{name}.{attribute}}}" for name in of_type(stack, kind)}


# ----------------------------------------------------------------------------- the alarms


@pytest.mark.parametrize("env", CLOUD)
def test_every_alarm_notifies_on_alarm_and_on_ok(stacks: dict[str, Any], env: str):
    stack = stacks[env]
    topics = reference_to("aws_sns_topic", stack, "arn")
    own = config_of(env).alarms
    assert own is not None
    allowed = topics | ({own.sns_topic_arn} if own.sns_topic_arn else set())
    alarms = of_type(stack, ALARM)
    assert alarms
    for name, alarm in alarms.items():
        assert alarm["actions_enabled"] is True, name
        assert alarm["alarm_actions"], f"{name} notifies no one"
        assert set(alarm["alarm_actions"]) <= allowed, name
        assert alarm["ok_actions"] == alarm["alarm_actions"], name


@pytest.mark.parametrize("env", CLOUD)
def test_each_environment_has_the_alarms_its_services_need(stacks: dict[str, Any], env: str):
    config = config_of(env)
    expected = {"api-5xx-rate", "api-p99-latency", "api-unhealthy-hosts", "worker-error-lines"}
    for service in ("api", "worker"):
        expected |= {f"{service}-cpu-high", f"{service}-memory-high", f"{service}-tasks-below-min"}
    expected |= {"waf-blocked-spike", "redis-memory-high", "redis-evictions", "redis-engine-cpu-high"}
    assert config.cache.backend == "elasticache"
    if config.cache.num_cache_clusters > 1:
        expected.add("redis-replication-lag")
    if config.api.deployment.strategy != "rolling":
        # Blue/green and canary move the tasks to a second target group on every other release.
        expected.add("api-unhealthy-hosts-2")
    assert set(alarms_by_name(stacks[env])) == {f"infrakit-{env}-{key}" for key in expected}


@pytest.mark.parametrize("env", CLOUD)
def test_every_alarm_carries_a_one_line_runbook(stacks: dict[str, Any], env: str):
    for name, alarm in alarms_by_name(stacks[env]).items():
        description = alarm["alarm_description"]
        # CloudWatch refuses descriptions over 1024 characters; the page shows a single line.
        assert len(description) <= 1024 and "\n" not in description, name
        meaning, separator, first_check = description.partition(" First check: ")
        assert separator, f"{name}: no 'First check:' in {description!r}"
        assert len(meaning) > 20 and meaning.endswith("."), name
        assert len(first_check) > 20 and first_check.endswith("."), name


@pytest.mark.parametrize("env", CLOUD)
def test_missing_data_is_chosen_for_what_silence_means(stacks: dict[str, Any], env: str):
    for name, alarm in alarms_by_name(stacks[env]).items():
        # Terraform's default ("missing") is never left to chance.
        assert alarm["treat_missing_data"] in {"breaching", "notBreaching", "ignore", "missing"}, name
        metrics = {metric for _, metric, _ in metrics_of(alarm)}
        if metrics & PUBLISHED_WHEN_NON_ZERO:
            assert alarm["treat_missing_data"] == "notBreaching", name
        if "RunningTaskCount" in metrics:
            # Container Insights going quiet is no proof that tasks run.
            assert alarm["treat_missing_data"] == "breaching", name


@pytest.mark.parametrize("env", CLOUD)
def test_redis_alarms_read_every_node_of_the_group(stacks: dict[str, Any], env: str):
    nodes = config_of(env).cache.num_cache_clusters
    memory = alarms_by_name(stacks[env])[f"infrakit-{env}-redis-memory-high"]
    dimensions = [dims for _, _, dims in metrics_of(memory)]
    (group,) = of_type(stacks[env], "aws_elasticache_replication_group")
    values = stand_ins(dimensions)
    (group_id,) = values.values()
    evaluated = evaluate(dimensions, values)
    assert sorted(d["CacheClusterId"] for d in evaluated) == [
        f"{group_id}-{n:03d}" for n in range(1, nodes + 1)
    ]
    if nodes > 1:
        result = next(q for q in memory["metric_query"] if q.get("return_data"))
        assert result["expression"] == f"MAX([{', '.join(f'node{n}' for n in range(1, nodes + 1))}])"


# ----------------------------------------------------------------------------- the 5xx rate


def metric_math(expression: str, **values: float | None) -> float:
    """CloudWatch's metric math for one period's values: arithmetic, FILL and IF."""

    def fill(value: float | None, default: float) -> float:
        return default if value is None else value

    def when(condition: bool, then: float, otherwise: float) -> float:
        return then if condition else otherwise

    result: float = eval(expression, {"__builtins__": {}}, {"FILL": fill, "IF": when, **values})
    return result


def test_the_5xx_rate_is_a_percentage_of_requests_from_api_and_load_balancer(stacks: dict[str, Any]):
    """The expression Terraform hands CloudWatch (evaluated by terraform console), run on one
    period's values. What it cannot prove: CloudWatch's alignment of whole time series."""
    alarm = alarms_by_name(stacks["prod"])["infrakit-prod-api-5xx-rate"]
    queries = evaluate(alarm["metric_query"], stand_ins(alarm["metric_query"]))
    inputs = {q["id"]: q["metric"]["metric_name"] for q in queries if "metric" in q}
    assert inputs == {
        "requests": "RequestCount",
        "target5xx": "HTTPCode_Target_5XX_Count",
        "elb5xx": "HTTPCode_ELB_5XX_Count",
    }
    assert all(q["metric"]["stat"] == "Sum" for q in queries if "metric" in q)
    (result,) = [q for q in queries if q.get("return_data")]
    expression = result["expression"]
    assert metric_math(expression, requests=200, target5xx=6, elb5xx=4) == pytest.approx(5.0)
    # Both counts exist only when non-zero.
    assert metric_math(expression, requests=200, target5xx=None, elb5xx=None) == 0
    assert metric_math(expression, requests=200, target5xx=None, elb5xx=30) == pytest.approx(15.0)
    # Too few requests to judge (alb_5xx_min_requests = 20): 19 failures of 19 do not page.
    assert metric_math(expression, requests=19, target5xx=19, elb5xx=None) == 0
    assert metric_math(expression, requests=20, target5xx=20, elb5xx=None) == pytest.approx(100.0)
    assert alarm["threshold"] == 5 and alarm["comparison_operator"] == "GreaterThanThreshold"


# ----------------------------------------------------------------------------- rollback


def deployment_alarms(stack: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each ECS service's deployment alarms, resolved to the alarm resources they name."""
    by_reference = {f"${{{ALARM}.{name}.alarm_name}}": alarm for name, alarm in of_type(stack, ALARM).items()}
    found = {}
    for service in of_type(stack, "aws_ecs_service").values():
        names = service["alarms"]["alarm_names"]
        assert set(names) <= set(by_reference), f"{service['name']}: {names} name no alarm of this stack"
        found[service["name"]] = [by_reference[name] for name in names]
    return found


@pytest.mark.parametrize("env", CLOUD)
def test_every_ecs_service_rolls_back_on_its_deployment_alarms(stacks: dict[str, Any], env: str):
    services = of_type(stacks[env], "aws_ecs_service")
    assert {s["name"] for s in services.values()} == {"api", "worker"}
    for service in services.values():
        assert service["alarms"]["enable"] is True and service["alarms"]["rollback"] is True
        assert service["alarms"]["alarm_names"]
        assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert all(deployment_alarms(stacks[env]).values())


@pytest.mark.parametrize("env", CLOUD)
def test_deployment_alarms_judge_the_release_not_the_rollout(stacks: dict[str, Any], env: str):
    stack = stacks[env]
    chosen = deployment_alarms(stack)
    for service, alarms in chosen.items():
        for alarm in alarms:
            metrics = {metric for _, metric, _ in metrics_of(alarm)}
            assert not metrics & ROLLOUT_METRICS, f"{service} rolls back on {metrics & ROLLOUT_METRICS}"
    api = {metric for alarm in chosen["api"] for _, metric, _ in metrics_of(alarm)}
    assert api == {
        "RequestCount",
        "HTTPCode_Target_5XX_Count",
        "HTTPCode_ELB_5XX_Count",
        "TargetResponseTime",
    }
    # The worker's: the count of error lines that a metric filter reads from the worker's own logs.
    (worker_alarm,) = chosen["worker"]
    ((namespace, metric, _),) = metrics_of(worker_alarm)
    (metric_filter,) = of_type(stack, "aws_cloudwatch_log_metric_filter").values()
    transformation = metric_filter["metric_transformation"]
    assert (transformation["namespace"], transformation["name"]) == (namespace, metric)
    worker_logs = [
        n for n, g in of_type(stack, "aws_cloudwatch_log_group").items() if g["name"].endswith("-worker")
    ]
    assert metric_filter["log_group_name"] == f"${{aws_cloudwatch_log_group.{worker_logs[0]}.name}}"
    assert metric_filter["pattern"] == "?ERROR ?FATAL"


# ----------------------------------------------------------------------------- the topic and its key


@pytest.mark.parametrize("env", CLOUD)
def test_the_alarm_topic_is_encrypted_with_the_environment_key(stacks: dict[str, Any], env: str):
    stack = stacks[env]
    ((topic_name, topic),) = of_type(stack, "aws_sns_topic").items()
    (key,) = reference_to("aws_kms_key", stack, "arn")
    assert topic["kms_master_key_id"] == key
    subscriptions = of_type(stack, "aws_sns_topic_subscription").values()
    emails = config_of(env).alarms.emails
    assert sorted(s["endpoint"] for s in subscriptions) == sorted(emails)
    for subscription in subscriptions:
        assert subscription["protocol"] == "email"
        assert subscription["topic_arn"] == f"${{aws_sns_topic.{topic_name}.arn}}"


@pytest.mark.parametrize("env", CLOUD)
def test_cloudwatch_may_use_the_key_for_this_accounts_alarms_only(stacks: dict[str, Any], env: str):
    (key,) = of_type(stacks[env], "aws_kms_key").values()
    account = "480937561234"
    values = stand_ins(key["policy"], account_id=account, partition="aws", region="eu-west-1")
    policy = json.loads(evaluate(key["policy"], values))
    (statement,) = [
        s for s in policy["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:eu-west-1:{account}:alarm:*"},
    }


# ----------------------------------------------------------------------------- the dashboard


@pytest.mark.parametrize("env", CLOUD)
def test_the_dashboard_evaluates_to_json_showing_every_alarm_and_its_metrics(
    stacks: dict[str, Any], env: str
):
    stack = stacks[env]
    (dashboard,) = of_type(stack, "aws_cloudwatch_dashboard").values()
    assert dashboard["dashboard_name"] == f"infrakit-{env}"
    alarms = of_type(stack, ALARM)
    watched = {name: [list(m) for m in metrics_of(alarm)] for name, alarm in alarms.items()}
    arns = {name: f"${{{ALARM}.{name}.arn}}" for name in alarms}
    templates = {"body": dashboard["dashboard_body"], "watched": watched, "arns": arns}
    evaluated = evaluate(templates, stand_ins(templates))
    body = json.loads(evaluated["body"])  # valid JSON once Terraform has filled in the references

    (status,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert sorted(status["properties"]["alarms"]) == sorted(evaluated["arns"].values())
    shown = set()
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        assert widget["properties"]["region"] == "eu-west-1"
        for row in widget["properties"]["metrics"]:
            if isinstance(row[0], str):
                namespace, metric, *pairs = row[:-1] if isinstance(row[-1], dict) else row
                shown.add((namespace, metric, tuple(sorted(zip(pairs[::2], pairs[1::2], strict=True)))))
    for name, metrics in evaluated["watched"].items():
        for namespace, metric, dimensions in metrics:
            assert (namespace, metric, tuple(sorted(dimensions.items()))) in shown, f"{name}: {metric}"
    assert all(w["x"] + w["width"] <= 24 for w in body["widgets"])


# ----------------------------------------------------------------------------- from the environment file


def staging_with(**alarms: Any) -> dict[str, Any]:
    data = tomllib.loads((ENVIRONMENTS / "staging.toml").read_text())
    data["alarms"] = {**data["alarms"], **alarms}
    return data


def synth_config(data: dict[str, Any]) -> dict[str, Any]:
    config = EnvironmentConfig.model_validate(data)
    document: dict[str, Any] = json.loads(
        synth(Environment(name="staging", file="staging.toml", config=config))
    )
    return document


@pytest.fixture(scope="module")
def tuned() -> dict[str, Any]:
    """staging with every threshold changed, an error pattern holding `${`, and a worker that may
    scale to zero."""
    data = staging_with(
        service_cpu_percent=71,
        service_memory_percent=72,
        alb_5xx_rate_percent=2.5,
        alb_5xx_min_requests=37,
        alb_p99_response_seconds=0.75,
        redis_memory_percent=73,
        redis_engine_cpu_percent=74,
        redis_replication_lag_seconds=12,
        waf_blocked_requests_per_5_minutes=333,
        worker_error_lines_per_minute=4,
        worker_error_pattern='{ $.level = "error" && $.msg != "${literal}" }',
    )
    data["worker"]["min_count"] = 0
    return synth_config(data)


@pytest.mark.parametrize(
    ("alarm", "threshold"),
    [
        ("api-cpu-high", 71),
        ("worker-cpu-high", 71),
        ("api-memory-high", 72),
        ("worker-memory-high", 72),
        ("api-5xx-rate", 2.5),
        ("api-p99-latency", 0.75),
        ("redis-memory-high", 73),
        ("redis-engine-cpu-high", 74),
        ("redis-replication-lag", 12),
        ("waf-blocked-spike", 333),
        ("worker-error-lines", 4),
    ],
)
def test_each_threshold_comes_from_the_environment_file(tuned: dict[str, Any], alarm: str, threshold: float):
    assert alarms_by_name(tuned)[f"infrakit-staging-{alarm}"]["threshold"] == threshold


def test_the_minimum_request_count_and_error_pattern_come_from_the_environment_file(tuned: dict[str, Any]):
    rate = alarms_by_name(tuned)["infrakit-staging-api-5xx-rate"]
    (result,) = [q for q in rate["metric_query"] if q.get("return_data")]
    assert metric_math(result["expression"], requests=36, target5xx=36, elb5xx=None) == 0
    assert metric_math(result["expression"], requests=37, target5xx=1, elb5xx=None) > 2.5
    (metric_filter,) = of_type(tuned, "aws_cloudwatch_log_metric_filter").values()
    # Terraform reads every string as a template: the pattern must reach CloudWatch as written.
    assert evaluate(metric_filter["pattern"], {}) == '{ $.level = "error" && $.msg != "${literal}" }'


def test_a_service_that_may_scale_to_zero_has_no_running_task_alarm(tuned: dict[str, Any]):
    names = set(alarms_by_name(tuned))
    assert "infrakit-staging-worker-tasks-below-min" not in names
    assert "infrakit-staging-api-tasks-below-min" in names


def test_a_topic_of_your_own_is_used_and_no_topic_is_created():
    arn = "arn:aws:sns:eu-west-1:480937561234:oncall"
    data = staging_with(sns_topic_arn=arn)
    data["alarms"].pop("emails")
    document = synth_config(data)
    assert of_type(document, "aws_sns_topic") == {}
    assert of_type(document, "aws_sns_topic_subscription") == {}
    assert {tuple(a["alarm_actions"]) for a in of_type(document, ALARM).values()} == {(arn,)}
