"""The plan gate inside the deploy order: each stack of a cloud environment is planned, then that
plan is applied, and a refused plan stops the deploy before that stack.

`deploy_in_order` runs with everything recorded in one list: the synth, each Terraform command of
the plan gate (the plan JSON is built from our synthesized stacks, see tests/test_plan.py), each
`terraform apply` of a plan file, and any `cdktf deploy` (only `local` runs one). ECR is stubbed as
in tests/test_deploy_order.py. The last tests run `python -m infrakit deploy` with stand-ins for
terraform, cdktf and main.py. What this cannot prove: what Terraform, cdktf and ECR really do
(tests/test_deploy_applies_the_plan.py applies a plan file with real Terraform).
"""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest
from rich.console import Console

from infrakit import cli
from infrakit.config.loader import load_environment
from infrakit.deploy.order import deploy_in_order
from infrakit.deploy.plan_gate import Finished, PlanGate
from tests.conftest import ENVIRONMENTS, ROOT
from tests.ecr_stub import configs_found, images_found
from tests.lock_files import lock_file, pins
from tests.test_plan import addresses, plan_json, stack_document
from tests.test_plan_command import Project, executable

CDKTF = "node_modules/.bin/cdktf"
# A `cdktf` that records each command it is given.
CDKTF_RECORDER = '#!/bin/sh\nprintf \'cdktf %s\\n\' "$*" >> "$PLAN_TEST_CALLS"\n'


class Recorded:
    """One list of every command, in order: the plan gate's (plan, show, apply) and cdktf's."""

    def __init__(self, plans: Mapping[str, Mapping[str, Any]], stacks_dir: Path):
        self.calls: list[str] = []
        self.plans, self.stacks_dir = plans, stacks_dir

    def program(self, argv: Sequence[str], *, cwd: Path, capture: bool = False) -> Finished:
        where = "project" if cwd == self.stacks_dir.parent.parent else cwd.name
        self.calls.append(
            f"{where}: {' '.join(a if not a.startswith('-out=') else '-out=<plan>' for a in argv)}"
        )
        if argv[1] == "show":
            return Finished(0, json.dumps(self.plans[cwd.name]))
        return Finished(0)

    def cdktf(self, argv: Sequence[str]) -> int:
        self.calls.append(" ".join(argv))
        return 0


def stacks(tmp_path: Path, synthesized: Path, *names: str) -> Path:
    """cdktf.out/stacks with the synthesized stacks, each already initialised: .terraform/ and a
    lock file holding the versions the stack pins."""
    stacks_dir = tmp_path / "cdktf.out" / "stacks"
    for name in names:
        (stacks_dir / name / ".terraform").mkdir(parents=True)
        document = (synthesized / "stacks" / name / "cdk.tf.json").read_text()
        (stacks_dir / name / "cdk.tf.json").write_text(document)
        (stacks_dir / name / ".terraform.lock.hcl").write_text(lock_file(pins(json.loads(document))))
    return stacks_dir


def deploy(
    env: str,
    recorded: Recorded,
    client: Any,
    said: list[str],
    allow_replace: Sequence[str] = (),
) -> int:
    gate = PlanGate(
        run=recorded.program,
        stacks_dir=recorded.stacks_dir,
        allow_replace=allow_replace,
        show=Console(file=io.StringIO()).print,
        say=said.append,
        synth=["python", "main.py", env],
        project_root=recorded.stacks_dir.parent.parent,
    )
    return deploy_in_order(
        load_environment(ENVIRONMENTS / f"{env}.toml"),
        run=recorded.cdktf,
        ecr=lambda: client,
        cdktf=CDKTF,
        auto_approve=True,
        say=said.append,
        plan=gate,
    )


PLANNED_IMAGES = [
    "dev-images: terraform plan -input=false -out=<plan> -lock-timeout=60s",
    "dev-images: terraform show -json",
]
PLANNED_DEV = ["dev: terraform plan -input=false -out=<plan> -lock-timeout=60s", "dev: terraform show -json"]
APPLIED_IMAGES = "dev-images: terraform apply -input=false -lock-timeout=60s"
APPLIED_DEV = "dev: terraform apply -input=false -lock-timeout=60s"


def shortened(calls: list[str]) -> list[str]:
    """The calls without the plan file's temporary path, which `show` and `apply` end with."""
    return [c.split(" /")[0] if ": terraform show" in c or ": terraform apply" in c else c for c in calls]


def test_each_stack_is_planned_then_that_plan_is_applied(ecr, tmp_path, synthesized, s3) -> None:
    client, stubber = ecr
    images_found(stubber)
    configs_found(stubber, s3)
    stacks_dir = stacks(tmp_path, synthesized, "dev-images", "dev")
    recorded = Recorded(
        {
            "dev-images": plan_json(stack_document(synthesized, "dev-images"), default=["no-op"]),
            "dev": plan_json(stack_document(synthesized, "dev")),
        },
        stacks_dir,
    )
    assert deploy("dev", recorded, client, []) == 0
    assert shortened(recorded.calls) == [
        "project: python main.py dev",
        *PLANNED_IMAGES,
        APPLIED_IMAGES,
        *PLANNED_DEV,
        APPLIED_DEV,
    ]


