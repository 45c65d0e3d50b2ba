"""The plan gate's init when the provider pins move: a stack initialised before keeps its
.terraform/ and .terraform.lock.hcl, and once the synthesized stack pins other provider versions,
plain `terraform init` and `terraform plan` refuse that lock file. The gate then runs
`terraform init -upgrade` before planning.

The stand-in of tests/test_plan_in_deploy.py records each command. The last test runs the real
terraform binary on a lock file that disagrees with the stack; see its docstring for what it cannot
prove.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from rich.console import Console

from infrakit.deploy.plan_gate import Finished, PlanGate, pin_changes
from tests.lock_files import lock_file, pins
from tests.test_plan import plan_json, stack_document
from tests.test_plan_in_deploy import PLANNED_DEV, Recorded, shortened, stacks

UPGRADE = "dev: terraform init -input=false -upgrade"


def gate(recorded: Recorded, said: list[str], binary: str = "terraform") -> PlanGate:
    return PlanGate(
        run=recorded.program,
        stacks_dir=recorded.stacks_dir,
        allow_replace=(),
        show=Console(file=io.StringIO()).print,
        say=said.append,
        binary=binary,
    )


@pytest.fixture
def dev(tmp_path, synthesized) -> Recorded:
    """The dev stack, initialised with a lock file that holds its pins, and a plan to show."""
    document = stack_document(synthesized, "dev")
    return Recorded({"dev": plan_json(document, default=["no-op"])}, stacks(tmp_path, synthesized, "dev"))


def relock(recorded: Recorded, **changes: str | None) -> dict[str, str]:
    """Rewrites the lock file: `aws="6.25.0"` locks hashicorp/aws at 6.25.0, `aws=None` drops it.
    Returns the stack's pins."""
    pinned = pins(json.loads((recorded.stacks_dir / "dev" / "cdk.tf.json").read_text()))
    locked: dict[str, str | None] = {**pinned}
    for name, version in changes.items():
        locked[next(source for source in pinned if source.endswith(f"/{name}"))] = version
    (recorded.stacks_dir / "dev" / ".terraform.lock.hcl").write_text(
        lock_file({source: version for source, version in locked.items() if version is not None})
    )
    return pinned


def test_a_lock_file_holding_the_pins_needs_no_init(dev) -> None:
    said: list[str] = []
    assert gate(dev, said).check("dev") == 0
    assert shortened(dev.calls) == PLANNED_DEV
    assert not any("init" in line for line in said)


def test_a_moved_pin_upgrades_before_the_plan(dev) -> None:
    pinned = relock(dev, aws="6.25.0")
    said: list[str] = []
    assert gate(dev, said).check("dev") == 0
    assert shortened(dev.calls) == [UPGRADE, *PLANNED_DEV]
    assert said[0] == (
        f"dev: provider pins changed (hashicorp/aws 6.25.0 -> {pinned['hashicorp/aws']}); "
        "terraform init -upgrade"
    )


def test_a_provider_missing_from_the_lock_file_upgrades(dev) -> None:
    pinned = relock(dev, random=None)
    said: list[str] = []
    assert gate(dev, said).check("dev") == 0
    assert shortened(dev.calls) == [UPGRADE, *PLANNED_DEV]
    assert f"hashicorp/random not locked -> {pinned['hashicorp/random']}" in said[0]


def test_a_missing_lock_file_upgrades_with_tofu(dev) -> None:
    (dev.stacks_dir / "dev" / ".terraform.lock.hcl").unlink()
    said: list[str] = []
    assert gate(dev, said, binary="tofu").check("dev") == 0
    assert dev.calls[0] == "dev: tofu init -input=false -upgrade"
    assert said[0].startswith("dev: provider pins changed (hashicorp/aws not locked -> ")
    assert said[0].endswith("; tofu init -upgrade")


def test_a_stack_never_initialised_gets_a_plain_init(dev) -> None:
    shutil.rmtree(dev.stacks_dir / "dev" / ".terraform")
    relock(dev, aws="6.25.0")  # init reads it; without .terraform/ it needs no -upgrade
    said: list[str] = []
    assert gate(dev, said).check("dev") == 0
    assert shortened(dev.calls) == ["dev: terraform init -input=false", *PLANNED_DEV]
    assert said[0] == "dev: terraform init"


