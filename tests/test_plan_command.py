"""`python -m infrakit plan --env ENV`, end to end, with stand-ins for what cannot run here.

`terraform` is a script on PATH: it records each command it is given and where, makes
`.terraform/` on init, writes a plan file on plan, and prints a fixture plan (built from our
synthesized stacks, see tests/test_plan.py) for `show -json` of that file, and the fixture
`<stack>-outputs.json` (else `{}`) for `output -json`; `apply` of a plan file succeeds when that
file exists (the deploy applies the file it planned). `main.py` in the
project directory is a stand-in too: it records its arguments and puts the synthesized stacks
where a synth would. What this cannot prove: real Terraform and provider behaviour, and the synth
itself (tests/test_synth_*.py cover that).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from infrakit import cli
from infrakit.config.loader import load_environment
from infrakit.stacks.names import image_services, images_stack_name, stacks_in_deploy_order
from tests.conftest import ENVIRONMENTS, PYTHON, ROOT, start_foreground_job
from tests.test_plan import SECRET, addresses, plan_json, stack_document

FAKE_TERRAFORM = r"""#!/bin/sh
printf '%s %s\n' "$(basename "$PWD")" "$*" >> "$PLAN_TEST_CALLS"
case "$1" in
  init) mkdir -p .terraform && "$PLAN_TEST_PYTHON" "$PLAN_TEST_WRITE_LOCK" ;;
  plan)
    for arg in "$@"; do
      case "$arg" in -out=*) printf 'binary plan, secrets inside' > "${arg#-out=}" ;; esac
    done
    echo "Terraform will perform the following actions (as Terraform prints them)" ;;
  show) [ -f "$3" ] || { echo "no plan file at $3" >&2; exit 1; }
        cat "$PLAN_TEST_FIXTURES/$(basename "$PWD").json" ;;
  output) cat "$PLAN_TEST_FIXTURES/$(basename "$PWD")-outputs.json" 2>/dev/null || echo '{}' ;;
  apply) for arg in "$@"; do last="$arg"; done
         [ -f "$last" ] || { echo "no plan file at $last" >&2; exit 1; } ;;
  *) exit 1 ;;
esac
"""

# What `terraform init` leaves besides .terraform/: a lock file holding the versions the stack pins.
WRITE_LOCK = """import json
from pathlib import Path
from tests.lock_files import lock_file, pins
Path(".terraform.lock.hcl").write_text(lock_file(pins(json.loads(Path("cdk.tf.json").read_text()))))
"""

FAKE_MAIN = """import os, shutil, sys
from pathlib import Path
with open(os.environ["PLAN_TEST_CALLS"], "a") as calls:
    calls.write("main.py " + " ".join(sys.argv[1:]) + "\\n")
env, source = sys.argv[-1], Path(os.environ["PLAN_TEST_SYNTHESIZED"]) / "stacks"
for stack in (env, env + "-images"):
    if (source / stack).is_dir():
        (Path("cdktf.out/stacks") / stack).mkdir(parents=True, exist_ok=True)
        shutil.copy(source / stack / "cdk.tf.json", Path("cdktf.out/stacks") / stack / "cdk.tf.json")
