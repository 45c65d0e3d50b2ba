"""`infrakit drill`: a revision that fails its health check is released, and ECS must roll it back.

ECS and CloudWatch are faked at the SDK boundary: real boto3 clients under botocore's Stubber, which
answers in the shapes AWS documents and fails a test on any call it was not told to expect, or
with other parameters. Time is a fake clock that the injected sleep moves on: no test waits.

What none of these can prove: how long real ECS takes to roll back (the circuit breaker's count of
failed tasks, each task's start and health check period), that it goes through these states in
this order, and that `exit 1` really fails the product's container health check in a real task.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import boto3
import pytest
from botocore.exceptions import NoCredentialsError
from botocore.stub import Stubber

from infrakit import cli
from infrakit.config.loader import load_environment
from infrakit.deploy import drill
from infrakit.deploy.rollout import Timing
from infrakit.deploy.serving import rollout_target
from tests import rollout_stub
from tests.conftest import ENVIRONMENTS, offline_client
from tests.rollout_stub import ACCOUNT, CIRCUIT_BREAKER, REGION

CLUSTER = "infrakit-staging"
TARGET = drill.DrillTarget(CLUSTER, "api", REGION)
ALARMS = ["infrakit-staging-api-5xx-rate", "infrakit-staging-api-p99-latency"]
ORIGINAL, DRILL = 12, 13
BEFORE_ID = "ecs-svc/1111111111111111111"  # the deployment from before the drill
ROLLBACK_ID = "ecs-svc/3333333333333333333"  # the one ECS creates to roll back
DRILL_ID = "ecs-svc/2222222222222222222"
START = datetime(2026, 12, 5, 22, 0, 0, tzinfo=UTC)
# In the task definition: neither may ever reach the output.
PLANTED_VALUE = "sentinel-drill-environment-value-5e4d"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:infrakit-staging-api/DATABASE_URL-AbCdEf"
HEALTH_CHECK = {
    "command": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/healthz || exit 1"],
    "interval": 15,
    "timeout": 5,
    "retries": 3,
    "startPeriod": 30,
}
TAGS = [{"key": "project", "value": "infrakit"}, {"key": "environment", "value": "staging"}]
# What DescribeTaskDefinition returns that RegisterTaskDefinition does not take: ECS sets these.
READ_ONLY = {
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
}


def task_definition(revision: int) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/infrakit-staging-api:{revision}"


def described_task_definition() -> dict[str, Any]:
    """As ECS describes the api's revision 12 (what infrakit/constructs/aws/fargate_service.py
    registers, with the defaults ECS fills in)."""
    return {
        "taskDefinitionArn": task_definition(ORIGINAL),
        "family": "infrakit-staging-api",
        "revision": ORIGINAL,
        "status": "ACTIVE",
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/infrakit-staging-api-task",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/infrakit-staging-api-execution",
        "networkMode": "awsvpc",
        "containerDefinitions": [
            {
                "name": "api",
                "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/infrakit-staging-api:0.1.0",
                "cpu": 0,
                "essential": True,
                "user": "10001",
                "readonlyRootFilesystem": True,
                "privileged": False,
                "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
                "environment": [{"name": "API_URL", "value": PLANTED_VALUE}],
                "secrets": [{"name": "DATABASE_URL", "valueFrom": SECRET_ARN}],
                "mountPoints": [{"sourceVolume": "scratch", "containerPath": "/tmp", "readOnly": False}],
                "volumesFrom": [],
                "healthCheck": copy.deepcopy(HEALTH_CHECK),
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": "/infrakit/infrakit-staging-api",
                        "awslogs-region": REGION,
                        "awslogs-stream-prefix": "api",
                    },
                },
                "systemControls": [],
            }
        ],
        "volumes": [{"name": "scratch", "host": {}}],
        "placementConstraints": [],
        "compatibilities": ["EC2", "FARGATE"],
        "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}],
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "512",
        "memory": "1024",
        "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        "registeredAt": "2026-12-01T09:00:00Z",
        "registeredBy": f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci",
        "enableFaultInjection": False,
    }


def deployment(
    revision: int,
    state: str,
    running: int,
    *,
    status: str = "PRIMARY",
    id_: str | None = None,
    failed: int = 0,
    reason: str | None = None,
    desired: int = 2,
) -> dict[str, Any]:
    return rollout_stub.deployment(
        "api",
        revision,
        state,
        running,
        desired,
        status=status,
        reason=reason,
        failed=failed,
        id_=id_ or {ORIGINAL: BEFORE_ID, DRILL: DRILL_ID}[revision],
        task_definition_arn=task_definition(revision),
    )


def service(*deployments: dict[str, Any], breaker: bool = True, desired: int = 2) -> dict[str, Any]:
    primary = next(d for d in deployments if d["status"] == "PRIMARY")
    return {
        "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/api",
        "serviceName": "api",
        "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
        "status": "ACTIVE",
        "desiredCount": desired,
        "runningCount": sum(d["runningCount"] for d in deployments),
        "pendingCount": primary["pendingCount"],
        "launchType": "FARGATE",
        "taskDefinition": primary["taskDefinition"],
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": breaker},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "alarms": {"alarmNames": ALARMS, "enable": True, "rollback": True},
        },
        "deployments": list(deployments),
        "events": [],
    }


def services(*deployments: dict[str, Any], **options: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    return (
        "describe_services",
        {"services": [service(*deployments, **options)], "failures": []},
        {"cluster": CLUSTER, "services": ["api"]},
    )


STEADY = services(deployment(ORIGINAL, "COMPLETED", 2))  # before the drill
RELEASE = [
    STEADY,
    (
        "describe_task_definition",
        {"taskDefinition": described_task_definition(), "tags": TAGS},
        {"taskDefinition": task_definition(ORIGINAL), "include": ["TAGS"]},
    ),
    ("register_task_definition", {"taskDefinition": {"taskDefinitionArn": task_definition(DRILL)}}, None),
    (
        "update_service",
        {
            "service": service(
                deployment(DRILL, "IN_PROGRESS", 0), deployment(ORIGINAL, "COMPLETED", 2, status="ACTIVE")
            )
        },
        {"cluster": CLUSTER, "service": "api", "taskDefinition": task_definition(DRILL)},
    ),
]
RELEASED = services(
    deployment(DRILL, "IN_PROGRESS", 0, failed=1), deployment(ORIGINAL, "COMPLETED", 2, status="ACTIVE")
)
RESTORE = (
    "update_service",
    {"service": service(deployment(ORIGINAL, "IN_PROGRESS", 0, id_=ROLLBACK_ID))},
    {"cluster": CLUSTER, "service": "api", "taskDefinition": task_definition(ORIGINAL)},
)
DEREGISTER = (
    "deregister_task_definition",
    {"taskDefinition": {"taskDefinitionArn": task_definition(DRILL), "status": "INACTIVE"}},
    {"taskDefinition": task_definition(DRILL)},
)


def history(
    name: str, since: datetime, until: datetime, *items: tuple[datetime, str, str]
) -> tuple[Any, ...]:
    """DescribeAlarmHistory's state updates of one alarm: (when, old state, new state) each."""
    return (
        "describe_alarm_history",
        {
            "AlarmHistoryItems": [
                {
                    "AlarmName": name,
                    "AlarmType": "MetricAlarm",
                    "Timestamp": when,
                    "HistoryItemType": "StateUpdate",
                    "HistorySummary": f"Alarm updated from {old} to {new}",
                    "HistoryData": json.dumps(
                        {"version": "1.0", "oldState": {"stateValue": old}, "newState": {"stateValue": new}}
                    ),
                }
                for when, old, new in items
            ]
        },
        {"AlarmName": name, "HistoryItemType": "StateUpdate", "StartDate": since, "EndDate": until},
    )


