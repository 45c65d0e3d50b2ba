"""A private network for the rehearsal: its own loopback, and the service aliases resolving to it.

The command runs in new network and mount namespaces (`unshare`, util-linux), as Docker's private
network would give it: the containers' fixed ports (5432, 6379, ...) are free there whatever this
machine runs, and `/etc/hosts` is bind-mounted (inside the namespace only) to map each alias to
127.0.0.1. Namespaces need root: CI runs as root, and a GitHub runner has passwordless sudo, which
is used when there; elsewhere the rehearsal is skipped with a reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Run by the namespace's first process: bring up its loopback, give it the hosts file, then exec.
_ENTER = 'ip link set lo up && mount --bind "$1" /etc/hosts && shift && exec "$@"'


def _as_root() -> list[str] | None:
    """The prefix that runs a command as root: none for root, passwordless sudo where it works."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n", "--preserve-env"]
    return None


def unavailable_reason() -> str | None:
    """Why private networks cannot be made here, or None when they can."""
    if _as_root() is None:
        return "network namespaces need root, or passwordless sudo (CI has one of them)"
    missing = [tool for tool in ("unshare", "ip", "mount") if shutil.which(tool, path=_SYSTEM_PATH) is None]
    if missing:
        return f"missing {', '.join(missing)} (util-linux, iproute2)"
    return None


def run_in_private_network(
    argv: Sequence[str], *, aliases: Sequence[str], timeout: float, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    with tempfile.NamedTemporaryFile("w", prefix="infrakit-hosts-", suffix=".txt") as hosts:
        hosts.write("127.0.0.1 localhost\n::1 localhost\n")
        hosts.writelines(f"127.0.0.1 {alias}\n" for alias in aliases)
        hosts.flush()
        os.chmod(hosts.name, 0o644)  # read by the unprivileged postgres user too
        root = _as_root()
        assert root is not None, unavailable_reason()
        return subprocess.run(
            [
                *root,
                "unshare",
                "--net",
                "--mount",
                "--fork",
                "--",
                "sh",
                "-c",
                _ENTER,
                "sh",
                hosts.name,
                *argv,
            ],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
