"""`python path/to/main.py` works from any directory: it writes the project's cdktf.out, beside
main.py and cdktf.json, where `cdktf` and Terraform look, unless --outdir or $CDKTF_OUTDIR says
otherwise (a relative --outdir is relative to where you are, as with any command). An environment
may be named as its file too: `local.toml` or `environments/local.toml` is `local`.

Each test works on a copy of main.py and environments/local.toml in its own directory, so the
project's own cdktf.out is never written."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from infrakit import synth_cache
from tests.conftest import ENVIRONMENTS, PYTHON, ROOT

STACK = Path("stacks") / "local" / "cdk.tf.json"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "environments").mkdir(parents=True)
    shutil.copy(ROOT / "main.py", root / "main.py")
    shutil.copy(ENVIRONMENTS / "local.toml", root / "environments" / "local.toml")
    return root


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    directory = tmp_path / "elsewhere"
    directory.mkdir()
    return directory


def main_py(project: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("CDKTF_OUTDIR", synth_cache.DISABLE_VARIABLE)}
    environ["PYTHONPATH"] = str(ROOT) + os.pathsep + environ.get("PYTHONPATH", "")
    return subprocess.run(
        [PYTHON, str(project / "main.py"), *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_run_from_another_directory_it_writes_the_projects_cdktf_out(project, elsewhere):
    result = main_py(project, "local", cwd=elsewhere)

    assert result.returncode == 0, result.stderr
    assert (project / "cdktf.out" / STACK).is_file()
    assert list(elsewhere.iterdir()) == [], "nothing is written where the command was typed"


def test_a_relative_outdir_is_relative_to_the_working_directory(project, elsewhere):
    result = main_py(project, "local", "--outdir", "out", cwd=elsewhere)

    assert result.returncode == 0, result.stderr
    assert (elsewhere / "out" / STACK).is_file()
    assert not (project / "cdktf.out").exists()


def test_an_environment_named_as_its_file_is_that_environment(project):
    result = main_py(project, "local.toml", "environments/local.toml", "--outdir", "out", cwd=project)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "infrakit: synthesized local", "named twice, synthesized once"
    assert (project / "out" / STACK).is_file()


def test_a_file_from_another_directory_gets_the_command_to_type(project, elsewhere):
    shutil.copy(ENVIRONMENTS / "local.toml", elsewhere / "sandbox.toml")

    result = main_py(project, str(elsewhere / "sandbox.toml"), cwd=project)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"python main.py: {elsewhere / 'sandbox.toml'} is not in the environments directory "
        f"environments; to synthesize it, run: python main.py --environments-dir {elsewhere} sandbox"
    )
    assert not (project / "cdktf.out").exists()
