"""`infrakit drift --env ENV`: exit 0 with no changes, 2 on drift (listed by name), 1 on an error.

End to end, with the stand-ins of tests/test_plan_command.py: a `terraform` script on PATH that
records its commands, exits from `plan` with the code a fixture gives (as `-detailed-exitcode` does:
0 no changes, 2 changes, 1 an error) and prints a fixture plan for `show -json`; the plans are built
from our synthesized stacks (tests/test_plan.py), with `resource_drift` and `output_changes` in
Terraform's JSON plan format, and a sentinel value planted in every value that changed, sensitive or
not. What this cannot prove: which drift a real provider's refresh finds. The last test runs real
Terraform, on a stack of `terraform_data` (the one resource type that needs no provider download),
for exit codes 0 and 2 and the flags; `terraform_data` cannot change outside Terraform, so drift
found by a refresh is proven on fixtures only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

import pytest

from infrakit import cli
from tests.conftest import ENVIRONMENTS
from tests.test_plan import SECRET, addresses, plan_json
from tests.test_plan_command import Project, executable, without_plan_file
from tests.test_plan_markdown import Rendered, body_rows

# Exits from `plan` with `<stack>.exit` (default 0), as `terraform plan -detailed-exitcode` does.
FAKE_TERRAFORM = r"""#!/bin/sh
stack=$(basename "$PWD")
printf '%s %s\n' "$stack" "$*" >> "$PLAN_TEST_CALLS"
case "$1" in
  init) mkdir -p .terraform && "$PLAN_TEST_PYTHON" "$PLAN_TEST_WRITE_LOCK" ;;
  plan)
    for arg in "$@"; do
      case "$arg" in -out=*) printf 'binary plan, secrets inside' > "${arg#-out=}" ;; esac
    done
    echo "Terraform will perform the following actions (as Terraform prints them)"
    code=$(cat "$PLAN_TEST_FIXTURES/$stack.exit" 2>/dev/null || echo 0)
    [ "$code" = 1 ] && echo "Error: reading the state: AccessDenied" >&2
    exit "$code" ;;
  show) [ -f "$3" ] || { echo "no plan file at $3" >&2; exit 1; }
        cat "$PLAN_TEST_FIXTURES/$stack.json" ;;
  *) exit 1 ;;