def test_a_refused_images_plan_deploys_nothing(ecr, tmp_path, synthesized) -> None:
    client, _ = ecr  # no ECR call is expected: the Stubber fails on any
    document = stack_document(synthesized, "dev-images")
    repositories = addresses(document, "aws_ecr_repository")
    recorded = Recorded(
        {
            "dev-images": plan_json(
                document, dict.fromkeys(repositories, ["delete", "create"]), default=["no-op"]
            )
        },
        stacks(tmp_path, synthesized, "dev-images", "dev"),
    )
    said: list[str] = []
    assert deploy("dev", recorded, client, said) == 1
    assert shortened(recorded.calls) == ["project: python main.py dev", *PLANNED_IMAGES]
    assert said[-1] == "not deploying dev-images (see the plan above); nothing was deployed"


def replacing_the_redis_group(tmp_path: Path, synthesized: Path) -> tuple[str, Recorded]:
    """dev-images plans no change, and dev plans to replace its ElastiCache replication group:
    the group's address, and the recorded stand-ins."""
    document = stack_document(synthesized, "dev")
    (group,) = addresses(document, "aws_elasticache_replication_group")
    recorded = Recorded(
        {
            "dev-images": plan_json(stack_document(synthesized, "dev-images"), default=["no-op"]),
            "dev": plan_json(document, {group: ["delete", "create"]}, default=["no-op"]),
        },
        stacks(tmp_path, synthesized, "dev-images", "dev"),
    )
    return group, recorded


def test_a_refused_environment_plan_stops_before_the_environment(ecr, tmp_path, synthesized, s3) -> None:
    client, stubber = ecr
    images_found(stubber)
    configs_found(stubber, s3)
    group, recorded = replacing_the_redis_group(tmp_path, synthesized)
    said: list[str] = []
    assert deploy("dev", recorded, client, said) == 1
    assert shortened(recorded.calls)[-3:] == [APPLIED_IMAGES, *PLANNED_DEV]
    assert f"dev was not applied. If you mean to lose it, add: --allow-replace {group}" in said
    assert said[-1] == "not deploying dev (see the plan above)"


def test_allow_replace_reaches_the_environment_plan_past_the_images_plan(
    ecr, tmp_path, synthesized, s3
) -> None:
    client, stubber = ecr
    images_found(stubber)
    configs_found(stubber, s3)
    group, recorded = replacing_the_redis_group(tmp_path, synthesized)
    said: list[str] = []
    assert deploy("dev", recorded, client, said, allow_replace=[group]) == 0
    assert shortened(recorded.calls)[-1] == APPLIED_DEV
    assert any(line.startswith(f"allowed by --allow-replace: {group} would be replaced") for line in said)


def test_an_allowance_no_plan_uses_stops_before_the_environment(ecr, tmp_path, synthesized, s3) -> None:
    """Only the last plan can tell that no stack uses an allowance; the images stack, which the
    allowance did not touch, is deployed by then."""
    client, stubber = ecr
    images_found(stubber)
    configs_found(stubber, s3)
    recorded = Recorded(
        {
            "dev-images": plan_json(stack_document(synthesized, "dev-images"), default=["no-op"]),
            "dev": plan_json(stack_document(synthesized, "dev"), default=["no-op"]),
        },
        stacks(tmp_path, synthesized, "dev-images", "dev"),
    )
    said: list[str] = []
    assert deploy("dev", recorded, client, said, allow_replace=["aws_kms_key.typo"]) == 2
    assert APPLIED_DEV not in shortened(recorded.calls)


def test_local_deploys_without_a_plan(ecr, tmp_path, synthesized) -> None:
    client, _ = ecr
    recorded = Recorded({}, tmp_path / "cdktf.out" / "stacks")
    said: list[str] = []
    code = deploy_in_order(
        load_environment(ENVIRONMENTS / "local.toml"),
        run=recorded.cdktf,
        ecr=lambda: client,
        cdktf=CDKTF,
        auto_approve=True,
        say=said.append,
    )
    assert code == 0
    assert recorded.calls == [f"{CDKTF} deploy local --auto-approve"]


# ----------------------------------------------------------------------------- the deploy command


def first_deploy_ecs(make: Any = None) -> Any:
    """An ECS client stubbed to answer the rollback plan's one question as before a first deploy:
    no service yet (tests/test_rollback_plan.py)."""
    from botocore.stub import Stubber

    from tests.conftest import offline_client
    from tests.test_rollback_plan import nothing_runs_yet

    client = offline_client("ecs", make=make)
    stubber = Stubber(client)
    operation, response, params = nothing_runs_yet()
    stubber.add_response(operation, response, params)
    stubber.activate()
    return client


