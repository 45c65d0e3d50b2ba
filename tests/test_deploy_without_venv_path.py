"""`infrakit deploy` runs the venv's Node 22 and Python, whatever PATH holds.

`node_modules/.bin/cdktf` starts with `#!/usr/bin/env node`, and cdktf.json runs the app as
`python main.py`: both are found on PATH. A user who runs `.venv/bin/infrakit deploy` without
activating the venv has the system's Node (too old for CDK Terrain) and Python (without the CDK)
there. The stand-in cdktf records which `node` and `python` its PATH finds, and the Node version.
`local` deploys with cdktf; a cloud environment synthesizes with the venv's Python and applies its
plans with terraform, running no cdktf.
What this cannot prove: what the real cdktf does with them (tests/test_cdktf_command.py runs it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from infrakit import cli
from infrakit.deploy.plan_gate import run_program
from tests.conftest import ENVIRONMENTS, ROOT
from tests.ecr_stub import configs_found, images_found
from tests.test_plan import plan_json
from tests.test_plan_command import Project
from tests.test_plan_in_deploy import first_deploy_ecs

VENV_BIN = Path(sys.executable).parent
CDKTF_STAND_IN = """#!/bin/sh
{
  echo "node=$(command -v node)"
  echo "node_version=$(node --version)"
  echo "python=$(command -v python)"
  echo "args=$*"
} > "$0.log"
"""


def stand_in_cdktf(project: Path) -> Path:
    cdktf = project / "node_modules" / ".bin" / "cdktf"
    cdktf.parent.mkdir(parents=True)
    cdktf.write_text(CDKTF_STAND_IN)
    cdktf.chmod(0o755)
    return cdktf


def recorded(cdktf: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in Path(f"{cdktf}.log").read_text().splitlines())


def test_deploy_runs_cdktf_with_the_venvs_node_and_python_on_a_bare_path(tmp_path: Path) -> None:
    cdktf = stand_in_cdktf(tmp_path)
    result = subprocess.run(
        [
            str(VENV_BIN / "python"),
            "-m",
            "infrakit",
            "--environments-dir",
            str(ENVIRONMENTS),
            "deploy",
            "--env",
            "local",
            "--auto-approve",
            "--skip-preflight",  # no Docker engine here; the fake cdktf stands in for the deploy
            "--no-wait",  # nothing was deployed, so nothing answers (tests/test_deploy_serving.py)
        ],
        cwd=tmp_path,
        # What a shell has before `. .venv/bin/activate`; PYTHONPATH: this checkout's infrakit.
        env={**os.environ, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = recorded(cdktf)
    assert seen["args"] == "deploy local --auto-approve"
    assert seen["node"] == str(VENV_BIN / "node")
    assert int(seen["node_version"].lstrip("v").split(".")[0]) >= 22, seen
    assert seen["python"] == str(VENV_BIN / "python")


def test_a_cloud_deploy_plans_and_applies_on_a_bare_path_without_cdktf(
    tmp_path: Path, synthesized: Path, monkeypatch: pytest.MonkeyPatch, ecr, s3
) -> None:
    """dev: the synth, the plan gate's terraform (a stand-in, tests/test_plan_command.py) and ECR
    (stubbed), then the apply of each stack's plan file, with only the stand-ins' directory,
    /usr/bin and /bin on PATH. No cdktf runs."""
    project = Project(tmp_path, synthesized, monkeypatch)
    monkeypatch.setenv("PATH", os.pathsep.join([str(project.bin), "/usr/bin", "/bin"]))
    client, stubber = ecr
    real = boto3.client
    monkeypatch.setattr(
        boto3,
        "client",
        lambda service, region_name=None: client if service == "ecr" else first_deploy_ecs(real),
    )
    images_found(stubber)
    configs_found(stubber, s3)
    project.plans(
        **{stack: plan_json(project.document(stack), default=["no-op"]) for stack in ("dev-images", "dev")}
    )
    cdktf = stand_in_cdktf(tmp_path)
    # --no-wait: nothing was deployed, so nothing rolls out (tests/test_deploy_serving.py)
    deploy = ["deploy", "--env", "dev", "--auto-approve", "--skip-preflight", "--no-wait"]
    code = cli.main(["--environments-dir", str(ENVIRONMENTS), *deploy])
    assert code == 0
    assert not Path(f"{cdktf}.log").exists()  # no cdktf ran
    calls = [c.split(" ")[1] for c in project.calls() if c.startswith("dev ")]
    assert calls == ["init", "plan", "show", "apply"]


def test_the_plan_gates_programs_see_the_venv_first_and_keep_the_rest_of_path(tmp_path: Path) -> None:
    """run_program runs terraform and main.py for the plan gate, and cdktf for the deploy."""
    finished = run_program(
        ["/bin/sh", "-c", 'printf %s "$PATH"'],
        cwd=tmp_path,
        capture=True,
        environ={"PATH": f"/opt/tools:{VENV_BIN}:/usr/bin"},
    )
    assert finished.stdout.split(os.pathsep) == [str(VENV_BIN), "/opt/tools", "/usr/bin"]


def test_deploy_without_the_cdktf_command_names_it_and_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no node_modules here
    deploy = ["deploy", "--env", "local", "--skip-preflight"]
    assert cli.main(["--environments-dir", str(ENVIRONMENTS), *deploy]) == 3
    err = capsys.readouterr().err
    assert "cannot run " in err and "node_modules/.bin/cdktf: No such file or directory" in err
    assert "run scripts/setup.sh" in err and "Traceback" not in err
