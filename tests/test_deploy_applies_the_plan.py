"""The plan you reviewed is the plan applied: `infrakit deploy` plans each cloud stack once, to a
plan file, shows its summary, and applies exactly that file with `terraform apply <file>`; no
`cdktf deploy`, no second plan. The file lives in a private directory and is removed however the
deploy ends.

`terraform` here is a stand-in script put first on PATH: it records its argv (and its directory)
to a file, writes a plan file whose content is unique to that plan, records the mode of the plan
file's directory, records the content of the file it is asked to apply, and can fail its apply or
wait on Ctrl-C. `main.py` and ECR are the stand-ins of tests/test_plan_command.py and
tests/ecr_stub.py; ECS answers the rollback plan as before a first deploy. The last tests run the
real Terraform on `terraform_data` resources (the one resource type that needs no provider).

What this cannot prove: what a real provider applies, and a real terminal's signal timing.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest
from rich.console import Console

from infrakit import cli
from infrakit.deploy.plan_gate import Finished, PlanGate, run_program
from tests.conftest import ENVIRONMENTS, PYTHON, start_foreground_job
from tests.ecr_stub import configs_found, images_found
from tests.test_plan import SECRET, addresses, plan_json
from tests.test_plan_command import Project, executable
from tests.test_plan_in_deploy import CDKTF_RECORDER, first_deploy_ecs

# Records "<stack> <argv>" to $PLAN_TEST_CALLS; on plan, a file whose content names the stack and
# this process (unique per plan), holding a stand-in secret as real plan files hold secrets.
TERRAFORM = r"""#!/bin/sh
stack="$(basename "$PWD")"
printf '%s %s\n' "$stack" "$*" >> "$PLAN_TEST_CALLS"
case "$1" in
  init) mkdir -p .terraform && "$PLAN_TEST_PYTHON" "$PLAN_TEST_WRITE_LOCK" ;;
  plan)
    for arg in "$@"; do case "$arg" in -out=*) plan_file="${arg#-out=}" ;; esac; done
    printf 'plan %s of %s, %s\n' "$$" "$stack" "$DEPLOY_TEST_SECRET" > "$plan_file"
    cut -d, -f1 "$plan_file" >> "$PLAN_TEST_CALLS.planned"
    printf '%s %s\n' "$stack" "$(stat -c %a "$(dirname "$plan_file")")" >> "$PLAN_TEST_CALLS.modes"
    echo "Terraform will perform the following actions (as Terraform prints them)" ;;
  show) [ -f "$3" ] || { echo "no plan file at $3" >&2; exit 1; }
        cat "$PLAN_TEST_FIXTURES/$stack.json" ;;
  apply)
    for arg in "$@"; do plan_file="$arg"; done
    [ -f "$plan_file" ] || { echo "no plan file at $plan_file" >&2; exit 1; }
    cut -d, -f1 "$plan_file" >> "$PLAN_TEST_CALLS.applied"
    if [ "$stack" = "$DEPLOY_TEST_SLOW_APPLY" ]; then
      echo applying > "$PLAN_TEST_CALLS.applying"
      sleep 30 & busy=$!
      trap 'kill $busy; sleep 1; echo released > "$PLAN_TEST_CALLS.released"; exit 1' INT
      wait $busy
    fi
    if [ "$stack" = "$DEPLOY_TEST_FAIL_APPLY" ]; then
      echo "Error: creating ECS Service: stand-in failure" >&2; exit 1
    fi
    echo "Apply complete!" ;;
  output) echo '{}' ;;
  *) exit 1 ;;