@pytest.fixture
def project(tmp_path, synthesized, monkeypatch, ecr) -> Project:
    """The stand-ins of tests/test_plan_command.py, a cdktf that records, ECR stubbed, and ECS
    stubbed as before a first deploy."""
    project = Project(tmp_path, synthesized, monkeypatch)
    cdktf = tmp_path / "node_modules" / ".bin" / "cdktf"
    cdktf.parent.mkdir(parents=True)
    executable(cdktf, CDKTF_RECORDER)
    client, _ = ecr
    real = boto3.client
    monkeypatch.setattr(
        boto3,
        "client",
        lambda service, region_name=None: client if service == "ecr" else first_deploy_ecs(real),
    )
    return project


def deploy_command(*args: str) -> int:
    # Preflight would stop at the dev file's placeholders and the missing credentials: what these
    # tests watch comes after it (test_the_deploy_command_runs_preflight_first covers it).
    # --no-wait: what these tests watch ends with the apply; the wait for the rollout after it is
    # tests/test_deploy_serving.py's.
    return cli.main(
        ["--environments-dir", str(ENVIRONMENTS), "deploy", "--skip-preflight", "--no-wait", *args]
    )


def test_the_deploy_command_runs_preflight_first(project, capsys) -> None:
    """`infrakit deploy` checks its prerequisites before it runs anything: here the dev file's
    placeholders and no AWS credentials, so it stops with 3 and runs nothing. Cannot prove that the
    list is complete: it holds what preflight checks (tests/test_preflight.py), no more."""
    code = cli.main(["--environments-dir", str(ENVIRONMENTS), "deploy", "--env", "dev", "--auto-approve"])
    assert code == 3
    err = capsys.readouterr().err
    assert "cannot deploy 'dev' yet; missing:" in err
    calls = project.calls_file.read_text().splitlines() if project.calls_file.exists() else []
    assert not [call for call in calls if call.startswith("cdktf") or " plan" in call or " apply" in call], (
        calls
    )


def test_the_deploy_command_plans_each_stack_then_applies_that_plan(project, ecr, synthesized, s3) -> None:
    images_found(ecr[1])
    configs_found(ecr[1], s3)
    project.plans(
        **{
            "dev-images": plan_json(project.document("dev-images"), default=["no-op"]),
            "dev": plan_json(project.document("dev")),
        }
    )
    assert deploy_command("--env", "dev", "--auto-approve") == 0
    assert [" ".join(c.split(" ")[:2]) for c in project.calls()] == [
        "main.py --environments-dir",
        "dev-images init",
        "dev-images plan",
        "dev-images show",
        "dev-images apply",
        "dev init",
        "dev plan",
        "dev show",
        "dev apply",
    ]
    assert not [c for c in project.calls() if c.startswith("cdktf")]


def test_the_deploy_command_refuses_and_allow_replace_passes_through(project, ecr, capsys, s3) -> None:
    document = project.document("dev")
    (group,) = addresses(document, "aws_elasticache_replication_group")
    project.plans(
        **{
            "dev-images": plan_json(project.document("dev-images"), default=["no-op"]),
            "dev": plan_json(document, {group: ["delete", "create"]}, default=["no-op"]),
        }
    )
    images_found(ecr[1])
    configs_found(ecr[1], s3)
    assert deploy_command("--env", "dev") == 1
    assert not [c for c in project.calls() if c.startswith("dev apply")]
    assert f"add: --allow-replace {group}" in capsys.readouterr().err
    images_found(ecr[1])
    configs_found(ecr[1], s3)
    assert deploy_command("--env", "dev", "--allow-replace", group, "--auto-approve") == 0
    assert project.calls()[-1].startswith("dev apply ")


def test_allow_replace_on_local_is_a_usage_error(project, capsys) -> None:
    assert deploy_command("--env", "local", "--allow-replace", "docker_volume.x") == 2
    assert (
        "'local' keeps its state in a local file and deploys without a plan gate" in capsys.readouterr().err
    )
    calls = project.calls_file.read_text().splitlines() if project.calls_file.exists() else []
    assert not [call for call in calls if call.startswith("cdktf") or " plan" in call], calls


# ----------------------------------------------------------------------------- scripts/setup.sh


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["dev", "--allow-replace"], 2, "setup: --allow-replace needs the address of a resource"),
        (["dev", "--skip-deploy", "--allow-replace=aws_kms_key.k"], 2, "--skip-deploy deploys nothing"),
        # The address is taken as the flag's value, not as a second environment.
        (["dev", "--allow-replace", "aws_kms_key.k", "--help"], 0, ""),
    ],
)
def test_setup_reads_allow_replace_before_doing_anything(args, code, says) -> None:
    """Only the reading of the flag: a deploy that passes it on needs credentials (see the
    deploy command's tests above for what `python -m infrakit deploy` does with it)."""
    result = subprocess.run(
        ["bash", "scripts/setup.sh", *args], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == code, result.stderr
    assert says in result.stderr
    assert "give one environment" not in result.stderr
