"""ElastiCache runs on a schedule the operator chose, delivers its slow and engine logs, and says
where its events go (issue #18, item 7).

- Windows: every cloud environment names its weekly maintenance window and daily snapshot window;
  without them ElastiCache picks a random hour, and with apply_immediately = false pending changes
  land in it. Formats and limits are ElastiCache's (CreateReplicationGroup, ElastiCache API
  Reference: "ddd:hh24:mi-ddd:hh24:mi", "hh24:mi-hh24:mi", at least 60 minutes each; ElastiCache
  refuses overlapping windows). A bad window is a configuration error naming file and key.
- Logs: the slow log and the engine log go as JSON to a log group each, encrypted with the
  environment key and kept for [aws] log_retention_days; the replication group comes after them.
- Events: `notification_topic_arn` from [cache], never infrakit's alarm topic, which is encrypted:
  ElastiCache cannot publish to an encrypted topic (ElastiCache user guide, "Event Notifications
  and Amazon SNS").

What these tests cannot prove: that AWS accepts the windows, delivers logs, or publishes events.
They read the synthesized JSON and the config, not an account.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from infrakit.config import Environment, EnvironmentConfig
from infrakit.config.aws import ElastiCacheRedis
from tests.apply_graph import ApplyGraph
from tests.conftest import ENVIRONMENTS, PYTHON, ROOT, synth

CLOUD = ("dev", "staging", "prod")
LOG_TYPES = {"slow-log", "engine-log"}


@pytest.fixture(scope="module")
def stacks(synthesized: Path) -> dict[str, dict[str, Any]]:
    return {env: json.loads((synthesized / "stacks" / env / "cdk.tf.json").read_text()) for env in CLOUD}


def toml(env: str) -> dict[str, Any]:
    return tomllib.loads((ENVIRONMENTS / f"{env}.toml").read_text())


def the_group(stack: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ((name, group),) = stack["resource"]["aws_elasticache_replication_group"].items()
    return name, group


def reference(value: str, resource_type: str) -> str:
    """The resource name in "${<resource_type>.<name>.<attribute>}"."""
    match = re.fullmatch(rf"\$\{{{re.escape(resource_type)}\.([\w-]+)\.\w+\}}", value)
    assert match, value
    return match[1]


# ----------------------------------------------------------------------------- windows


@pytest.mark.parametrize("env", CLOUD)
def test_every_cloud_environment_names_apart_windows_the_group_uses(stacks, env):
    """Each shipped cloud file names both windows, they validate (60 minutes each, no overlap), and
    the replication group carries exactly them. Cannot prove: that the hours are quiet for the
    application, or that ElastiCache keeps them (it stores the maintenance window lowercase, which
    validation requires, so Terraform shows no drift)."""
    cache = toml(env)["cache"]
    validated = ElastiCacheRedis.model_validate(cache)
    _, group = the_group(stacks[env])
    assert group["maintenance_window"] == cache["maintenance_window"] == validated.maintenance_window
    assert group["snapshot_window"] == cache["snapshot_window"] == validated.snapshot_window
    assert group["apply_immediately"] is False  # changes wait for the maintenance window


def test_each_environment_is_maintained_on_its_own_day():
    """dev, staging and prod are patched on different days, dev first, so a bad patch shows up in
    dev and staging before prod. Cannot prove: that AWS releases a patch to all three at once."""
    days = [toml(env)["cache"]["maintenance_window"][:3] for env in CLOUD]
    assert len(set(days)) == 3
    order = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
    assert [order.index(day) for day in days] == sorted(order.index(day) for day in days)


def cache_with(**changes: Any) -> dict[str, Any]:
    return {**toml("dev")["cache"], **changes}


def error_text(cache: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        ElastiCacheRedis.model_validate(cache)
    return str(caught.value)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {"maintenance_window": "sun:04:00-sun:04:59"},
            "maintenance_window sun:04:00-sun:04:59 lasts 59 minutes; ElastiCache needs at least 60",
            id="maintenance-59-minutes",
        ),
        pytest.param(
            {"snapshot_window": "23:30-00:15"},
            "snapshot_window 23:30-00:15 lasts 45 minutes; ElastiCache needs at least 60",
            id="snapshot-45-minutes-across-midnight",
        ),
        pytest.param(
            {"snapshot_window": "02:00-02:00"},
            "snapshot_window 02:00-02:00 lasts 0 minutes",
            id="snapshot-empty",
        ),
        pytest.param(
            {"maintenance_window": "Sun:04:00-sun:05:00"},
            "is not ddd:hh24:mi-ddd:hh24:mi in UTC with a lowercase day",
            id="maintenance-capitalised",
        ),
        pytest.param(
            {"maintenance_window": "sunday 04:00-05:00"},
            "is not ddd:hh24:mi-ddd:hh24:mi",
            id="maintenance-malformed",
        ),
        pytest.param(
            {"snapshot_window": "24:00-01:00"},
            "is not hh24:mi-hh24:mi in UTC",
            id="snapshot-hour-24",
        ),
        pytest.param(
            {"maintenance_window": "tue:04:00-tue:05:00", "snapshot_window": "04:30-05:30"},
            "snapshot_window 04:30-05:30 overlaps maintenance_window tue:04:00-tue:05:00 on tue",
            id="overlap-inside-a-day",
        ),
        pytest.param(
            {"maintenance_window": "sat:23:30-sun:00:30", "snapshot_window": "00:00-01:00"},
            "overlaps maintenance_window sat:23:30-sun:00:30 on sun",
            id="overlap-across-the-week-boundary",
        ),
        pytest.param(
            {"maintenance_window": "wed:22:00-thu:02:00", "snapshot_window": "01:00-02:00"},
            "overlaps maintenance_window wed:22:00-thu:02:00 on thu",
            id="overlap-across-midnight",
        ),
        pytest.param({"logs": ["slow-log", "slow-log"]}, "logs lists a log type twice", id="log-twice"),
        pytest.param({"logs": ["audit-log"]}, "Input should be 'slow-log' or 'engine-log'", id="log-unknown"),
        pytest.param(
            {"notification_topic_arn": "arn:aws:sns:eu-west-1:123:alarms"},
            "is not the ARN of a standard SNS topic",
            id="topic-not-an-arn",
        ),
    ],
)
def test_invalid_windows_logs_and_topics_are_refused(changes, expected):
    """Each mistake fails validation with a message naming the value and the rule. Cannot prove: that
    AWS has no further rule (a longest window, say) that these values would break."""
    assert expected in error_text(cache_with(**changes))


@pytest.mark.parametrize(
    ("maintenance", "snapshot"),
    [
        ("tue:04:00-tue:05:00", "03:00-04:00"),  # ends as maintenance starts
        ("tue:04:00-tue:05:00", "05:00-06:00"),  # starts as maintenance ends
        ("sat:23:00-sun:01:00", "01:00-02:00"),  # across the week boundary, touching
        ("sun:04:00-sun:05:00", "23:00-04:00"),  # across midnight, touching
    ],
)
def test_windows_that_only_touch_are_accepted(maintenance, snapshot):
    """Touching windows share no minute. Cannot prove: that ElastiCache reads touching windows the
    same way (its docs say only "must not overlap")."""
    ElastiCacheRedis.model_validate(cache_with(maintenance_window=maintenance, snapshot_window=snapshot))


def test_a_cache_without_windows_is_a_configuration_error_naming_file_and_key(tmp_path):
    """`python main.py` refuses a file that leaves the windows to AWS, and one with overlapping
    windows, naming file and key, before synthesizing anything. Cannot prove: anything about files
    it does not read."""
    dev = (ENVIRONMENTS / "dev.toml").read_text()
    staging = (ENVIRONMENTS / "staging.toml").read_text()
    (tmp_path / "dev.toml").write_text(re.sub(r"(?m)^maintenance_window = .*\n", "", dev))
    (tmp_path / "staging.toml").write_text(
        re.sub(r'(?m)^snapshot_window = ".*"$', 'snapshot_window = "03:30-04:30"', staging)
    )
    result = subprocess.run(
        [
            PYTHON,
            str(ROOT / "main.py"),
            "--environments-dir",
            str(tmp_path),
            "--outdir",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "dev.toml: cache.maintenance_window: required key is missing" in result.stderr
    assert (
        "staging.toml: cache: snapshot_window 03:30-04:30 overlaps maintenance_window "
        "wed:04:00-wed:05:00 on wed" in result.stderr
    )
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------- logs


@pytest.mark.parametrize("env", CLOUD)
def test_slow_and_engine_logs_go_as_json_to_encrypted_log_groups_with_the_environments_retention(stacks, env):
    """One delivery per log type, JSON, to CloudWatch Logs, each to a log group of its own under
    /aws/vendedlogs/ (which keeps the account's log resource policy under its size limit), encrypted
    with the environment's KMS key and kept [aws] log_retention_days. Cannot prove: that ElastiCache
    delivers anything (the deploying identity needs logs:CreateLogDelivery and the resource-policy
    actions, ElastiCache user guide, "ElastiCache logging destinations")."""
    stack = stacks[env]
    _, group = the_group(stack)
    deliveries = group["log_delivery_configuration"]
    assert {d["log_type"] for d in deliveries} == LOG_TYPES and len(deliveries) == 2
    log_groups = stack["resource"]["aws_cloudwatch_log_group"]
    (key,) = stack["resource"]["aws_kms_key"]
    destinations = set()
    for delivery in deliveries:
        assert delivery["destination_type"] == "cloudwatch-logs"
        assert delivery["log_format"] == "json"
        log_group = log_groups[reference(delivery["destination"], "aws_cloudwatch_log_group")]
        destinations.add(log_group["name"])
        assert log_group["name"].startswith("/aws/vendedlogs/infrakit/")
        assert log_group["name"].endswith(f"/redis/{delivery['log_type']}")
        assert reference(log_group["kms_key_id"], "aws_kms_key") == key
        assert log_group["retention_in_days"] == toml(env)["aws"]["log_retention_days"]
    assert len(destinations) == 2


@pytest.mark.parametrize("env", CLOUD)
def test_the_key_policy_lets_cloudwatch_logs_encrypt_the_cache_log_groups(stacks, env):
    """The log groups are encrypted with the environment key, so CloudWatch Logs (which writes what
    ElastiCache delivers) must be allowed to use it for them: the key policy admits the regional
    logs principal for every log group of the account, which covers the cache's (CloudWatch Logs
    user guide, "Encrypt log data in CloudWatch Logs using AWS KMS"). Cannot prove: that no other
    statement or SCP denies it."""
    stack = stacks[env]
    (key,) = stack["resource"]["aws_kms_key"].values()
    policy = json.loads(key["policy"])
    (logs,) = [s for s in policy["Statement"] if s["Sid"] == "CloudWatchLogsEncrypts"]
    assert re.fullmatch(
        r"logs\.\$\{data\.aws_region\.[\w-]+\.region\}\.amazonaws\.com", logs["Principal"]["Service"]
    )
    assert {"kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"} <= set(logs["Action"])
    scope = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert scope.endswith(":log-group:*")  # any log group name, /aws/vendedlogs/... included


@pytest.mark.parametrize("env", CLOUD)
def test_the_replication_group_comes_after_its_log_groups(stacks, env):
    """ElastiCache checks the destination when log delivery is set up, so each log group must exist
    first: the group names it by reference, which orders it on Terraform's graph. Cannot prove: that
    the log group is visible to ElastiCache the moment CloudWatch Logs reports it created."""
    graph = ApplyGraph.of(stacks[env])
    (group,) = graph.of_type("aws_elasticache_replication_group")
    log_groups = graph.roots_of_type(
        graph.bodies[group]["log_delivery_configuration"], "aws_cloudwatch_log_group"
    )
    assert len(log_groups) == 2
    assert all(graph.comes_after(group, log_group) for log_group in log_groups)


# ----------------------------------------------------------------------------- events


@pytest.mark.parametrize("env", CLOUD)
def test_the_cache_never_notifies_an_encrypted_topic(stacks, env):
    """ElastiCache cannot publish to an encrypted topic: attached, it shows as inactive and nothing
    arrives (ElastiCache user guide, "Event Notifications and Amazon SNS"). So the cache never names
    a topic of the stack (all are encrypted with the environment key); shipped environments name
    none, leaving events to the Redis alarms. Cannot prove: that a topic named in [cache] is
    unencrypted, in the same account and region, with an aws:SourceOwner access policy."""
    _, group = the_group(stacks[env])
    topic = group.get("notification_topic_arn")
    assert topic == toml(env)["cache"].get("notification_topic_arn")
    assert topic is None or "aws_sns_topic." not in topic


def test_the_topic_logs_and_apply_immediately_named_in_the_config_reach_the_group():
    """`notification_topic_arn`, `logs = []` and `apply_immediately = true` in [cache] reach the
    replication group as written: the topic, no log delivery and no cache log group, changes applied
    at once. Synthesized in process from dev.toml so changed. Cannot prove: that ElastiCache may
    publish to the topic."""
    data = toml("dev")
    topic = "arn:aws:sns:eu-west-1:123456789012:cache-events"
    data["cache"] = {**data["cache"], "notification_topic_arn": topic, "logs": [], "apply_immediately": True}
    environment = Environment(name="dev", file="dev.toml", config=EnvironmentConfig.model_validate(data))
    stack = json.loads(synth(environment))
    _, group = the_group(stack)
    assert group["notification_topic_arn"] == topic
    assert group["apply_immediately"] is True
    assert "log_delivery_configuration" not in group
    assert not [g for g in stack["resource"]["aws_cloudwatch_log_group"].values() if "/redis/" in g["name"]]


def test_the_windows_and_logs_are_in_the_cache_config_with_defaults_that_log_both():
    """An elasticache table gets both logs unless it says otherwise, and must name both windows.
    Cannot prove: anything about environments other than these values."""
    minimal = {
        "backend": "elasticache",
        "node_type": "cache.t4g.micro",
        "maintenance_window": "sun:04:00-sun:05:00",
        "snapshot_window": "02:00-03:00",
    }
    cache = ElastiCacheRedis.model_validate(minimal)
    assert set(cache.logs) == LOG_TYPES
    assert cache.notification_topic_arn is None and cache.apply_immediately is False
    for missing in ("maintenance_window", "snapshot_window"):
        assert "Field required" in error_text({k: v for k, v in minimal.items() if k != missing})