def test_a_failed_upgrade_plans_nothing(dev) -> None:
    relock(dev, aws="6.25.0")
    said: list[str] = []

    def failing_init(argv: Sequence[str], *, cwd: Path, capture: bool = False) -> Finished:
        dev.program(argv, cwd=cwd, capture=capture)
        return Finished(1) if argv[1] == "init" else Finished(0)

    assert PlanGate(failing_init, dev.stacks_dir, (), print, said.append).check("dev") == 1
    assert dev.calls == [UPGRADE]
    assert said[-1] == (
        f"`terraform init -upgrade` failed in {dev.stacks_dir / 'dev'} (see above); nothing was planned"
    )


def test_sources_match_whatever_their_registry_host_and_case() -> None:
    stack = {
        "terraform": {
            "required_providers": {
                "aws": {"source": "registry.opentofu.org/HashiCorp/AWS", "version": "6.69.1"},
                "docker": {"source": "kreuzwerker/docker", "version": "4.6.0"},
                "random": {"version": "3.9.1"},  # no source: hashicorp/random, as for Terraform
            }
        }
    }
    locked = {"hashicorp/aws": "6.69.1", "kreuzwerker/docker": "4.6.0", "hashicorp/random": "3.9.1"}
    assert pin_changes(stack, lock_file(locked, host="registry.opentofu.org")) == []
    assert pin_changes(stack, lock_file({k.title(): v for k, v in locked.items()})) == []
    assert pin_changes(stack, lock_file({**locked, "kreuzwerker/docker": "3.6.2"})) == [
        "kreuzwerker/docker 3.6.2 -> 4.6.0"
    ]
    assert pin_changes({}, "") == []


# ----------------------------------------------------------------------------- real terraform

LOCK_REFUSED = "does not match configured version constraint 4.6.0; must use terraform init -upgrade"
DOCKER_4 = {"docker": {"source": "kreuzwerker/docker", "version": "4.6.0"}}


def terraform_output(done: Finished) -> str:
    """What Terraform printed, without colours, box borders and line wrapping."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr).replace("│", " ")
    return " ".join(text.split())


def run_terraform(argv: Sequence[str], *, cwd: Path, capture: bool = False) -> Finished:
    environ = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    done = subprocess.run(argv, cwd=cwd, env=environ, capture_output=True, text=True, timeout=120)
    return Finished(done.returncode, done.stdout, done.stderr)


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs the terraform binary")
def test_real_terraform_needs_the_upgrade_the_gate_runs(tmp_path) -> None:
    """Real Terraform on a stack that pins kreuzwerker/docker 4.6.0 while its lock file holds 3.6.2:
    plain `terraform init` refuses the lock file, and the gate's `terraform init -input=false
    -upgrade` gets past that check and asks for exactly 4.6.0.

    What this cannot prove: that the upgrade completes and the plan then works. The registry cannot
    be reached here, so no provider is downloaded, the lock file is not rewritten, and the gate's
    init then fails for that reason (unless a provider cache happens to hold 4.6.0)."""
    stack = tmp_path / "stacks" / "docker"
    (stack / ".terraform").mkdir(parents=True)
    (stack / "cdk.tf.json").write_text(json.dumps({"terraform": {"required_providers": DOCKER_4}}))
    (stack / ".terraform.lock.hcl").write_text(lock_file({"kreuzwerker/docker": "3.6.2"}))

    plain = run_terraform(["terraform", "init", "-input=false", "-backend=false"], cwd=stack)
    assert plain.code != 0
    assert LOCK_REFUSED in terraform_output(plain)

    ran: list[tuple[list[str], Finished]] = []

    def recorded(argv: Sequence[str], *, cwd: Path, capture: bool = False) -> Finished:
        ran.append((list(argv), run_terraform(argv, cwd=cwd)))
        return ran[-1][1]

    said: list[str] = []
    PlanGate(recorded, stack.parent, (), print, said.append).check("docker")
    changed = "docker: provider pins changed (kreuzwerker/docker 3.6.2 -> 4.6.0); terraform init -upgrade"
    assert said[0] == changed
    (command, upgraded), *_ = ran
    assert command == ["terraform", "init", "-input=false", "-upgrade"]
    output = terraform_output(upgraded)
    assert "does not match configured version constraint" not in output
    assert 'Finding kreuzwerker/docker versions matching "4.6.0"' in output
