"""scripts/setup.sh: idempotent, and it stops before deploy when terraform or Docker is missing."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sysconfig
import time
from pathlib import Path

import pytest

from tests.conftest import PYTHON, ROOT, start_foreground_job

HIDDEN = {"terraform", "tofu", "docker"}


@pytest.fixture(scope="module")
def path_without_terraform_or_docker(tmp_path_factory) -> str:
    """A PATH holding every usual tool except terraform, tofu and docker."""
    bin_dir = tmp_path_factory.mktemp("bin")
    for directory in ("/usr/local/bin", "/usr/bin", "/bin"):
        for tool in Path(directory).iterdir() if Path(directory).is_dir() else []:
            link = bin_dir / tool.name
            if tool.name not in HIDDEN and not link.exists():
                link.symlink_to(tool)
    return str(bin_dir)


def run_setup(path: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": path,
        "PYTHON": PYTHON,
        "DOCKER_HOST": "unix:///nonexistent/docker.sock",
    }
    env.pop("TERRAFORM_BINARY_NAME", None)
    return subprocess.run(
        ["bash", "scripts/setup.sh", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )


def test_without_terraform_or_docker_setup_synthesizes_then_stops_before_deploy(
    path_without_terraform_or_docker,
):
    result = run_setup(path_without_terraform_or_docker, "local")
    assert result.returncode == 3, result.stderr
    assert "synthesizing 'local'" in result.stderr
    assert "terraform is not on PATH" in result.stderr
    assert "install Terraform >= 1.10" in result.stderr
    assert "Docker engine not reachable at unix:///nonexistent/docker.sock" in result.stderr
    assert "not deploying 'local'" in result.stderr
    assert "deploying 'local' with cdktf" not in result.stderr
    assert (ROOT / "cdktf.out" / "stacks" / "local" / "cdk.tf.json").is_file()
    assert "Traceback" not in result.stderr


def test_skip_deploy_makes_the_same_run_succeed_and_a_rerun_installs_nothing(
    path_without_terraform_or_docker,
):
    result = run_setup(path_without_terraform_or_docker, "local", "--skip-deploy")
    assert result.returncode == 0, result.stderr
    assert "Python dependencies up to date" in result.stderr
    assert "CDK Terrain CLI up to date" in result.stderr
    assert "skipping synth and deploy (--skip-deploy)" in result.stderr
    assert "post-apply: 'local' has no endpoints yet" in result.stderr


def test_unknown_environment_fails_with_the_config_message(path_without_terraform_or_docker):
    result = run_setup(path_without_terraform_or_docker, "nope", "--skip-deploy")
    assert result.returncode == 2
    assert "unknown environment 'nope'" in result.stderr


def test_unknown_option_prints_usage(path_without_terraform_or_docker):
    result = run_setup(path_without_terraform_or_docker, "--deploy-now")
    assert result.returncode == 2
    assert "unknown option '--deploy-now'" in result.stderr
    assert "scripts/setup.sh [ENV] [--skip-deploy] [--auto-approve]" in result.stderr
    assert "set -euo pipefail" not in result.stderr


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_the_usage_and_exits_0_before_doing_anything(flag):
    result = subprocess.run(
        ["bash", "scripts/setup.sh", flag], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    usage = result.stdout.splitlines()
    assert usage[0] == "Install the toolchain, synthesize and deploy one environment, then bootstrap it."
    assert "  scripts/setup.sh [ENV] [--skip-deploy] [--auto-approve] [--allow-replace ADDRESS]..." in usage
    assert usage[-1] == "prerequisite is missing (nothing was deployed)."


def test_a_venv_from_before_the_move_loses_the_archived_cdktf_package(
    tmp_path: Path, path_without_terraform_or_docker
):
    """A package named cdktf, installed in .venv (metadata only), is uninstalled by pip as setup.sh
    asks, and a second run finds nothing to remove.

    It runs on a copy of the project whose .venv is a throwaway one that sees the real venv's
    packages through a .pth file, so that the shared .venv (which the parallel suite reads, and
    whose package list the synth cache fingerprints) never changes. Cannot prove the same for the
    real 1 GB packages, which are no longer installed here."""
    project = tmp_path / "project"
    for name in ("scripts/setup.sh", "pyproject.toml", "constraints.txt", "package-lock.json",
                 "tools/cdktf/package.json", "environments/local.toml"):  # fmt: skip
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, project / name)
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    # --without-pip: pip too comes from the real venv's packages (3 s of ensurepip saved).
    subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(project / ".venv")], check=True, timeout=120)
    # As setup.sh stamps a venv whose pinned dependencies are installed: no pip install here.
    stamp = hashlib.sha256(b"".join((ROOT / n).read_bytes() for n in ("pyproject.toml", "constraints.txt")))
    (project / ".venv" / ".infrakit-deps").write_text(f"{stamp.hexdigest()}\n")
    site = next((project / ".venv" / "lib").glob("python3*/site-packages"))
    # addsitedir, not a plain path line, so that the real venv's own .pth files (infrakit's editable
    # install among them) are read too.
    shared = sysconfig.get_paths()["purelib"]
    (site / "infrakit-tests-shared.pth").write_text(f"import site; site.addsitedir({shared!r})\n")
    dist_info = site / "cdktf-0.21.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: cdktf\nVersion: 0.21.0\n")
    (dist_info / "INSTALLER").write_text("pip\n")
    (dist_info / "RECORD").write_text(
        "".join(f"{dist_info.name}/{name},,\n" for name in ("METADATA", "INSTALLER", "RECORD"))
    )

    def setup() -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PATH": path_without_terraform_or_docker, "PYTHON": PYTHON}
        return subprocess.run(
            ["bash", "scripts/setup.sh", "local", "--skip-deploy"],
            cwd=project, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    result = setup()
    assert result.returncode == 0, result.stderr
    assert "Python dependencies up to date" in result.stderr
    assert "removing the archived cdktf packages: cdktf" in result.stderr
    assert not dist_info.exists()
    again = setup()
    assert again.returncode == 0, again.stderr
    assert "archived" not in again.stderr


def test_ctrl_c_during_preflight_ends_setup_with_130_not_3(tmp_path: Path, path_without_terraform_or_docker):
    """A terminal's Ctrl-C reaches setup.sh and the preflight it runs (one process group). The
    preflight reports its own interruption and exits 130; setup must pass that on, not turn it
    into 3 ("a deploy prerequisite is missing"), which would send the user to fix what is not broken.
    A `terraform` that never answers holds the preflight in place while the test presses Ctrl-C.
    Cannot prove: the same at every instant of every step; this catches the preflight step."""
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "terraform").write_text("#!/bin/sh\nsleep 60\n")  # no exec: its command line names it
    (stub / "terraform").chmod(0o755)
    env = {**os.environ, "PATH": f"{stub}:{path_without_terraform_or_docker}", "PYTHON": PYTHON}
    env.pop("TERRAFORM_BINARY_NAME", None)
    setup = start_foreground_job(["bash", "scripts/setup.sh", "local"], cwd=ROOT, env=env)
    try:
        _wait_for_process(stub / "terraform", timeout=120)
        os.killpg(setup.pid, signal.SIGINT)
        _, stderr = setup.communicate(timeout=60)
    finally:
        if setup.poll() is None:
            os.killpg(setup.pid, signal.SIGKILL)
    assert setup.returncode == 130, stderr
    assert "checking deploy prerequisites" in stderr
    assert "setup: interrupted (Ctrl-C)" in stderr
    assert "not deploying" not in stderr
    assert "Traceback" not in stderr


def _wait_for_process(executable: Path, timeout: float) -> None:
    """Until some process runs `executable` (the preflight has reached it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            with contextlib.suppress(OSError):
                if str(executable).encode() in cmdline.read_bytes():
                    return
        time.sleep(0.1)
    raise AssertionError(f"nothing ran {executable} within {timeout} s")
