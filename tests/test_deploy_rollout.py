"""The wait after a cloud deploy: ECS's rollout and the api's targets, read through stubbed ECS and
ELBv2 clients (botocore Stubber, AWS's documented response shapes; tests/rollout_stub.py).

Time is a fake clock that the injected sleep moves on: no test waits. What these cannot prove:
that real ECS goes through these states in this order, and words its reasons exactly so (the
reasons are quoted from AWS's stopped-task error documentation).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from botocore.stub import Stubber

from infrakit.config.loader import load_environment
from infrakit.deploy.rollout import DEFAULT_TIMING, RolloutFailed, Timing, wait_for_rollout
from infrakit.deploy.serving import rollout_target
from tests import rollout_stub as aws
from tests.conftest import ENVIRONMENTS, offline_client


class Clock:
    """Monotonic time that only the rollout's sleeps move."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber, Any, Stubber]]:
    ecs, elbv2 = offline_client("ecs", aws.REGION), offline_client("elbv2", aws.REGION)
    with Stubber(ecs) as ecs_stubber, Stubber(elbv2) as elbv2_stubber:
        yield ecs, ecs_stubber, elbv2, elbv2_stubber
        ecs_stubber.assert_no_pending_responses()
        elbv2_stubber.assert_no_pending_responses()


def wait(
    stubbed: Any, answers: dict[str, list[aws.Answer]], timing: Timing, said: list[str], clock: Clock
) -> float:
    ecs, ecs_stubber, elbv2, elbv2_stubber = stubbed
    aws.load(ecs_stubber, answers["ecs"])
    aws.load(elbv2_stubber, answers["elbv2"])
    target = rollout_target(load_environment(ENVIRONMENTS / "dev.toml"))
    assert target is not None
    return wait_for_rollout(
        target, ecs=ecs, elbv2=elbv2, say=said.append, timing=timing, clock=clock, sleep=clock.sleep
    )


def failure(
    stubbed: Any, answers: dict[str, list[aws.Answer]], timing: Timing = DEFAULT_TIMING
) -> tuple[str, list[str]]:
    said: list[str] = []
    with pytest.raises(RolloutFailed) as failed:
        wait(stubbed, answers, timing, said, Clock())
    return "\n".join(failed.value.lines), said


def test_a_healthy_rollout_ends_once_every_service_completed_and_the_targets_are_healthy(stubbed) -> None:
    said: list[str] = []
    clock = Clock()
    seconds = wait(stubbed, aws.healthy_rollout(), Timing(timeout=900, interval=10), said, clock)
    assert seconds == 10 and clock.slept == [10]
    assert said == [
        "0m00s: api 0/1 running, rollout IN_PROGRESS; worker 0/1 running, rollout IN_PROGRESS; api targets: "
        "1 initial, 1 draining (Elb.InitialHealthChecking: Initial health checks in progress)",
        "0m10s: api 1/1 running, rollout COMPLETED; worker 1/1 running, rollout COMPLETED; api targets: "
        "1 healthy, 1 draining",
    ]


def test_a_blue_green_service_is_judged_on_both_target_groups(stubbed) -> None:
    """After a blue/green release the api's tasks are in the alternate target group and the first
    one only drains. The wait finds both groups by the names the stack gives them and reads both,
    so it ends instead of waiting for targets that never come back to the first group.
    Cannot prove: which group ECS names as the service's targetGroupArn after several releases (the
    wait does not depend on it)."""
    alternate = aws.TARGET_GROUP.replace("/infrakit-dev-api/", "/infrakit-dev-api-alt/")
    answers = {
        "ecs": [
            aws.services(
                aws.service("api", aws.deployment("api", 2, "COMPLETED", 1)),
                aws.service("worker", aws.deployment("worker", 2, "COMPLETED", 1)),
            ),
            aws.latest_revision("api", 2),
            aws.latest_revision("worker", 2),
        ],
        "elbv2": [
            (
                "describe_target_groups",
                {"TargetGroups": [{"TargetGroupArn": aws.TARGET_GROUP}, {"TargetGroupArn": alternate}]},
                {"Names": ["infrakit-dev-api", "infrakit-dev-api-alt"]},
            ),
            aws.targets("draining"),
            aws.targets("healthy", group=alternate),
        ],
    }
    ecs, ecs_stubber, elbv2, elbv2_stubber = stubbed
    aws.load(ecs_stubber, answers["ecs"])
    aws.load(elbv2_stubber, answers["elbv2"])
    target = rollout_target(load_environment(ENVIRONMENTS / "dev.toml"))
    assert target is not None
    target = replace(target, target_group_names=("infrakit-dev-api", "infrakit-dev-api-alt"))
    said: list[str] = []
    clock = Clock()
    elapsed = wait_for_rollout(
        target,
        ecs=ecs,
        elbv2=elbv2,
        say=said.append,
        timing=Timing(timeout=900, interval=10),
        clock=clock,
        sleep=clock.sleep,
    )
    assert elapsed == 0
    assert said == [
        "0m00s: api 1/1 running, rollout COMPLETED; worker 1/1 running, rollout COMPLETED; api targets: "
        "1 draining, 1 healthy"
    ]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_wait_knows_both_target_groups_where_the_api_shifts_traffic(env) -> None:
    """prod and staging ship blue/green: the wait is given both group names, as the stack names
    them; dev is rolling and has one. Cannot prove: the names on AWS (the stack sets them)."""
    target = rollout_target(load_environment(ENVIRONMENTS / f"{env}.toml"))
    assert target is not None
    strategy = load_environment(ENVIRONMENTS / f"{env}.toml").config.api.deployment.strategy
    expected = (f"infrakit-{env}-api", f"infrakit-{env}-api-alt") if strategy != "rolling" else ()
    assert target.target_group_names == expected