esac
"""


class Deploy:
    """A project with the stand-ins; `calls`, `plan_files` and `applied` read what terraform saw."""

    def __init__(self, project: Project, ecr: Any, s3: Any):
        self.project, self.ecr, self.s3 = project, ecr, s3

    def images_in_ecr(self) -> None:
        """ECR answers the image check: every image is there (for a deploy that reaches it)."""
        images_found(self.ecr)
        configs_found(self.ecr, self.s3)

    def calls(self) -> list[str]:
        return self.project.calls()

    def of(self, stack: str, command: str) -> list[str]:
        return [c for c in self.calls() if c.startswith(f"{stack} {command} ")]

    def plan_file(self, stack: str) -> str:
        """The one plan file the stack was planned to."""
        (plan,) = self.of(stack, "plan")
        (out,) = [a for a in plan.split(" ") if a.startswith("-out=")]
        return out.removeprefix("-out=")

    def written(self, name: str) -> list[str]:
        path = Path(f"{self.project.calls_file}.{name}")
        return path.read_text().splitlines() if path.exists() else []

    def temporary_files(self) -> list[Path]:
        return list(self.project.temp.rglob("*"))


@pytest.fixture
def deploy(tmp_path, synthesized, monkeypatch, ecr, s3) -> Deploy:
    project = Project(tmp_path, synthesized, monkeypatch)
    executable(project.bin / "terraform", TERRAFORM)
    cdktf = tmp_path / "node_modules" / ".bin" / "cdktf"
    cdktf.parent.mkdir(parents=True)
    executable(cdktf, CDKTF_RECORDER)  # a cloud deploy must not run it
    monkeypatch.setenv("DEPLOY_TEST_SECRET", SECRET)
    client, stubber = ecr
    real = boto3.client
    monkeypatch.setattr(
        boto3,
        "client",
        lambda service, region_name=None: client if service == "ecr" else first_deploy_ecs(real),
    )
    project.plans(
        **{
            "dev-images": plan_json(project.document("dev-images"), default=["no-op"]),
            "dev": plan_json(project.document("dev")),
        }
    )
    return Deploy(project, stubber, s3)


def deploy_command(*args: str) -> int:
    # Preflight: tests/test_plan_in_deploy.py. --no-wait: the rollout wait is tests/test_deploy_serving.py's.
    return cli.main(
        [
            "--environments-dir",
            str(ENVIRONMENTS),
            "deploy",
            "--env",
            "dev",
            "--skip-preflight",
            "--no-wait",
            *args,
        ]
    )


def test_deploy_applies_the_plan_file_it_summarized_and_plans_once(deploy, capfd) -> None:
    deploy.images_in_ecr()
    assert deploy_command("--auto-approve") == 0
    for stack in ("dev-images", "dev"):
        plan_file = deploy.plan_file(stack)
        assert len(deploy.of(stack, "plan")) == 1  # one plan, one refresh, per stack
        assert deploy.of(stack, "show") == [f"{stack} show -json {plan_file}"]
        assert deploy.of(stack, "apply") == [f"{stack} apply -input=false -lock-timeout=60s {plan_file}"]
        assert Path(plan_file).parent.parent == deploy.project.temp
    # The same file, not one of the same name: what each plan wrote is what its apply was given.
    assert deploy.written("applied") == deploy.written("planned")
    assert [line.split(" ")[-1] for line in deploy.written("applied")] == ["dev-images", "dev"]
    assert deploy.written("modes") == ["dev-images 700", "dev 700"]  # the plan's directory: ours only
    assert [c.split(" ")[:2] for c in deploy.calls()] == [
        ["main.py", "--environments-dir"],
        ["dev-images", "init"],
        ["dev-images", "plan"],
        ["dev-images", "show"],
        ["dev-images", "apply"],
        ["dev", "init"],
        ["dev", "plan"],
        ["dev", "show"],
        ["dev", "apply"],
    ]  # and no cdktf
    assert deploy.temporary_files() == []  # the plan files, secrets and all, are gone
    out, err = capfd.readouterr()
    # The summary, then the rollback plan, then the apply.
    summary = err.index(f"dev: {len(addresses(deploy.project.document('dev')))} to add")
    rollback = err.index("infrakit: rollback plan for dev: no ECS service of it runs yet")
    assert summary < rollback < err.index("infrakit: dev: applying the plan above")
    assert SECRET not in out + err


def test_a_failed_apply_removes_the_plan_file_and_deploys_nothing_after(deploy, monkeypatch, capfd) -> None:
    monkeypatch.setenv("DEPLOY_TEST_FAIL_APPLY", "dev-images")
    assert deploy_command("--auto-approve") == 1
    assert len(deploy.of("dev-images", "apply")) == 1
    assert not [c for c in deploy.calls() if c.startswith("dev ")]  # dev was not even planned
    assert deploy.temporary_files() == []
    err = capfd.readouterr().err
    assert "Error: creating ECS Service: stand-in failure" in err  # Terraform's own words
    assert "`terraform apply` failed for dev-images (see above)" in err
    assert "infrakit: dev-images did not apply (see above); nothing else was deployed" in err


def test_a_failed_environment_apply_removes_its_plan_file(deploy, monkeypatch, capfd) -> None:
    monkeypatch.setenv("DEPLOY_TEST_FAIL_APPLY", "dev")
    deploy.images_in_ecr()
    assert deploy_command("--auto-approve") == 1
    assert len(deploy.of("dev", "apply")) == 1
    assert deploy.temporary_files() == []
    assert "Run the deploy again: it plans afresh" in capfd.readouterr().err


def test_without_auto_approve_it_asks_before_each_apply_and_no_applies_nothing(deploy, monkeypatch, capfd):
    """The saved plan is applied without Terraform asking: infrakit asks, after the summary (and the
    rollback plan). Cannot prove a terminal's input: the answer is given to rich's Console.input."""
    asked: list[str] = []

    def answer(prompt: str, **kwargs: Any) -> str:
        asked.append(prompt)
        return "n"

    monkeypatch.setattr(cli.console, "input", answer)
    deploy.project.plans(**{"dev-images": plan_json(deploy.project.document("dev-images"))})  # changes
    assert deploy_command() == 1
    assert asked == ["infrakit: apply this plan to dev-images? [y/N] "]
    assert not [c for c in deploy.calls() if " apply " in c]
    assert deploy.temporary_files() == []
    err = capfd.readouterr().err
    assert "dev-images: not applied (the plan was not approved); nothing of it changed" in err


def test_yes_applies_and_a_plan_that_changes_nothing_is_not_asked_about(deploy, monkeypatch) -> None:
    asked: list[str] = []

    def answer(prompt: str, **kwargs: Any) -> str:
        asked.append(prompt)
        return "yes"

    monkeypatch.setattr(cli.console, "input", answer)
    deploy.images_in_ecr()
    assert deploy_command() == 0  # dev-images plans no change; dev adds everything
    assert asked == ["infrakit: apply this plan to dev? [y/N] "]
    assert [c.split(" ")[0] for c in deploy.calls() if " apply " in c] == ["dev-images", "dev"]


def test_a_closed_stdin_is_no_and_says_how_to_apply_without_asking(deploy, monkeypatch, capfd) -> None:
    def closed(prompt: str, **kwargs: Any) -> str:
        raise EOFError

    monkeypatch.setattr(cli.console, "input", closed)
    deploy.images_in_ecr()
    assert deploy_command() == 1
    assert "no answer (EOFError); --auto-approve applies without asking" in capfd.readouterr().err
    assert not [c for c in deploy.calls() if c.startswith("dev apply")]


def test_ctrl_c_during_the_apply_waits_for_terraform_and_removes_the_plan_file(
    tmp_path, synthesized, monkeypatch
) -> None:
    """A terminal's Ctrl-C reaches infrakit and Terraform together: infrakit waits for Terraform to
    stop at a safe point (it saves its state and releases the lock), then removes the plan file and
    says one line. The Ctrl-C comes during the images stack's apply, before any AWS call."""
    project = Project(tmp_path, synthesized, monkeypatch)
    executable(project.bin / "terraform", TERRAFORM)
    project.plans(**{"dev-images": plan_json(project.document("dev-images"))})
    environ = {
        **os.environ,
        **project.environ,
        "DEPLOY_TEST_SLOW_APPLY": "dev-images",
        "DEPLOY_TEST_SECRET": SECRET,
    }
    process = start_foreground_job(
        [PYTHON, "-m", "infrakit", "--environments-dir", str(ENVIRONMENTS), "deploy", "--env", "dev"]
        + ["--skip-preflight", "--auto-approve"],
        cwd=project.root,
        env=environ,
    )
    applying = Path(f"{project.calls_file}.applying")
    try:
        deadline = time.monotonic() + 60
        while not applying.exists():
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.05)
        time.sleep(0.3)  # into the trap-armed wait
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == cli.EXIT_INTERRUPTED, err
    assert Path(f"{project.calls_file}.released").read_text() == "released\n"  # it was let finish
    assert list(project.temp.rglob("*")) == []  # the plan file is gone
    lines = err.splitlines()
    assert "Traceback" not in err
    assert [line for line in lines if "interrupted" in line] == lines[-1:]
    assert lines[-1] == f"infrakit: deploy interrupted (Ctrl-C); {cli.LEFT_BEHIND['deploy']}"
    assert not [c for c in project.calls() if c.startswith("dev ")]
    assert SECRET not in out + err