class Clock:
    """Monotonic time that only the drill's sleeps move; the wall clock moves with it. A sleep
    listed in `interrupt_at` raises KeyboardInterrupt, as Ctrl-C during the wait would."""

    def __init__(self, interrupt_at: int | None = None) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self.interrupt_at = interrupt_at

    def __call__(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return START + timedelta(seconds=self.now)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if len(self.slept) == self.interrupt_at:
            raise KeyboardInterrupt
        self.now += seconds


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """The ECS and CloudWatch clients under Stubbers; every answer given must be asked for. The
    parameters of each RegisterTaskDefinition call are kept in `registered`."""
    ecs, cloudwatch = offline_client("ecs", REGION), offline_client("cloudwatch", REGION)
    registered: list[dict[str, Any]] = []
    ecs.meta.events.register(
        "provide-client-params.ecs.RegisterTaskDefinition",
        lambda params, **_: registered.append(copy.deepcopy(params)),
    )
    with Stubber(ecs) as ecs_stubber, Stubber(cloudwatch) as cloudwatch_stubber:
        yield {
            "ecs": ecs,
            "cloudwatch": cloudwatch,
            "ecs_stubber": ecs_stubber,
            "cloudwatch_stubber": cloudwatch_stubber,
            "registered": registered,
        }
        ecs_stubber.assert_no_pending_responses()
        cloudwatch_stubber.assert_no_pending_responses()


def run(
    aws: dict[str, Any], ecs: list[Any], cloudwatch: list[Any], timing: Timing, clock: Clock, said: list[str]
) -> int:
    for operation, response, params in ecs:
        aws["ecs_stubber"].add_response(operation, response, params)
    for operation, response, params in cloudwatch:
        aws["cloudwatch_stubber"].add_response(operation, response, params)
    return drill.run_drill(
        TARGET,
        ecs=aws["ecs"],
        cloudwatch=aws["cloudwatch"],
        say=said.append,
        timing=timing,
        clock=clock,
        sleep=clock.sleep,
        wall=clock.wall,
    )


def no_secret_in(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert PLANTED_VALUE not in text and SECRET_ARN not in text and "DATABASE_URL" not in text


def test_a_rollback_is_timed_and_its_alarms_named_and_the_drill_revision_deregistered(aws) -> None:
    """ECS shows the deployment from before for one look, then the drill's failing, then its own
    rollback deployment, completed. The drill reports when ECS gave up and when the service was back,
    names the deployment alarm that went to ALARM (not the one that went back to OK), and
    deregisters its revision, which differs from the original in the health check command alone.
    Cannot prove ECS's real timing, nor that `exit 1` fails in a real task."""
    looks = [
        STEADY,  # ECS is eventually consistent: the release is not yet visible
        RELEASED,
        services(
            deployment(ORIGINAL, "IN_PROGRESS", 1, id_=ROLLBACK_ID),
            deployment(DRILL, "FAILED", 0, status="ACTIVE", failed=3, reason=CIRCUIT_BREAKER),
        ),
        services(deployment(ORIGINAL, "COMPLETED", 2, id_=ROLLBACK_ID)),
    ]
    fired = START + timedelta(minutes=4, seconds=10)
    alarms = [
        history(ALARMS[0], START, START + timedelta(minutes=6), (fired, "OK", "ALARM")),
        history(ALARMS[1], START, START + timedelta(minutes=6), (fired, "ALARM", "OK")),
    ]
    said: list[str] = []
    clock = Clock()
    code = run(aws, [*RELEASE, *looks, DEREGISTER], alarms, Timing(1200, 120, 15), clock, said)

    assert code == drill.EXIT_ROLLED_BACK
    assert said == [
        "drill: releasing infrakit-staging-api:13 to api in cluster infrakit-staging: "
        "infrakit-staging-api:12 again, with a container health check that always fails. ECS should roll "
        f"it back by itself (circuit breaker; deployment alarms: {', '.join(ALARMS)}). Waiting up to 20m00s "
        "(--timeout); Ctrl-C puts infrakit-staging-api:12 back",
        "0m00s: api: waiting for ECS to start the deployment of infrakit-staging-api:13",
        "2m00s: api: infrakit-staging-api:13 rollout IN_PROGRESS, 0/2 running, 1 task failed",
        "4m00s: api: rolling back to infrakit-staging-api:12, rollout IN_PROGRESS, 1/2 running",
        "6m00s: api: rolling back to infrakit-staging-api:12, rollout COMPLETED, 2/2 running",
        "drill passed: ECS rolled api back to infrakit-staging-api:12 in 6m00s (it gave up on "
        f"infrakit-staging-api:13 after 4m00s: {CIRCUIT_BREAKER}); api runs 2/2 tasks of "
        "infrakit-staging-api:12, as before",
        "deregistered the drill's revision infrakit-staging-api:13",
        "alarms that went to ALARM during the drill: infrakit-staging-api-5xx-rate at 22:04:10 UTC (+4m10s)",
    ]
    no_secret_in(said)

    (registered,) = aws["registered"]
    original = described_task_definition()
    assert set(registered) == (set(original) - READ_ONLY) | {"tags"}  # nothing dropped, nothing ECS's
    (container,) = registered["containerDefinitions"]
    assert container["healthCheck"] == {**HEALTH_CHECK, "command": ["CMD-SHELL", "exit 1"]}
    container["healthCheck"]["command"] = HEALTH_CHECK["command"]
    assert registered == {key: original[key] for key in set(original) - READ_ONLY} | {"tags": TAGS}


def test_no_rollback_within_the_timeout_puts_the_service_back_and_fails(aws) -> None:
    """The drill's tasks keep failing and ECS never gives up: at the bound the drill puts the
    original revision back itself, says so in one line, deregisters its own, and exits 1; a
    progress line comes at least every 15 s meanwhile. Cannot prove why real ECS would not roll
    back (a circuit breaker still counting, a service that starts no task)."""
    polls = 13  # at 0, 5, ... 60 s: the bound is 60 s
    until = START + timedelta(seconds=60)
    said: list[str] = []
    code = run(
        aws,
        [*RELEASE, *[RELEASED] * polls, RESTORE, DEREGISTER],
        [history(name, START, until) for name in ALARMS],
        Timing(timeout=60, interval=5, heartbeat=15),
        Clock(),
        said,
    )

    assert code == drill.EXIT_FAILED
    progress = [line for line in said if line[0].isdigit()]
    assert progress == [
        f"{t}: api: infrakit-staging-api:13 rollout IN_PROGRESS, 0/2 running, 1 task failed"
        for t in ("0m00s", "0m15s", "0m30s", "0m45s", "1m00s")
    ]
    assert said[len(progress) + 1 :] == [
        "infrakit put api back on infrakit-staging-api:12 itself (UpdateService): ECS had not rolled it back "
        "within 1m00s (--timeout); ECS now rolls it out (`aws ecs wait services-stable --cluster "
        "infrakit-staging --services api --region eu-west-1` waits for it)",
        "deregistered the drill's revision infrakit-staging-api:13",
        f"alarms: none of {', '.join(ALARMS)} went to ALARM during the drill",
    ]
    no_secret_in(said)


def test_a_drill_revision_that_ecs_judges_healthy_is_put_back_at_once(aws) -> None:
    """If the drill's deployment completes, nothing will roll it back: the drill restores the
    service without waiting for the bound. Cannot prove when real ECS would judge such tasks
    healthy (an image whose health check cannot fail is the product's to fix)."""
    completed = services(deployment(DRILL, "COMPLETED", 2))
    said: list[str] = []
    code = run(
        aws,
        [*RELEASE, RELEASED, completed, RESTORE, DEREGISTER],
        [history(name, START, START + timedelta(seconds=5)) for name in ALARMS],
        Timing(timeout=1200, interval=5, heartbeat=15),
        Clock(),
        said,
    )
    assert code == drill.EXIT_FAILED
    assert any(
        line.startswith(
            "infrakit put api back on infrakit-staging-api:12 itself (UpdateService): ECS completed"
        )
        and "the drill proves nothing" in line
        for line in said
    )


def test_ctrl_c_during_the_wait_puts_the_service_back_and_says_so(aws) -> None:
    """Ctrl-C while ECS works: the drill puts the original revision back and deregisters its own,
    then lets the interruption through with one sentence of what it did; no alarm history is read.
    Cannot prove that a real Ctrl-C lands between two looks rather than inside an AWS call (the
    same clean-up runs either way)."""
    said: list[str] = []
    notes: list[str] = []
    clock = Clock(interrupt_at=2)
    for operation, response, params in [*RELEASE, RELEASED, RELEASED, RESTORE, DEREGISTER]:
        aws["ecs_stubber"].add_response(operation, response, params)
    with pytest.raises(KeyboardInterrupt) as interrupted:
        drill.run_drill(
            TARGET,
            ecs=aws["ecs"],
            cloudwatch=aws["cloudwatch"],
            say=said.append,
            note=notes.append,
            timing=Timing(timeout=1200, interval=5, heartbeat=15),
            clock=clock,
            sleep=clock.sleep,
            wall=clock.wall,
        )
    assert interrupted.value.left_behind == (  # type: ignore[attr-defined]
        "infrakit put api back on infrakit-staging-api:12 (ECS now rolls it out); deregistered the drill's "
        "revision infrakit-staging-api:13"
    )
    assert len(said) == 2  # the release and one progress line: the clean-up adds none of its own
    # What a second Ctrl-C, during the clean-up, would have said: how to finish it by hand.
    assert any(
        "aws ecs update-service --cluster infrakit-staging --service api --task-definition "
        "infrakit-staging-api:12 --region eu-west-1" in note
        for note in notes
    )
    no_secret_in(said + notes)


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        (
            services(deployment(ORIGINAL, "COMPLETED", 2), breaker=False),
            "api: the service has no deployment circuit breaker with rollback",
        ),
        (
            services(
                deployment(DRILL, "IN_PROGRESS", 1), deployment(ORIGINAL, "COMPLETED", 2, status="ACTIVE")
            ),
            "api: a release is in progress (its PRIMARY deployment is IN_PROGRESS, 1/2 running)",
        ),
        (
            (
                "describe_services",
                {
                    "services": [],
                    "failures": [
                        {"arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/api", "reason": "MISSING"}
                    ],
                },
                {"cluster": CLUSTER, "services": ["api"]},
            ),
            "api: ECS has no active service api in cluster infrakit-staging",
        ),
        (
            services(deployment(ORIGINAL, "COMPLETED", 0, desired=0), desired=0),
            "api: the service runs no task (desired count 0)",
        ),
    ],
    ids=["no-circuit-breaker", "release-in-progress", "not-deployed", "no-task"],
)
def test_a_service_not_ready_for_a_drill_is_refused_before_anything_changes(aws, answer, named) -> None:
    """Exit 3, the service named, and no call after the first look: the Stubber fails the test on
    any registration or update. Cannot prove that ECS reports a release in progress exactly so in
    every case (a deployment stuck on capacity, say)."""
    said: list[str] = []
    code = run(aws, [answer], [], drill.DEFAULT_TIMING, Clock(), said)
    assert code == drill.EXIT_NOT_READY
    assert len(said) == 1 and said[0].startswith(named), said