print("infrakit: synthesized " + env)  # on stdout, as main.py reports success
"""


def executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


class Project:
    """A project directory with the stand-ins; `plans` sets what `show -json` prints per stack."""

    def __init__(
        self, root: Path, synthesized: Path, monkeypatch: pytest.MonkeyPatch, binary: str = "terraform"
    ):
        self.root, self.synthesized = root, synthesized
        self.bin = root / "bin"
        self.fixtures = root / "fixtures"
        self.calls_file = root / "calls.log"
        self.temp = root / "tmp"
        for directory in (self.bin, self.fixtures, self.temp):
            directory.mkdir()
        executable(self.bin / binary, FAKE_TERRAFORM)
        (root / "main.py").write_text(FAKE_MAIN)
        (self.bin / "write_lock.py").write_text(WRITE_LOCK)
        self.environ = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "PLAN_TEST_CALLS": str(self.calls_file),
            "PLAN_TEST_FIXTURES": str(self.fixtures),
            "PLAN_TEST_SYNTHESIZED": str(synthesized),
            "PLAN_TEST_PYTHON": PYTHON,
            "PLAN_TEST_WRITE_LOCK": str(self.bin / "write_lock.py"),
            "PYTHONPATH": str(ROOT),
            "TMPDIR": str(self.temp),  # where the plan file goes: checked empty afterwards
        }
        for name, value in self.environ.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(tempfile, "tempdir", str(self.temp))  # read from TMPDIR once per process
        monkeypatch.delenv("TERRAFORM_BINARY_NAME", raising=False)
        monkeypatch.chdir(root)

    def plans(self, **by_stack: Mapping[str, Any]) -> None:
        for stack, plan in by_stack.items():
            (self.fixtures / f"{stack}.json").write_text(json.dumps(plan))

    def calls(self) -> list[str]:
        return self.calls_file.read_text().splitlines() if self.calls_file.exists() else []

    def document(self, stack: str) -> dict[str, Any]:
        return stack_document(self.synthesized, stack)


@pytest.fixture
def project(tmp_path, synthesized, monkeypatch) -> Project:
    return Project(tmp_path, synthesized, monkeypatch)


def plan(*args: str) -> int:
    return cli.main(["--environments-dir", str(ENVIRONMENTS), "plan", *args])


def without_plan_file(call: str) -> str:
    """`dev plan -input=false -out=/tmp/x/dev.tfplan ...` with the temporary path as <plan>."""
    return " ".join("-out=<plan>" if a.startswith("-out=") else a for a in call.split(" "))


def test_plan_synthesizes_then_inits_plans_and_reads_the_plan_in_the_stack(project, capfd) -> None:
    document = project.document("dev")
    project.plans(dev=plan_json(document))
    assert plan("--env", "dev") == 0
    calls = project.calls()
    assert calls[0] == f"main.py --environments-dir {ENVIRONMENTS} --outdir cdktf.out dev"
    assert [without_plan_file(c) for c in calls[1:3]] == [
        "dev init -input=false",
        "dev plan -input=false -out=<plan> -lock-timeout=60s",
    ]
    plan_file = calls[2].split("-out=")[1].split(" ")[0]
    assert calls[3] == f"dev show -json {plan_file}"
    assert Path(plan_file).parent.parent == project.temp
    assert list(project.temp.iterdir()) == []  # the plan file, secrets and all, is gone
    out, err = capfd.readouterr()
    assert f"dev: {len(addresses(document))} to add, 0 to change, 0 to replace, 0 to destroy" in err
    assert "synthesized dev" in err  # the synth's own report, which it writes to stdout
    assert "Terraform will perform the following actions" in out  # terraform's own output is shown
    assert SECRET not in out + err


def test_an_initialised_stack_is_not_initialised_again(project) -> None:
    project.plans(dev=plan_json(project.document("dev"), default=["no-op"]))
    assert plan("--env", "dev") == 0
    assert plan("--env", "dev") == 0
    assert sum(" init " in f" {c} " for c in project.calls()) == 1


def test_plan_refuses_to_replace_the_cache_and_allow_replace_lifts_it(project, capsys) -> None:
    document = project.document("prod")
    (group,) = addresses(document, "aws_elasticache_replication_group")
    project.plans(prod=plan_json(document, {group: ["delete", "create"]}, default=["no-op"]))
    assert plan("--env", "prod") == 1
    err = capsys.readouterr().err
    assert f"infrakit: prod was not applied. If you mean to lose it, add: --allow-replace {group}" in err
    assert plan("--env", "prod", "--allow-replace", group) == 0
    assert f"infrakit: allowed by --allow-replace: {group} would be replaced" in capsys.readouterr().err


def test_an_allow_replace_the_plan_does_not_use_exits_2(project, capsys) -> None:
    project.plans(dev=plan_json(project.document("dev"), default=["no-op"]))
    assert plan("--env", "dev", "--allow-replace", "aws_kms_key.aws_key_60EC2C8E") == 2
    assert "--allow-replace aws_kms_key.aws_key_60EC2C8E: no plan of this run replaces or destroys it" in (
        capsys.readouterr().err
    )


def test_stack_picks_the_images_stack(project, capsys) -> None:
    document = project.document("dev-images")
    repositories = addresses(document, "aws_ecr_repository")
    project.plans(**{"dev-images": plan_json(document, dict.fromkeys(repositories, ["delete"]))})
    assert plan("--env", "dev", "--stack", "dev-images") == 1
    assert [c.split(" ")[:2] for c in project.calls()[1:]] == [
        ["dev-images", "init"],
        ["dev-images", "plan"],
        ["dev-images", "show"],
    ]
    err = capsys.readouterr().err
    assert all(f"--allow-replace {r}" in err for r in repositories)


@pytest.mark.parametrize("env", ["local", "dev", "staging", "prod"])
def test_the_plan_knows_the_stacks_the_app_synthesizes(env) -> None:
    environment = load_environment(ENVIRONMENTS / f"{env}.toml")
    expected = [environment.name]
    if image_services(environment):
        expected.insert(0, images_stack_name(environment.name))
    assert stacks_in_deploy_order(environment) == expected


def test_an_unknown_stack_is_a_usage_error_naming_the_stacks(project, capsys) -> None:
    assert plan("--env", "dev", "--stack", "prod") == 2
    assert "--stack prod: the stacks of 'dev' are dev-images, dev" in capsys.readouterr().err
    assert project.calls() == []


def test_terraform_binary_name_selects_tofu(tmp_path, synthesized, monkeypatch) -> None:
    project = Project(tmp_path, synthesized, monkeypatch, binary="tofu")
    monkeypatch.setenv("TERRAFORM_BINARY_NAME", "tofu")
    project.plans(dev=plan_json(project.document("dev"), default=["no-op"]))
    assert plan("--env", "dev") == 0
    assert [c.split(" ")[1] for c in project.calls()[1:]] == ["init", "plan", "show"]


def test_a_missing_terraform_says_what_to_install(tmp_path, synthesized, monkeypatch, capsys) -> None:
    project = Project(tmp_path, synthesized, monkeypatch, binary="not-terraform")
    monkeypatch.setenv("PATH", str(project.bin))
    assert plan("--env", "dev") == 3
    assert "Install Terraform >= 1.10, or OpenTofu >= 1.10 with TERRAFORM_BINARY_NAME=tofu" in (
        capsys.readouterr().err
    )


def test_a_failing_plan_stops_with_its_own_output(project, capfd) -> None:
    executable(
        project.bin / "terraform",
        "#!/bin/sh\n[ \"$1\" = init ] && exit 0\necho 'Error: no credentials' >&2\nexit 1\n",
    )
    assert plan("--env", "dev") == 1
    err = capfd.readouterr().err
    assert "Error: no credentials" in err
    assert "`terraform plan` failed for dev (see above); nothing was applied" in err


def test_show_json_that_is_not_a_plan_fails_without_printing_it(project, capsys) -> None:
    (project.fixtures / "dev.json").write_text(f"not json {SECRET}")
    assert plan("--env", "dev") == 1
    err = capsys.readouterr().err
    assert "`terraform show -json` printed no JSON for dev" in err
    assert SECRET not in err


def test_ctrl_c_during_the_plan_waits_for_terraform_and_says_one_line(project) -> None:
    """A terminal's Ctrl-C reaches infrakit and Terraform together. Terraform needs a moment to
    stop and release its state lock; infrakit must wait for it, not kill it, then say one line."""
    executable(
        project.bin / "terraform",
        FAKE_TERRAFORM.replace(
            "  plan)\n",
            "  plan)\n    sleep 30 & busy=$!\n"
            "    trap 'kill $busy; sleep 1; echo released > \"$PLAN_TEST_CALLS.released\"; exit 1' INT\n"
            "    wait $busy\n",
        ),
    )
    process = start_foreground_job(
        [PYTHON, "-m", "infrakit", "--environments-dir", str(ENVIRONMENTS), "plan", "--env", "dev"],
        cwd=project.root,
        env={**os.environ, **project.environ},
    )
    try:
        deadline = time.monotonic() + 30
        while not any(" plan " in c for c in project.calls()) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # into the trap-armed wait
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == cli.EXIT_INTERRUPTED
    lines = err.splitlines()
    assert "Traceback" not in err
    assert [line for line in lines if "interrupted" in line] == lines[-1:]
    assert lines[-1] == f"infrakit: plan interrupted (Ctrl-C); {cli.LEFT_BEHIND['plan']}"
    assert (project.root / "calls.log.released").read_text() == "released\n"  # it was let finish
    assert list(project.temp.iterdir()) == []


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs Terraform on PATH")
def test_real_terraform_plans_and_the_summary_reads_what_it_shows(tmp_path, monkeypatch, capfd):
    """Real Terraform, on a stack of `terraform_data` resources: the one resource type that needs
    no provider download. It proves the commands, and the JSON as Terraform itself writes it;
    that stack holds nothing stateful, so the refusal is proven on fixtures above."""
    source = tmp_path / "synthesized"
    project = Project(tmp_path, source, monkeypatch, binary="unused")

    def synthesized_stack(resources: dict[str, Any]) -> None:
        (source / "stacks" / "dev").mkdir(parents=True, exist_ok=True)
        document = {"resource": {"terraform_data": resources}}
        (source / "stacks" / "dev" / "cdk.tf.json").write_text(json.dumps(document))

    synthesized_stack(
        {
            "kept": {"input": "a"},
            "changed": {"input": "a"},
            "replaced": {"input": "a", "triggers_replace": ["one"]},
            "removed": {"input": "a"},
        }
    )
    assert plan("--env", "dev") == 0  # the first plan: 4 to add, nothing applied
    stack = tmp_path / "cdktf.out" / "stacks" / "dev"
    environ = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    applied = subprocess.run(
        ["terraform", "apply", "-auto-approve", "-input=false"], cwd=stack, env=environ, capture_output=True
    )
    assert applied.returncode == 0, applied.stderr
    synthesized_stack(
        {
            "kept": {"input": "a"},
            "changed": {"input": "b"},
            "replaced": {"input": "a", "triggers_replace": ["two"]},
            "added": {"input": "a"},
        }
    )
    capfd.readouterr()
    assert plan("--env", "dev") == 0
    err = capfd.readouterr().err
    assert "dev: 1 to add, 1 to change, 1 to replace, 1 to destroy" in err
    for action, address in [
        ("add", "terraform_data.added"),
        ("change", "terraform_data.changed"),
        ("replace", "terraform_data.replaced"),
        ("destroy", "terraform_data.removed"),
    ]:
        assert re.search(rf"│ {action} +│ {re.escape(address)} ", err), err
    assert "terraform_data.kept" not in err
    assert list(project.temp.iterdir()) == []
