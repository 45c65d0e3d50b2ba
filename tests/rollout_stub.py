"""What stubbed ECS and ELBv2 answer during a rollout, in the shapes AWS documents for
DescribeServices, DescribeTaskDefinition, ListTasks, DescribeTasks and DescribeTargetHealth.

Each answer is (operation, response, expected parameters), plain JSON: `load` puts a list of them
into a botocore Stubber in this process, and tests/aws_answers/sitecustomize.py into one in a
`python -m infrakit` subprocess. Timestamps are ISO strings, which the Stubber accepts.
"""

from __future__ import annotations

from typing import Any

from botocore.stub import Stubber

REGION = "eu-west-1"
ACCOUNT = "480937561234"
CLUSTER = "infrakit-dev"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
TARGET_GROUP = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/infrakit-dev-api/6d0ecf831eec9f09"
)
SERVICES = ["api", "worker"]

Answer = tuple[str, dict[str, Any], dict[str, Any] | None]

# As ECS words them (Amazon ECS stopped task error messages).
SECRETS_UNREADABLE = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
    "failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch "
    f"secret arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:infrakit-dev-api/DATABASE_URL-AbCdEf from "
    "secrets manager: AccessDeniedException: User is not authorized to perform: secretsmanager:GetSecretValue"
)
IMAGE_UNPULLABLE = (
    "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
    f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/infrakit-dev-api:0.1.0: not found"
)
CIRCUIT_BREAKER = "ECS deployment circuit breaker: tasks failed to start."


def task_definition(service: str, revision: int) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/infrakit-dev-{service}:{revision}"


def deployment(
    service: str,
    revision: int,
    state: str,
    running: int,
    desired: int = 1,
    *,
    status: str = "PRIMARY",
    reason: str | None = None,
    failed: int = 0,
    id_: str | None = None,
    task_definition_arn: str | None = None,
) -> dict[str, Any]:
    """One deployment as DescribeServices reports it; `id_` and `task_definition_arn` default to
    this module's dev naming."""
    found = {
        "id": id_ or f"ecs-svc/{revision}00000000000000{len(service)}",
        "status": status,
        "taskDefinition": task_definition_arn or task_definition(service, revision),
        "desiredCount": desired,
        "pendingCount": max(desired - running, 0),
        "runningCount": running,
        "failedTasks": failed,
        "createdAt": "2026-12-05T22:00:00Z",
        "updatedAt": "2026-12-05T22:01:00Z",
        "launchType": "FARGATE",
        "rolloutState": state,
    }
    if reason:
        found["rolloutStateReason"] = reason
    return found


def service(name: str, *deployments: dict[str, Any]) -> dict[str, Any]:
    primary = next(d for d in deployments if d["status"] == "PRIMARY")
    described: dict[str, Any] = {
        "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{name}",
        "serviceName": name,
        "clusterArn": CLUSTER_ARN,
        "status": "ACTIVE",
        "desiredCount": primary["desiredCount"],
        "runningCount": sum(d["runningCount"] for d in deployments),
        "pendingCount": primary["pendingCount"],
        "launchType": "FARGATE",
        "taskDefinition": primary["taskDefinition"],
        "deployments": list(deployments),
        "events": [],
        "loadBalancers": [],
    }
    if name == "api":
        described["loadBalancers"] = [
            {"targetGroupArn": TARGET_GROUP, "containerName": "api", "containerPort": 8080}
        ]
    return described


def services(*described: dict[str, Any]) -> Answer:
    return (
        "describe_services",
        {"services": list(described), "failures": []},
        {"cluster": CLUSTER, "services": SERVICES},
    )


def latest_revision(name: str, revision: int) -> Answer:
    return (
        "describe_task_definition",
        {
            "taskDefinition": {
                "taskDefinitionArn": task_definition(name, revision),
                "family": f"infrakit-dev-{name}",
                "revision": revision,
                "status": "ACTIVE",
            }
        },
        {"taskDefinition": f"infrakit-dev-{name}"},
    )