# ----------------------------------------------------------------------------- the command line


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a refused drill made an AWS client")

    monkeypatch.setattr(boto3, "client", refuse)


def drill_command(*words: str) -> int:
    return cli.main(["--environments-dir", str(ENVIRONMENTS), "drill", *words])


@pytest.mark.parametrize(
    ("words", "add"),
    [
        ((), "add --allow-prod and --confirm prod"),
        (("--allow-prod",), "add --confirm prod"),
        (("--confirm", "prod"), "add --allow-prod"),
    ],
    ids=["neither", "allow-only", "confirm-only"],
)
def test_prod_is_refused_unless_asked_twice(no_aws, capsys, words, add) -> None:
    """Exit 2, before any AWS client exists, with exactly what to add. Cannot prove that an operator
    reads it before adding the flags."""
    assert drill_command("--env", "prod", *words) == cli.EXIT_CONFIG_ERROR
    err = capsys.readouterr().err
    assert "refusing to drill prod without being asked twice" in err
    assert err.rstrip().endswith(f"To drill prod anyway, {add}")


@pytest.mark.parametrize(
    ("words", "problem"),
    [
        (
            ("--env", "staging", "--service", "db"),
            "--service db: environment 'staging' runs api, worker on ECS",
        ),
        (
            ("--env", "staging", "--confirm", "prod"),
            "--confirm prod does not name the environment being drilled",
        ),
        (("--env", "local"), "environment 'local' runs no service on ECS"),
    ],
    ids=["unknown-service", "wrong-confirmation", "local"],
)
def test_a_drill_the_command_line_gets_wrong_is_a_usage_error(no_aws, capsys, words, problem) -> None:
    """Exit 2 and why, before any AWS client exists."""
    assert drill_command(*words) == cli.EXIT_CONFIG_ERROR
    assert problem in capsys.readouterr().err