esac
"""


@pytest.fixture
def project(tmp_path, synthesized, monkeypatch) -> Project:
    made = Project(tmp_path, synthesized, monkeypatch)
    executable(made.bin / "terraform", FAKE_TERRAFORM)
    return made


def drift(*args: str) -> int:
    return cli.main(["--environments-dir", str(ENVIRONMENTS), "drift", *args])


def quiet(project: Project, *stacks: str) -> None:
    """Plans of these stacks with no change (the default of each fixture is a no-op)."""
    project.plans(**{stack: plan_json(project.document(stack), default=["no-op"]) for stack in stacks})


def exits(project: Project, **codes: int) -> None:
    for stack, code in codes.items():
        (project.fixtures / f"{stack}.exit").write_text(str(code))


def refreshed(address: str, before: Mapping[str, Any], after: Mapping[str, Any] | None) -> dict[str, Any]:
    """One entry of `resource_drift`: the object as the state held it, then as the refresh read it."""
    kind, name = address.split(".", 1)
    return {
        "address": address,
        "mode": "managed",
        "type": kind,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": ["update"] if after is not None else ["delete"],
            "before": dict(before),
            "after": dict(after) if after is not None else None,
            "after_unknown": {},
            "before_sensitive": {},
            "after_sensitive": {},
        },
    }


def set_change(plan: dict[str, Any], address: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    """The planned update of `address` changes exactly before -> after."""
    (item,) = [item for item in plan["resource_changes"] if item["address"] == address]
    item["change"].update(actions=["update"], before=before, after=after, after_unknown={})


def test_no_changes_exits_0_after_planning_every_stack_without_the_state_lock(project, capfd) -> None:
    quiet(project, "dev-images", "dev")
    assert drift("--env", "dev") == 0
    calls = project.calls()
    assert calls[0] == f"main.py --environments-dir {ENVIRONMENTS} --outdir cdktf.out dev"
    assert [without_plan_file(call) for call in calls[1:] if " show " not in call] == [
        "dev-images init -input=false",
        "dev-images plan -input=false -detailed-exitcode -lock=false -out=<plan>",
        "dev init -input=false",
        "dev plan -input=false -detailed-exitcode -lock=false -out=<plan>",
    ]
    assert [call.split(" ")[:3] for call in calls if " show " in call] == [
        ["dev-images", "show", "-json"],
        ["dev", "show", "-json"],
    ]
    out, err = capfd.readouterr()
    assert "dev-images: no changes" in err and "dev: no changes" in err
    assert "infrakit: no drift: dev-images, dev match their configuration" in err
    assert "Terraform will perform the following actions" in out  # Terraform's own output is shown
    assert list(project.temp.iterdir()) == []  # the plan files, secrets and all, are gone


def test_drift_exits_2_and_lists_addresses_and_attribute_names_never_values(project, capfd, monkeypatch):
    monkeypatch.setattr(cli.console, "_width", 400)  # one table row per line
    quiet(project, "dev-images")
    document = project.document("dev")
    group = addresses(document, "aws_security_group")[0]
    (secret,) = [a for a in addresses(document, "aws_secretsmanager_secret_version") if "cache" in a]
    (service, *_) = addresses(document, "aws_ecs_service")
    plan = plan_json(document, {group: ["update"], secret: ["update"]}, default=["no-op"])
    rule = {"from_port": 443, "cidr_blocks": [f"10.9.0.0/16 {SECRET}"]}
    set_change(plan, group, {"ingress": [rule], "name": "api"}, {"ingress": [], "name": "api"})
    set_change(plan, secret, {"secret_string": SECRET}, {"secret_string": f"{SECRET}-config"})
    plan["resource_drift"] = [
        refreshed(group, {"ingress": [], "name": "api"}, {"ingress": [rule], "name": "api"}),
        refreshed(secret, {"secret_string": f"{SECRET}-config"}, {"secret_string": SECRET}),
        # Autoscaling moved it; the configuration ignores desired_count: listed, not drift.
        refreshed(service, {"desired_count": 2, "name": SECRET}, {"desired_count": 5, "name": SECRET}),
    ]
    plan["output_changes"] = {
        "redis_url": {"actions": ["update"], "before": SECRET, "after": f"{SECRET}2"},
        "api_url": {"actions": ["no-op"], "before": SECRET, "after": SECRET},
    }
    project.plans(dev=plan)
    exits(project, dev=2)
    assert drift("--env", "dev") == 2
    out, err = capfd.readouterr()
    assert SECRET not in out + err
    assert "dev-images: no changes" in err
    assert "dev: DRIFT: 2 to change, 1 output to change, 2 of them changed outside Terraform" in err
    lines = {line.split("│")[2].strip(): line for line in err.splitlines() if line.count("│") == 5}
    assert "change (changed outside Terraform)" in lines[group] and "ingress" in lines[group]
    assert "secret_string" in lines[secret]
    assert "changed outside Terraform, nothing to apply" in lines[service]
    assert "desired_count" in lines[service]
    assert "output" in lines["redis_url"] and "api_url" not in lines
    assert "infrakit: drift in dev: what is deployed differs from the configuration" in err
    assert "`infrakit deploy --env dev`" in err or "`python -m infrakit deploy --env dev`" in err


def test_drift_as_markdown_is_a_table_on_stdout_alone(project, capfd) -> None:
    quiet(project, "dev-images")
    document = project.document("dev")
    (cache,) = addresses(document, "aws_elasticache_replication_group")
    plan = plan_json(document, {cache: ["delete", "create"]}, default=["no-op"])
    plan["resource_drift"] = [refreshed(cache, {"node_type": SECRET}, {"node_type": f"{SECRET}.large"})]
    project.plans(dev=plan)
    exits(project, dev=2)
    assert drift("--env", "dev", "--format", "markdown") == 2
    out, err = capfd.readouterr()
    rendered = Rendered(out)
    assert rendered.headings == [
        "Drift of dev: DRIFT (exit 2)",
        "dev-images: no changes",
        "dev: DRIFT: 1 to replace, 1 of them changed outside Terraform",
    ]
    (row,) = body_rows(rendered)
    # `id` is known only after the apply (a new object); node_type is what changed outside Terraform.
    assert row[:3] == ["replace (changed outside Terraform)", cache, "id, node_type"]
    assert row[3].startswith("LOSES ")  # an apply would replace the cache: its data with it
    assert any(code.endswith("infrakit deploy --env dev") for code in rendered.codes)  # how to end it
    assert "Terraform will perform" in err and "Terraform will perform" not in out
    assert SECRET not in out + err
    assert "\x1b[" not in out


def test_an_object_deleted_outside_terraform_is_drift(project, capfd, monkeypatch) -> None:
    monkeypatch.setattr(cli.console, "_width", 400)  # one table row per line
    quiet(project, "dev-images")
    document = project.document("dev")
    group = addresses(document, "aws_security_group")[0]
    plan = plan_json(document, {group: ["create"]}, default=["no-op"])
    plan["resource_drift"] = [refreshed(group, {"name": SECRET}, None)]
    project.plans(dev=plan)
    exits(project, dev=2)
    assert drift("--env", "dev") == 2
    err = capfd.readouterr().err
    assert any("add (deleted outside Terraform)" in line and group in line for line in err.splitlines())


def test_changes_only_outside_what_the_configuration_manages_exit_0(project, capfd) -> None:
    quiet(project, "dev-images")
    document = project.document("dev")
    (service, *_) = addresses(document, "aws_ecs_service")
    plan = plan_json(document, default=["no-op"])
    plan["resource_drift"] = [refreshed(service, {"desired_count": 2}, {"desired_count": 4})]
    project.plans(dev=plan)
    assert drift("--env", "dev", "--format", "markdown") == 0
    out, err = capfd.readouterr()
    rendered = Rendered(out)
    assert rendered.headings[0] == "Drift of dev: no drift (exit 0)"
    assert body_rows(rendered) == [
        ["changed outside Terraform, nothing to apply", service, "desired_count", ""]
    ]


def test_a_stack_that_cannot_be_planned_exits_1_and_the_others_are_still_checked(project, capfd) -> None:
    quiet(project, "dev-images")
    document = project.document("dev")
    group = addresses(document, "aws_security_group")[0]
    project.plans(dev=plan_json(document, {group: ["update"]}, default=["no-op"]))
    exits(project, **{"dev-images": 1, "dev": 2})
    assert drift("--env", "dev", "--format", "markdown") == 1
    out, err = capfd.readouterr()
    assert any(call.startswith("dev plan ") for call in project.calls())
    assert "Error: reading the state: AccessDenied" in err
    assert "error: dev-images could not be planned (see above) (and drift in dev)" in err
    rendered = Rendered(out)
    assert rendered.headings[:2] == ["Drift of dev: error (exit 1)", "dev-images: could not be planned"]
    assert "`terraform plan` failed (exit 1; see above)" in rendered.text


def test_a_synth_that_fails_exits_1_and_plans_nothing(project, capfd) -> None:
    (project.root / "main.py").write_text(
        "import sys\nprint('bad environment file', file=sys.stderr)\nsys.exit(2)\n"
    )
    assert drift("--env", "dev") == 1
    assert not any(" plan " in f" {call} " for call in project.calls())
    assert "infrakit: error: the synth failed (see above); nothing was planned" in capfd.readouterr().err


def test_a_missing_terraform_exits_1(tmp_path, synthesized, monkeypatch, capfd) -> None:
    project = Project(tmp_path, synthesized, monkeypatch, binary="not-terraform")
    monkeypatch.setenv("PATH", str(project.bin))
    assert drift("--env", "dev") == 1
    assert "Install Terraform >= 1.10" in capfd.readouterr().err


def test_usage_and_configuration_errors_exit_1_not_2(tmp_path, capfd) -> None:
    """2 means drift; a nightly job must not read a mistake in its command line as drift."""
    with pytest.raises(SystemExit) as exited:
        cli.main(["drift"])  # no --env
    assert exited.value.code == 1
    with pytest.raises(SystemExit) as exited:
        cli.main(["drift", "--env", "dev", "--format", "html"])
    assert exited.value.code == 1
    with pytest.raises(SystemExit) as exited:
        cli.main(["--environments-dir", str(tmp_path), "drift", "--env", "dev", "--stray"])
    assert exited.value.code == 1
    assert cli.main(["--environments-dir", str(tmp_path), "drift", "--env", "dev"]) == 1
    with pytest.raises(SystemExit) as exited:  # every other command keeps 2 for usage errors
        cli.main(["plan"])
    assert exited.value.code == 2


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs Terraform on PATH")
def test_real_terraform_exits_0_then_2_and_names_the_changed_attribute(tmp_path, monkeypatch, capfd):
    source = tmp_path / "synthesized"
    project = Project(tmp_path, source, monkeypatch, binary="unused")

    def synthesized_stack(stack: str, resources: dict[str, Any]) -> None:
        (source / "stacks" / stack).mkdir(parents=True, exist_ok=True)
        document = {
            "resource": {"terraform_data": resources},
            "output": {"shown": {"value": "${terraform_data.changed.input}"}},
        }
        (source / "stacks" / stack / "cdk.tf.json").write_text(json.dumps(document))

    for stack in ("dev-images", "dev"):
        synthesized_stack(stack, {"kept": {"input": "a"}, "changed": {"input": "a"}})
    environ = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    assert drift("--env", "dev") == 2  # nothing applied yet: everything to add
    for stack in ("dev-images", "dev"):
        applied = subprocess.run(
            ["terraform", "apply", "-auto-approve", "-input=false"],
            cwd=tmp_path / "cdktf.out" / "stacks" / stack,
            env=environ,
            capture_output=True,
        )
        assert applied.returncode == 0, applied.stderr
    capfd.readouterr()
    assert drift("--env", "dev") == 0
    assert "no drift: dev-images, dev match their configuration" in capfd.readouterr().err
    synthesized_stack("dev", {"kept": {"input": "a"}, "changed": {"input": "b"}})
    assert drift("--env", "dev", "--format", "markdown") == 2
    out, _ = capfd.readouterr()
    rows = {row[1]: row for row in body_rows(Rendered(out))}
    assert rows["terraform_data.changed"][:3] == ["change", "terraform_data.changed", "input, output"]
    assert rows["shown"][0] == "output"
    assert "terraform_data.kept" not in rows
    assert list(project.temp.iterdir()) == []


def test_ctrl_c_says_in_one_line_that_nothing_was_changed(project, monkeypatch, capfd) -> None:
    """The wiring only: how a real Ctrl-C reaches Terraform and waits for it is the plan's
    (tests/test_plan_command.py), through the same run_program."""
    from infrakit.deploy.drift import DriftCheck

    def interrupted(self, environment, stacks):
        raise KeyboardInterrupt

    monkeypatch.setattr(DriftCheck, "check", interrupted)
    assert drift("--env", "dev") == cli.EXIT_INTERRUPTED
    err = capfd.readouterr().err
    assert err.strip().splitlines()[-1] == f"infrakit: drift interrupted (Ctrl-C); {cli.LEFT_BEHIND['drift']}"
