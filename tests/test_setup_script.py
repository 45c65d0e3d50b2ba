"""scripts/setup.sh: idempotent, and it stops before deploy when terraform or Docker is missing."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
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
    # Once per machine (tests/test_jsii_index.py): done already, or done now, before the synth.
    assert (
        "jsii's index of the provider packages up to date" in result.stderr
        or "infrakit: indexed in " in result.stderr
    )
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


DEPS_FILES = ("pyproject.toml", "constraints.txt")
NPM_FILES = ("package-lock.json", "tools/cdktf/package.json")


def fingerprint(root: Path, *names: str) -> str:
    """As setup.sh's `fingerprint`: sha256 of the files' concatenation."""
    return hashlib.sha256(b"".join((root / name).read_bytes() for name in names)).hexdigest()


def throwaway_project(project: Path) -> Path:
    """A copy of what setup.sh reads, with a throwaway .venv that sees the real venv's packages
    through a .pth file, so that the shared .venv (which the parallel suite reads, and whose
    package list the synth cache fingerprints) never changes. Returns its site-packages."""
    for name in ("scripts/setup.sh", "scripts/byte_compile.py", *DEPS_FILES, *NPM_FILES,
                 "environments/local.toml"):  # fmt: skip
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, project / name)
    # --without-pip: pip too comes from the real venv's packages (3 s of ensurepip saved).
    subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(project / ".venv")], check=True, timeout=120)
    site = next((project / ".venv" / "lib").glob("python3*/site-packages"))
    # addsitedir, not a plain path line, so that the real venv's own .pth files (infrakit's editable
    # install among them) are read too.
    shared = sysconfig.get_paths()["purelib"]
    (site / "infrakit-tests-shared.pth").write_text(f"import site; site.addsitedir({shared!r})\n")
    return site


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
    site = throwaway_project(project)
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    # As setup.sh stamps a venv whose pinned dependencies are installed: no pip install here.
    (project / ".venv" / ".infrakit-deps").write_text(f"{fingerprint(project, *DEPS_FILES)}\n")
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


# npm as setup.sh starts it, in a throwaway project: notes whether the byte-compilation of that
# project's .venv runs beside it (its processes, the script and the pool's workers, whose command
# lines name byte_compile.py and the site: two or more once it compiles), prints a few lines, then
# ends as MODE says. Writes nothing outside RECORD.
STUB_NPM = """#!{python}
import os, subprocess, sys, time
from pathlib import Path

record = Path({record!r})
(record / "npm.pid").write_text(str(os.getpid()))
print("stub npm: started", flush=True)
seen = False
deadline = time.monotonic() + 20
while not seen and time.monotonic() < deadline:
    compiling = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes()
        except OSError:
            continue
        compiling += b"byte_compile.py" in text and {site!r}.encode() in text
    seen = compiling >= 2
    time.sleep(0.05)  # each look reads every process's command line
(record / "npm.saw-byte-compile").write_text(str(seen))
print(f"stub npm: the byte-compilation was running: {{seen}}", flush=True)
if {mode!r} == "ok":
    print("added 1 package in 0s")
elif {mode!r} == "fail":
    print("npm error stub: the registry is unreachable", file=sys.stderr)
    sys.exit(1)
else:
    child = subprocess.Popen(["sleep", "60"])
    (record / "sleep.pid").write_text(str(child.pid))
    (record / "npm.hanging").write_text("")
    time.sleep(60)