def stopped_tasks(name: str, revision: int, reason: str, count: int = 3) -> list[Answer]:
    arns = [f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{index:032x}" for index in range(1, count + 1)]
    tasks = [
        {
            "taskArn": arn,
            "clusterArn": CLUSTER_ARN,
            "taskDefinitionArn": task_definition(name, revision),
            "lastStatus": "STOPPED",
            "desiredStatus": "STOPPED",
            "launchType": "FARGATE",
            "stopCode": "TaskFailedToStart",
            "stoppedReason": reason,
            "stoppedAt": f"2026-12-05T22:0{index}:00Z",
            "startedBy": f"ecs-svc/{revision}00000000000000{len(name)}",
            "containers": [{"name": name, "lastStatus": "STOPPED"}],
        }
        for index, arn in enumerate(arns, start=1)
    ]
    return [
        (
            "list_tasks",
            {"taskArns": arns},
            {"cluster": CLUSTER, "serviceName": name, "desiredStatus": "STOPPED"},
        ),
        ("describe_tasks", {"tasks": tasks, "failures": []}, {"cluster": CLUSTER, "tasks": arns}),
    ]


def targets(*states: str | tuple[str, str, str], group: str | None = None) -> Answer:
    """One target per state: "healthy", or (state, reason, description), in `group` (default the
    api's first target group)."""
    descriptions = []
    for index, state in enumerate(states, start=1):
        health = (
            {"State": state}
            if isinstance(state, str)
            else dict(zip(("State", "Reason", "Description"), state, strict=True))
        )
        descriptions.append(
            {
                "Target": {"Id": f"10.10.1.{index}", "Port": 8080},
                "HealthCheckPort": "8080",
                "TargetHealth": health,
            }
        )
    return (
        "describe_target_health",
        {"TargetHealthDescriptions": descriptions},
        {"TargetGroupArn": group or TARGET_GROUP},
    )


UNHEALTHY = ("unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [404]")


# ----------------------------------------------------------------------------- whole rollouts


def healthy_rollout() -> dict[str, list[Answer]]:
    """Revision 2 rolls out: the first look finds it starting, the second done and healthy."""
    return {
        "ecs": [
            services(
                service(
                    "api",
                    deployment("api", 2, "IN_PROGRESS", 0),
                    deployment("api", 1, "COMPLETED", 1, status="ACTIVE"),
                ),
                service("worker", deployment("worker", 2, "IN_PROGRESS", 0)),
            ),
            latest_revision("api", 2),
            latest_revision("worker", 2),
            services(
                service("api", deployment("api", 2, "COMPLETED", 1)),
                service("worker", deployment("worker", 2, "COMPLETED", 1)),
            ),
        ],
        "elbv2": [
            targets(
                ("initial", "Elb.InitialHealthChecking", "Initial health checks in progress"), "draining"
            ),
            targets("healthy", "draining"),
        ],
    }


def failed_first_deployment(reason: str) -> dict[str, list[Answer]]:
    """A first deploy (revision 1, nothing to roll back to) whose api tasks fail to start."""
    return {
        "ecs": [
            services(
                service("api", deployment("api", 1, "FAILED", 0, reason=CIRCUIT_BREAKER, failed=3)),
                service("worker", deployment("worker", 1, "IN_PROGRESS", 0)),
            ),
            latest_revision("api", 1),
            *stopped_tasks("api", 1, reason),
        ],
        "elbv2": [],
    }


def load(stubber: Stubber, answers: list[Answer]) -> None:
    for operation, response, params in answers:
        stubber.add_response(operation, response, params)


class Recorder:
    """Takes what tests/ecr_stub.py adds to a Stubber, as answers to write out."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []

    def add_response(
        self, operation: str, response: dict[str, Any], params: dict[str, Any] | None = None
    ) -> None:
        self.answers.append((operation, response, params))