def test_prod_asked_twice_drills_prod(monkeypatch, capsys) -> None:
    """Both confirmations: the drill runs against prod's cluster and region. Cannot prove anything
    about prod itself: the drill is replaced here by one that records its target."""
    targets: list[drill.DrillTarget] = []
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: object())
    monkeypatch.setattr(drill, "run_drill", lambda target, **_: targets.append(target) or 0)
    assert drill_command("--env", "prod", "--allow-prod", "--confirm", "prod", "--service", "worker") == 0
    assert targets == [drill.DrillTarget("infrakit-prod", "worker", REGION)]


def test_no_credentials_is_a_failed_drill_that_changed_nothing(monkeypatch, capsys) -> None:
    """A client that finds no credentials (boto3 looks for them when it makes one): exit 1, said so.
    Cannot prove which of AWS's credential errors a real machine meets."""

    def client(*args: Any, **kwargs: Any) -> Any:
        raise NoCredentialsError()

    monkeypatch.setattr(boto3, "client", client)
    assert drill_command("--env", "staging") == cli.EXIT_FAILED
    assert "infrakit: cannot call AWS (Unable to locate credentials); api was not drilled" in (
        capsys.readouterr().err
    )


def test_ctrl_c_through_the_command_exits_130_in_one_line(aws, monkeypatch, capsys) -> None:
    """`infrakit drill` with the stubbed clients and the fake clock: Ctrl-C during the wait is exit
    130 and one line saying the service was put back. Cannot prove how a terminal delivers Ctrl-C
    (tests/test_cli_interrupts.py signals real processes for the other commands)."""
    clients = {"ecs": aws["ecs"], "cloudwatch": aws["cloudwatch"]}
    made: list[tuple[str, str | None]] = []

    def client(name: str, region_name: str | None = None, **_: Any) -> Any:
        made.append((name, region_name))
        return clients[name]

    clock = Clock(interrupt_at=1)
    monkeypatch.setattr(boto3, "client", client)
    monkeypatch.setattr(
        drill, "run_drill", partial(drill.run_drill, clock=clock, sleep=clock.sleep, wall=clock.wall)
    )
    for operation, response, params in [*RELEASE, RELEASED, RESTORE, DEREGISTER]:
        aws["ecs_stubber"].add_response(operation, response, params)

    assert drill_command("--env", "staging") == cli.EXIT_INTERRUPTED
    assert made == [("ecs", REGION), ("cloudwatch", REGION)]
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[-1] == (
        "infrakit: drill interrupted (Ctrl-C); infrakit put api back on infrakit-staging-api:12 (ECS now "
        "rolls it out); deregistered the drill's revision infrakit-staging-api:13"
    )
    assert PLANTED_VALUE not in err and SECRET_ARN not in err


def test_the_drill_watches_what_the_stack_creates(synthesized) -> None:
    """The cluster and the services the drill addresses, and the circuit breaker with rollback and
    the deployment alarms it relies on, are those of the synthesized staging stack. Cannot prove
    that AWS applied them."""
    document = json.loads((synthesized / "stacks" / "staging" / "cdk.tf.json").read_text())
    resources = document["resource"]
    target = rollout_target(load_environment(ENVIRONMENTS / "staging.toml"))
    assert target is not None
    (cluster,) = [c["name"] for c in resources["aws_ecs_cluster"].values()]
    assert target.cluster == cluster == CLUSTER
    ecs_services = {s["name"]: s for s in resources["aws_ecs_service"].values()}
    assert sorted(target.services) == sorted(ecs_services)
    for name in target.services:
        assert ecs_services[name]["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
        assert ecs_services[name]["alarms"]["rollback"] is True