# ----------------------------------------------------------------------------- real terraform


def real_stack(root: Path, resources: dict[str, Any]) -> Path:
    stack = root / "stacks" / "dev"
    stack.mkdir(parents=True, exist_ok=True)
    (stack / "cdk.tf.json").write_text(json.dumps({"resource": {"terraform_data": resources}}))
    return stack


class RealTerraform:
    """run_program, recording each argv."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], *, cwd: Path, capture: bool = False) -> Finished:
        self.calls.append(list(argv))
        return run_program(argv, cwd=cwd, capture=capture)


def real_gate(stack: Path, said: list[str]) -> tuple[PlanGate, RealTerraform]:
    terraform = RealTerraform()
    gate = PlanGate(terraform, stack.parent, (), Console(file=io.StringIO()).print, said.append)
    return gate, terraform


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs Terraform on PATH")
def test_real_terraform_applies_the_saved_plan(tmp_path, monkeypatch) -> None:
    """Real Terraform accepts `apply -input=false -lock-timeout=60s <plan file>` and applies what the
    plan said, without planning again. Cannot prove a provider's refresh: terraform_data has none."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    stack = real_stack(tmp_path, {"a": {"input": "one"}, "b": {"input": "two"}})
    said: list[str] = []
    gate, terraform = real_gate(stack, said)
    outcome = gate.apply("dev")
    assert (outcome.code, outcome.applying) == (0, True), said
    commands = [argv[1] for argv in terraform.calls]
    assert commands == ["init", "plan", "show", "apply"]
    plan_file = terraform.calls[1][3].removeprefix("-out=")
    assert terraform.calls[3] == ["terraform", "apply", "-input=false", "-lock-timeout=60s", plan_file]
    state = json.loads((stack / "terraform.tfstate").read_text())
    assert sorted(r["name"] for r in state["resources"]) == ["a", "b"]
    assert not Path(plan_file).exists() and not Path(plan_file).parent.exists()


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs Terraform on PATH")
def test_real_terraform_refuses_a_saved_plan_whose_state_moved(tmp_path, monkeypatch, capfd) -> None:
    """Between the summary and the apply, another apply changes the state: Terraform refuses the
    saved plan as stale and changes nothing, so what is applied can only be what was summarized.
    Cannot prove the same for a remote backend's state lineage: this one is a local file."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    stack = real_stack(tmp_path, {"a": {"input": "one"}})
    said: list[str] = []
    gate, _ = real_gate(stack, said)
    assert gate.apply("dev").code == 0
    real_stack(tmp_path, {"a": {"input": "two"}})

    def someone_else_applies(planned: Any) -> None:
        other = subprocess.run(
            ["terraform", "apply", "-auto-approve", "-input=false"],
            cwd=stack,
            capture_output=True,
            timeout=120,
        )
        assert other.returncode == 0, other.stderr

    outcome = gate.apply("dev", before=someone_else_applies)
    assert (outcome.code != 0, outcome.applying) == (True, True)
    output = re.sub(r"\x1b\[[0-9;]*m", "", capfd.readouterr().err)
    assert "Saved plan is stale" in " ".join(output.replace("│", " ").split())
    assert said[-1].startswith("`terraform apply` failed for dev (see above).")
    assert [p for p in tmp_path.iterdir() if p.name.startswith("infrakit-plan-")] == []
