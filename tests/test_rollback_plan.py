"""The rollback plan said before the environment stack is applied: what each ECS service runs now
(task definition revision, image), the commands that return it there, and the environment-file
change that makes the return stick.

ECS is faked at the SDK boundary: a real boto3 client under botocore's Stubber, answering in the
shapes the ECS API reference documents for DescribeServices and DescribeTaskDefinition, and failing
the test on any call it was not told to expect. The way back from a deregistered revision is checked
with the real `jq` and the real `aws` CLI's parameter validation, when they are installed.

What this cannot prove: ECS's real answers, that AWS accepts the re-registered copy (its roles and
secrets must still exist), or that UpdateService then rolls the service back.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from infrakit.config.loader import load_environment
from infrakit.deploy.plan import PlanSummary
from infrakit.deploy.plan_gate import Planned, deregistrations
from infrakit.deploy.rollback_plan import Image, output_only_fields, say_rollback_plan
from tests import rollout_stub as aws
from tests.conftest import ENVIRONMENTS, offline_client

Answer = tuple[str, dict[str, Any], dict[str, Any] | None]
REGISTRY = f"{aws.ACCOUNT}.dkr.ecr.{aws.REGION}.amazonaws.com"
DIGEST = "sha256:" + "9" * 64
SECRET = "sentinel-task-env-value-3b2a1c"  # checkov:skip=CKV_SECRET_6: test value
DEV = load_environment(ENVIRONMENTS / "dev.toml")


# ----------------------------------------------------------------------------- ECS's answers


def described_services(**running: int | None) -> Answer:
    """DescribeServices of api and worker: each at the revision given, or missing (None)."""
    found, failures = [], []
    for name, revision in running.items():
        if revision is None:
            arn = f"arn:aws:ecs:{aws.REGION}:{aws.ACCOUNT}:service/{aws.CLUSTER}/{name}"
            failures.append({"arn": arn, "reason": "MISSING"})
        else:
            found.append(aws.service(name, aws.deployment(name, revision, "COMPLETED", 1)))
    return (
        "describe_services",
        {"services": found, "failures": failures},
        {"cluster": aws.CLUSTER, "services": aws.SERVICES},
    )


def task_definition(name: str, revision: int, image: str, status: str = "ACTIVE") -> dict[str, Any]:
    """A task definition as DescribeTaskDefinition returns it, with what infrakit's stacks put in
    one (fargate_service.py): a plain environment variable, a secret, the scratch volume."""
    family = f"infrakit-dev-{name}"
    return {
        "taskDefinitionArn": aws.task_definition(name, revision),
        "containerDefinitions": [
            {
                "name": name,
                "image": image,
                "essential": True,
                "user": "10001",
                "readonlyRootFilesystem": True,
                "environment": [{"name": "FEATURE_FLAGS", "value": SECRET}],
                "secrets": [
                    {
                        "name": "DATABASE_URL",
                        "valueFrom": f"arn:aws:secretsmanager:{aws.REGION}:{aws.ACCOUNT}:secret:"
                        f"{family}/DATABASE_URL-AbCdEf",
                    }
                ],
                "mountPoints": [{"sourceVolume": "scratch", "containerPath": "/tmp", "readOnly": False}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": f"/infrakit/{family}"},
                },
            }
        ],
        "family": family,
        "taskRoleArn": f"arn:aws:iam::{aws.ACCOUNT}:role/{family}-task",
        "executionRoleArn": f"arn:aws:iam::{aws.ACCOUNT}:role/{family}-execution",
        "networkMode": "awsvpc",
        "revision": revision,
        "volumes": [{"name": "scratch"}],
        "status": status,
        "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}],
        "placementConstraints": [],
        "compatibilities": ["EC2", "FARGATE"],
        "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "registeredAt": "2026-12-05T21:00:00.123000+00:00",
        "registeredBy": f"arn:aws:sts::{aws.ACCOUNT}:assumed-role/deployer/ci",
    }


def described_task_definition(name: str, revision: int, image: str, status: str = "ACTIVE") -> Answer:
    return (
        "describe_task_definition",
        {"taskDefinition": task_definition(name, revision, image, status)},
        {"taskDefinition": aws.task_definition(name, revision)},
    )


def tagged(name: str, tag: str = "0.1.0") -> str:
    return f"{REGISTRY}/infrakit-dev-{name}:{tag}"


def running_release(api: int = 7, worker: int = 7, tag: str = "0.1.0") -> list[Answer]:
    """api and worker on their revisions of the release before, both on image `tag`."""
    return [
        described_services(api=api, worker=worker),
        described_task_definition("api", api, tagged("api", tag)),
        described_task_definition("worker", worker, tagged("worker", tag)),
    ]


def nothing_runs_yet() -> Answer:
    """What DescribeServices answers before the first deploy made the services."""
    return described_services(api=None, worker=None)


@pytest.fixture
def ecs() -> Iterator[tuple[Any, Stubber]]:
    client = offline_client("ecs", aws.REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def rollback(
    ecs: tuple[Any, Stubber], answers: list[Answer], deregisters: frozenset[str] = frozenset()
) -> str:
    client, stubber = ecs
    aws.load(stubber, answers)
    said: list[str] = []
    planned = Planned("dev", PlanSummary("dev", ()), deregisters)
    say_rollback_plan(DEV, lambda: client, planned, said.append)
    return "\n".join(said)


def update_service(service: str, task_definition: str) -> str:
    return (
        f"aws ecs update-service --cluster infrakit-dev --service {service} --task-definition "
        f"{task_definition} --region eu-west-1"
    )


# ----------------------------------------------------------------------------- what is said


def test_running_services_say_their_revision_image_and_the_way_back(ecs) -> None:
    said = rollback(ecs, running_release(api=7, worker=5))
    assert said.splitlines() == [
        "rollback plan for dev: what runs now, before this apply",
        "  api: task definition infrakit-dev-api:7, image infrakit-dev-api:0.1.0",
        "  worker: task definition infrakit-dev-worker:5, image infrakit-dev-worker:0.1.0",
        "to return to it after this apply:",
        f"  {update_service('api', 'infrakit-dev-api:7')}",
        f"  {update_service('worker', 'infrakit-dev-worker:5')}",
        f"then make it stick, or the next deploy rolls forward again: in {DEV.file} set",
        '  api.image_tag = "0.1.0"',
        '  worker.image_tag = "0.1.0"',
        "  and deploy dev again",
    ]
    assert SECRET not in said and "secretsmanager" not in said  # names and images only


def test_a_first_deploy_has_nothing_to_roll_back_to(ecs) -> None:
    said = rollback(ecs, [nothing_runs_yet()])
    assert said == (
        "rollback plan for dev: no ECS service of it runs yet (api, worker in cluster infrakit-dev): "
        "nothing to roll back to"
    )


def test_a_cluster_not_made_yet_is_a_first_deploy(ecs) -> None:
    client, stubber = ecs
    stubber.add_client_error(
        "describe_services",
        service_error_code="ClusterNotFoundException",
        service_message="Cluster not found.",
        http_status_code=400,
        expected_params={"cluster": aws.CLUSTER, "services": aws.SERVICES},
    )
    said = rollback(ecs, [])
    assert said.endswith("in cluster infrakit-dev): nothing to roll back to")


def test_a_service_this_release_adds_has_nothing_to_roll_back_to(ecs) -> None:
    said = rollback(
        ecs,
        [described_services(api=3, worker=None), described_task_definition("api", 3, tagged("api", "0.0.9"))],
    )
    assert "  worker: no service yet: nothing to roll back to (this apply creates it)" in said
    assert update_service("api", "infrakit-dev-api:3") in said
    assert "worker.image" not in said and 'api.image_tag = "0.0.9"' in said


def test_a_service_on_an_image_digest_says_the_digest_to_pin(ecs) -> None:
    """infrakit's task definitions name `repository@digest` when image_digest is set (the tag is
    then not in the task definition): the way back pins that digest."""
    said = rollback(
        ecs,
        [
            described_services(api=4, worker=4),
            described_task_definition("api", 4, f"{REGISTRY}/infrakit-dev-api@{DIGEST}"),
            described_task_definition("worker", 4, tagged("worker")),
        ],
    )
    assert f"  api: task definition infrakit-dev-api:4, image infrakit-dev-api@{DIGEST}" in said
    assert f'  api.image_digest = "{DIGEST}"' in said.splitlines()
    assert '  worker.image_tag = "0.1.0"' in said.splitlines()


def test_a_revision_this_apply_deregisters_is_copied_before_the_service_returns(ecs) -> None:
    """Terraform deregisters a task definition it replaces, and ECS refuses UpdateService to an
    INACTIVE revision: the way back registers a copy, then points the service at the family."""
    said = rollback(
        ecs, running_release(api=7, worker=7), deregisters=frozenset({aws.task_definition("api", 7)})
    )
    lines = said.splitlines()
    start = lines.index("to return to it after this apply:")
    assert lines[start + 1] == (
        "  api: infrakit-dev-api:7 is deregistered by this apply, which replaces it, and ECS points no "
        "service at a deregistered revision: register a copy of it, then point the service at the copy "
        "(the family's newest revision):"
    )
    assert lines[start + 2].startswith(
        "    aws ecs describe-task-definition --task-definition infrakit-dev-api:7 --region eu-west-1 "
        "--query taskDefinition --output json | jq "
    )
    assert lines[start + 2].endswith(" > infrakit-dev-api-7.json")
    assert lines[start + 3] == (
        "    aws ecs register-task-definition --cli-input-json file://infrakit-dev-api-7.json "
        "--region eu-west-1"
    )
    assert lines[start + 4] == f"    {update_service('api', 'infrakit-dev-api')}"
    assert lines[start + 5] == f"  {update_service('worker', 'infrakit-dev-worker:7')}"  # kept registered


def test_a_revision_already_deregistered_is_copied_too(ecs) -> None:
    said = rollback(
        ecs,
        [
            described_services(api=6, worker=6),
            described_task_definition("api", 6, tagged("api"), status="INACTIVE"),
            described_task_definition("worker", 6, tagged("worker")),
        ],
    )
    assert "  api: infrakit-dev-api:6 is deregistered, and ECS points no service at" in said


def test_unreadable_ecs_says_which_permissions_and_the_deploy_goes_on(ecs) -> None:
    _, stubber = ecs
    stubber.add_client_error(
        "describe_services",
        service_error_code="AccessDeniedException",
        service_message="User is not authorized to perform: ecs:DescribeServices",
        http_status_code=400,
    )
    said = rollback(ecs, [])
    assert said.startswith("rollback plan for dev: could not read what ECS runs now (")
    assert "AccessDeniedException" in said
    assert said.endswith(
        "the deploy goes on without one. Reading it needs ecs:DescribeServices and ecs:DescribeTaskDefinition"
    )


def test_the_images_stack_has_no_rollback_plan() -> None:
    def no_client() -> Any:
        raise AssertionError("the images stack runs no ECS service: ECS is not asked")

    said: list[str] = []
    say_rollback_plan(DEV, no_client, Planned("dev-images", PlanSummary("dev-images", ())), said.append)
    assert said == []


@pytest.mark.parametrize(
    ("reference", "image"),
    [
        (f"{REGISTRY}/infrakit-dev-api:0.1.0", Image(f"{REGISTRY}/infrakit-dev-api", "0.1.0")),
        (f"{REGISTRY}/infrakit-dev-api@{DIGEST}", Image(f"{REGISTRY}/infrakit-dev-api", None, DIGEST)),
        (f"{REGISTRY}/a:1.2@{DIGEST}", Image(f"{REGISTRY}/a", "1.2", DIGEST)),
        ("localhost:5000/api", Image("localhost:5000/api")),  # the port is not a tag
        ("localhost:5000/api:2", Image("localhost:5000/api", "2")),
    ],
)
def test_image_references_split_into_repository_tag_and_digest(reference, image) -> None:
    assert Image.parse(reference) == image


# ----------------------------------------------------------------------------- what the plan deregisters


def task_definition_change(actions: list[str], before: dict[str, Any] | None) -> dict[str, Any]:
    """A resource change as `terraform show -json` writes it for aws_ecs_task_definition."""
    return {
        "address": "aws_ecs_task_definition.api_task_5E6B1C2D",
        "mode": "managed",
        "type": "aws_ecs_task_definition",
        "name": "api_task_5E6B1C2D",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": actions, "before": before, "after": None},
    }


@pytest.mark.parametrize(
    ("actions", "before", "deregistered"),
    [
        (["delete", "create"], {"arn": aws.task_definition("api", 7), "family": "infrakit-dev-api"}, True),
        (["create", "delete"], {"arn": aws.task_definition("api", 7), "skip_destroy": False}, True),
        (["delete"], {"arn": aws.task_definition("api", 7), "skip_destroy": True}, False),  # kept registered
        (["update"], {"arn": aws.task_definition("api", 7)}, False),  # tags only: same revision
        (["create"], None, False),
    ],
)
def test_the_plan_says_which_revisions_the_apply_deregisters(actions, before, deregistered) -> None:
    document = {"format_version": "1.2", "resource_changes": [task_definition_change(actions, before)]}
    found = deregistrations(document)
    assert (aws.task_definition("api", 7) in found) is deregistered


def test_a_plan_without_the_arn_names_the_family() -> None:
    document = {
        "resource_changes": [task_definition_change(["delete", "create"], {"family": "infrakit-dev-api"})]
    }
    planned = Planned("dev", PlanSummary("dev", ()), deregistrations(document))
    assert planned.deregistered(aws.task_definition("api", 3), "infrakit-dev-api")
    assert not planned.deregistered(aws.task_definition("worker", 3), "infrakit-dev-worker")


# ----------------------------------------------------------------------------- the copy, with real tools


@pytest.mark.skipif(not (shutil.which("jq") and shutil.which("aws")), reason="needs jq and the aws CLI")
def test_the_copy_of_a_revision_passes_the_aws_clis_validation(ecs, tmp_path: Path) -> None:
    """The printed `jq` filter, run by the real jq on DescribeTaskDefinition's taskDefinition as
    `--output json` prints it, leaves JSON that the real aws CLI's RegisterTaskDefinition accepts:
    it gets as far as sending (to a closed local port) instead of stopping at "Parameter validation
    failed". Cannot prove that AWS registers it."""
    said = rollback(ecs, running_release(), deregisters=frozenset({aws.task_definition("api", 7)}))
    describe_line = next(line for line in said.splitlines() if "describe-task-definition" in line)
    jq_filter = shlex.split(describe_line.split(" | ", 1)[1].split(" > ")[0])[1]
    described = json.dumps(task_definition("api", 7, tagged("api")))
    copied = subprocess.run(["jq", jq_filter], input=described, capture_output=True, text=True, timeout=30)
    assert copied.returncode == 0, copied.stderr
    assert set(json.loads(copied.stdout)).isdisjoint(output_only_fields())
    copy = tmp_path / "infrakit-dev-api-7.json"
    copy.write_text(copied.stdout)
    environ = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test-only",
        "AWS_SECRET_ACCESS_KEY": "test-only",  # checkov:skip=CKV_SECRET_6: test value
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    register = ["aws", "ecs", "register-task-definition", "--cli-input-json", f"file://{copy}"]
    sent = subprocess.run(
        [*register, "--region", aws.REGION, "--endpoint-url", "http://127.0.0.1:9"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Parameter validation failed" not in sent.stderr, sent.stderr
    assert "Could not connect to the endpoint URL" in sent.stderr, sent.stderr
    # ...and the description as it is, unfiltered, is refused: the filter is what makes it pass.
    copy.write_text(described)
    refused = subprocess.run(
        [*register, "--region", aws.REGION, "--endpoint-url", "http://127.0.0.1:9"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Parameter validation failed" in refused.stderr, refused.stderr