def test_an_earlier_deploys_failed_deployment_still_draining_is_not_this_ones(stubbed) -> None:
    answers = aws.healthy_rollout()
    _, response, _ = answers["ecs"][0]
    api = response["services"][0]
    api["deployments"][1] = aws.deployment("api", 1, "FAILED", 1, status="ACTIVE", reason=aws.CIRCUIT_BREAKER)
    assert wait(stubbed, answers, Timing(timeout=900, interval=10), [], Clock()) == 10


@pytest.mark.parametrize(
    ("reason", "fix"),
    [
        (
            aws.SECRETS_UNREADABLE,
            "the execution role infrakit-dev-api-execution may read the service's secrets",
        ),
        (
            aws.IMAGE_UNPULLABLE,
            "api.image_tag = '0.1.0' in environments/dev.toml is in the ECR repository infrakit-dev-api",
        ),
        (
            "Task failed ELB health checks in (target-group " + aws.TARGET_GROUP + ")",
            "health check of /healthz on port 8080",
        ),
        ("Essential container in task exited", "the app exited"),
    ],
    ids=["secrets", "image", "elb-health", "exited"],
)
def test_a_failed_first_deployment_names_the_service_the_reason_and_the_fix(stubbed, reason, fix) -> None:
    text, said = failure(stubbed, aws.failed_first_deployment(reason))
    lines = text.splitlines()
    assert lines[0] == f"api: the deployment failed: {aws.CIRCUIT_BREAKER}"
    assert lines[1] == f"  3 tasks stopped; ECS's reason for the last: {reason}"
    assert fix in lines[2] and lines[2].startswith("  fix: ")
    assert lines[3] == (
        "  logs: log group /infrakit/infrakit-dev-api (aws logs tail /infrakit/infrakit-dev-api --since 1h "
        "--region eu-west-1)"
    )
    assert "the deploy itself is done" in lines[-1]
    assert said == []  # it failed on the first look: no progress line was due yet


def test_a_circuit_breaker_rollback_that_already_finished_is_a_failure_not_a_success(stubbed) -> None:
    """The previous revision runs again, COMPLETED and healthy: only the revision tells."""
    answers = {
        "ecs": [
            aws.services(
                aws.service(
                    "api",
                    aws.deployment("api", 1, "COMPLETED", 1, reason="ECS deployment ecs-svc/1 completed."),
                ),
                aws.service("worker", aws.deployment("worker", 2, "COMPLETED", 1)),
            ),
            aws.latest_revision("api", 2),
            *aws.stopped_tasks("api", 2, "Task failed ELB health checks in (target-group x)"),
        ],
        "elbv2": [],
    }
    text, _ = failure(stubbed, answers)
    assert text.startswith(
        "api: the deployment was rolled back to infrakit-dev-api:1 (this deploy's is infrakit-dev-api:2)"
    )
    assert "ECS's reason for the last: Task failed ELB health checks" in text