"""


def fresh_install_project(tmp_path: Path, mode: str) -> tuple[Path, Path]:
    """A throwaway project in which both stamps are stale, so that setup.sh installs both: its pip
    is a stub (a `pip` package in the throwaway venv, found before the real one) and its npm is
    STUB_NPM in .venv/bin; node_modules is a fresh directory, never the real one. Its site-packages
    holds a stand-in cdktn_provider_aws with every submodule infrakit/cdk.py lists (empty modules,
    so that scripts/byte_compile.py finds them) and a module that takes a second or two to compile,
    so that the byte-compilation is still running when npm looks for it. Returns the project and
    the directory the stub npm records in."""
    from infrakit.cdk import _MODULES

    project = tmp_path / "project"
    site = throwaway_project(project)
    (project / "node_modules").mkdir()
    (site / "pip").mkdir()
    (site / "pip" / "__init__.py").write_text("")
    (site / "pip" / "__main__.py").write_text("print('stub pip: nothing installed')\n")
    aws = site / "cdktn_provider_aws"
    for name in ("_jsii", *(m.split(".")[1] for m in _MODULES if m.startswith("cdktn_provider_aws."))):
        (aws / name).mkdir(parents=True, exist_ok=True)
        (aws / name / "__init__.py").write_text("")
    (aws / "__init__.py").write_text("")
    (site / "slow_to_compile.py").write_text(
        "".join(f"def f{i}(a, b=1):\n    return [a, b, {i}, 'x{i}']\n" for i in range(40_000))
    )
    record = tmp_path / "record"
    record.mkdir()
    npm = project / ".venv" / "bin" / "npm"
    npm.write_text(STUB_NPM.format(python=PYTHON, record=str(record), site=str(site), mode=mode))
    npm.chmod(0o755)
    return project, record


def setup_in(project: Path, path: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path, "PYTHON": PYTHON}
    return subprocess.run(
        ["bash", "scripts/setup.sh", "local", "--skip-deploy"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_npm_ci_runs_alongside_the_byte_compilation_and_its_output_follows_the_step_lines(
    tmp_path: Path, path_without_terraform_or_docker
):
    """With both stamps stale, npm runs while the installed packages are byte-compiled; its output,
    held back until it is done, comes as one block after the step lines; both stamps are written,
    and a second run installs nothing.
    Runs in a throwaway project with stub pip and npm (see fresh_install_project): the real .venv
    and node_modules are never touched. Cannot prove: the time saved with the real npm and packages
    (measured by hand), or the behaviour of the real npm when stopped."""
    project, record = fresh_install_project(tmp_path, "ok")
    result = setup_in(project, path_without_terraform_or_docker)
    assert result.returncode == 0, result.stderr
    assert (record / "npm.saw-byte-compile").read_text() == "True"
    stderr = result.stderr
    npm_output = (
        "stub npm: started\nstub npm: the byte-compilation was running: True\nadded 1 package in 0s\n"
    )
    assert npm_output in stderr
    assert (
        stderr.index("installing the CDK Terrain CLI")
        < stderr.index("byte-compiling the installed packages")
        < stderr.index(npm_output)
    )
    assert stderr.count("installing the CDK Terrain CLI") == 1
    assert "CDK Terrain CLI up to date" not in stderr
    assert (
        project / "node_modules" / ".infrakit-lock"
    ).read_text() == f"{fingerprint(project, *NPM_FILES)}\n"
    assert (project / ".venv" / ".infrakit-deps").read_text() == f"{fingerprint(project, *DEPS_FILES)}\n"

    (record / "npm.pid").unlink()
    again = setup_in(project, path_without_terraform_or_docker)
    assert again.returncode == 0, again.stderr
    assert "Python dependencies up to date" in again.stderr
    assert "CDK Terrain CLI up to date" in again.stderr
    assert not (record / "npm.pid").exists()


def test_npm_ci_failing_alongside_the_byte_compilation_fails_setup_naming_npm(
    tmp_path: Path, path_without_terraform_or_docker
):
    """npm fails while the packages are byte-compiled: setup waits for the byte-compilation, shows
    npm's output, exits 1 naming npm, and leaves node_modules unstamped (the next run tries again);
    the Python dependencies, installed and compiled, are stamped.
    Cannot prove: the same for every way the real npm fails (network, disk, a bad lock file)."""
    project, record = fresh_install_project(tmp_path, "fail")
    result = setup_in(project, path_without_terraform_or_docker)
    assert result.returncode == 1, result.stderr
    assert (record / "npm.saw-byte-compile").read_text() == "True"
    assert "npm error stub: the registry is unreachable" in result.stderr
    assert result.stderr.rstrip().endswith("setup: npm ci failed (see above); re-run when fixed")
    assert not (project / "node_modules" / ".infrakit-lock").exists()
    assert (project / ".venv" / ".infrakit-deps").read_text() == f"{fingerprint(project, *DEPS_FILES)}\n"


def test_ctrl_c_while_npm_runs_alongside_the_byte_compilation_stops_both_and_ends_with_130(
    tmp_path: Path, path_without_terraform_or_docker
):
    """A terminal's Ctrl-C reaches setup.sh and the byte-compilation (its foreground job) but not
    npm, a background job; setup must stop npm and what it started, stamp nothing and end with
    130 and its interrupted line, with no traceback from the byte-compilation's workers.
    The stub npm starts a `sleep` and then hangs; Ctrl-C is pressed once it has seen the
    byte-compilation's workers, while they compile the slow module (a second or two).
    Cannot prove: the same at every instant (while the script starts, or once it is done and setup
    waits for npm: both handled, and tried by hand), or with the real npm (tried by hand: the
    wrapper and Node are both gone when setup exits)."""
    project, record = fresh_install_project(tmp_path, "hang")
    env = {**os.environ, "PATH": path_without_terraform_or_docker, "PYTHON": PYTHON}
    setup = start_foreground_job(["bash", "scripts/setup.sh", "local", "--skip-deploy"], cwd=project, env=env)
    try:
        deadline = time.monotonic() + 120
        while not (record / "npm.hanging").exists() and setup.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (record / "npm.hanging").exists(), "the stub npm never started"
        os.killpg(setup.pid, signal.SIGINT)
        _, stderr = setup.communicate(timeout=60)
    finally:
        if setup.poll() is None:
            os.killpg(setup.pid, signal.SIGKILL)
    assert (record / "npm.saw-byte-compile").read_text() == "True"
    assert setup.returncode == 130, stderr
    assert stderr.rstrip().endswith("setup: interrupted (Ctrl-C); re-run scripts/setup.sh to continue")
    assert "Traceback" not in stderr
    assert "npm ci failed" not in stderr
    for name in ("npm.pid", "sleep.pid"):
        pid = int((record / name).read_text())
        deadline = time.monotonic() + 10
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(pid), f"{name}: {pid} still runs"
    assert not (project / "node_modules" / ".infrakit-lock").exists()
    assert not (project / ".venv" / ".infrakit-deps").exists()
    # The byte-compilation's workers were stopped too, in the middle of the slow module (its
    # .pyc would appear a second later otherwise).
    site = next((project / ".venv" / "lib").glob("python3*/site-packages"))
    time.sleep(2)
    assert _compiling(site) == []
    assert not Path(importlib.util.cache_from_source(str(site / "slow_to_compile.py"))).exists()


def _compiling(site: Path) -> list[int]:
    """The live processes whose command line names scripts/byte_compile.py and `site`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            text = cmdline.read_bytes()
            if (
                b"byte_compile.py" in text
                and str(site).encode() in text
                and _running(int(cmdline.parent.name))
            ):
                found.append(int(cmdline.parent.name))
    return found


def _running(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


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
