"""The README's test command on a machine that lacks the test servers: scripts/test.sh installs them
where it can (scripts/test-servers.sh), and where it cannot, the tests that need them skip with one
line naming the package. A newcomer's first run is never a wall of errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "test-servers.sh"
PACKAGES = ["postgresql", "redis-server", "nginx", "busybox", "wget", "iproute2"]


def _stub(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _servers_script(tmp_path: Path, *, uid: int, sudo: bool) -> subprocess.CompletedProcess[str]:
    """Runs scripts/test-servers.sh on a machine without any test server, with `id`, `sudo` and
    `apt-get` stubbed: they record what they were asked to do in calls.log."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    log = tmp_path / "calls.log"
    _stub(stubs, "id", f"echo {uid}")
    _stub(stubs, "apt-get", f'echo "apt-get $*" >> {log}')
    if sudo:
        _stub(stubs, "sudo", f'echo "sudo $*" >> {log}; [ "$2" = true ] && exit 0; shift; exec "$@"')
    # bash and the coreutils the script uses, and nothing of the servers it looks for.
    for tool in ("bash", "env", "ls"):
        (stubs / tool).symlink_to(subprocess.check_output(["which", tool], text=True).strip())
    return subprocess.run(
        ["bash", str(SCRIPT)],
        env={
            "PATH": str(stubs),
            "INFRAKIT_TEST_SERVERS_PATH": str(stubs),
            "INFRAKIT_TEST_SERVERS_POSTGRESQL": str(tmp_path / "no-postgresql"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_root_or_sudo_it_installs_nothing_and_names_the_packages(tmp_path: Path) -> None:
    """Cannot prove: that Debian's package names stay the same on every release (they have since
    Debian 10 and Ubuntu 20.04)."""
    done = _servers_script(tmp_path, uid=1000, sudo=False)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "calls.log").exists()
    assert f"sudo apt-get install {' '.join(PACKAGES)}" in done.stderr
    assert "will be skipped" in done.stderr


@pytest.mark.parametrize(("uid", "sudo", "prefix"), [(0, False, ""), (1000, True, "sudo -n ")])
def test_as_root_or_with_sudo_it_says_what_it_installs_and_installs_it(
    tmp_path: Path, uid: int, sudo: bool, prefix: str
) -> None:
    """Cannot prove: that apt-get succeeds (that needs the package mirror); the stub only records
    the call. The install for real is exercised by every clean CI run."""
    done = _servers_script(tmp_path, uid=uid, sudo=sudo)
    assert done.returncode == 0, done.stderr
    assert f"installing {' '.join(PACKAGES)}" in done.stderr
    calls = (tmp_path / "calls.log").read_text()
    assert calls.splitlines()[-1] == f"apt-get install -y -qq --no-install-recommends {' '.join(PACKAGES)}"
    assert (f"{prefix}env DEBIAN_FRONTEND=noninteractive apt-get install" in calls) == sudo


def _run_redis_test(ci: bool) -> subprocess.CompletedProcess[str]:
    """One test that needs redis-server, run by pytest where no redis-server can be found."""
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PATH"] = "/nonexistent"  # tests/servers.py also looks in the sbin directories; redis is in /usr/bin
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-rs", "-q",
            "tests/test_validate.py::test_redis_with_an_evicting_policy_fails",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip


def test_a_test_whose_server_is_missing_skips_with_one_line_naming_the_package() -> None:
    """Cannot prove: that every test needing a server goes through tests/servers.py; a test that
    started one another way would still fail. The suite has no such test today."""
    done = _run_redis_test(ci=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert "redis-server not found: install it with `sudo apt-get install redis-server`" in done.stdout
    assert "Error" not in done.stdout


def test_under_ci_a_missing_server_fails_instead_of_skipping() -> None:
    """CI must run every test: a skip there would hide a missing install step."""
    done = _run_redis_test(ci=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "redis-server not found" in done.stdout
    assert "skipped" not in done.stdout