def test_an_alarm_rollback_says_so_and_what_to_do(stubbed) -> None:
    reason = "ECS deployment alarm(s) infrakit-dev-api-5xx-rate in ALARM state; rolling back."
    answers = {
        "ecs": [
            aws.services(
                aws.service(
                    "api",
                    aws.deployment("api", 1, "IN_PROGRESS", 1),
                    aws.deployment("api", 2, "FAILED", 1, status="ACTIVE", reason=reason),
                ),
                aws.service("worker", aws.deployment("worker", 2, "COMPLETED", 1)),
            ),
            aws.latest_revision("api", 2),
            *aws.stopped_tasks("api", 2, "Scaling activity initiated by (deployment ecs-svc/2000)"),
        ],
        "elbv2": [],
    }
    text, _ = failure(stubbed, answers)
    assert text.startswith(f"api: the deployment failed: {reason}\n  fix: a deployment alarm fired")


def test_targets_that_never_get_healthy_hit_the_bound_with_progress_shown(stubbed) -> None:
    done = aws.services(
        aws.service("api", aws.deployment("api", 2, "COMPLETED", 1)),
        aws.service("worker", aws.deployment("worker", 2, "COMPLETED", 1)),
    )
    polls = 7  # at 0, 10, ... 60 s: the bound is 60 s
    answers = {
        "ecs": [done, aws.latest_revision("api", 2), aws.latest_revision("worker", 2), *[done] * (polls - 1)],
        "elbv2": [aws.targets(aws.UNHEALTHY)] * polls,
    }
    text, said = failure(stubbed, answers, Timing(timeout=60, interval=10, heartbeat=15))
    progress = (
        "api 1/1 running, rollout COMPLETED; worker 1/1 running, rollout COMPLETED; api targets: 1 unhealthy "
        "(Target.ResponseCodeMismatch: Health checks failed with these codes: [404])"
    )
    # One line on the first look, then one whenever 15 s passed without a change.
    assert said == [f"{t}: {progress}" for t in ("0m00s", "0m20s", "0m40s", "1m00s")]
    assert (
        "api: its load balancer targets are not healthy within 1m00s (the bound, --wait-timeout): "
        "api targets: 1 unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [404])"
    ) in text
    assert "fix: the load balancer's health check of /healthz on port 8080 did not get 200-399" in text
    assert "log group /infrakit/infrakit-dev-api" in text


def test_a_rollout_still_in_progress_at_the_bound_names_the_service_and_its_stopped_tasks(stubbed) -> None:
    starting = aws.services(
        aws.service("api", aws.deployment("api", 2, "COMPLETED", 1)),
        aws.service("worker", aws.deployment("worker", 2, "IN_PROGRESS", 0)),
    )
    answers = {
        "ecs": [
            starting,
            aws.latest_revision("api", 2),
            aws.latest_revision("worker", 2),
            starting,
            *aws.stopped_tasks("worker", 2, "Essential container in task exited", count=1),
        ],
        "elbv2": [aws.targets("healthy")] * 2,
    }
    text, said = failure(stubbed, answers, Timing(timeout=5, interval=10))
    assert (
        "worker: not rolled out within 0m05s (the bound, --wait-timeout): rollout IN_PROGRESS, 0/1 running"
        in text
    )
    assert "1 task stopped; ECS's reason for the last: Essential container in task exited" in text
    assert "/infrakit/infrakit-dev-worker" in text
    assert len(said) == 1  # the first look; the look at the bound (5 s later) changed nothing


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_wait_watches_what_the_stack_creates(synthesized, env) -> None:
    """The names the wait and its fixes use are those of the synthesized stack: the cluster, the ECS
    services, their task definition families, log groups and execution roles. Cannot prove what
    AWS names beyond what Terraform is told."""
    document = json.loads((synthesized / "stacks" / env / "cdk.tf.json").read_text())
    resources = document["resource"]
    target = rollout_target(load_environment(ENVIRONMENTS / f"{env}.toml"))
    assert target is not None
    (cluster,) = [c["name"] for c in resources["aws_ecs_cluster"].values()]
    assert target.cluster == cluster
    assert sorted(target.services) == sorted(s["name"] for s in resources["aws_ecs_service"].values())
    families = {d["family"] for d in resources["aws_ecs_task_definition"].values()}
    assert {f"{cluster}-{service}" for service in target.services} == families  # _latest_revision's family
    log_groups = {g["name"] for g in resources["aws_cloudwatch_log_group"].values()}
    assert set(target.log_groups.values()) <= log_groups
    roles = {r["name"] for r in resources["aws_iam_role"].values()}
    assert {facts.execution_role for facts in target.facts.values()} <= roles
