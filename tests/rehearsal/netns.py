"""A private network for the rehearsal: its own loopback, and the service aliases resolving to it.

The command runs in new network and mount namespaces (`unshare`, util-linux), as Docker's private
network would give it: the containers' fixed ports (5432, 6379, ...) are free there whatever this
machine runs, and `/etc/hosts` is bind-mounted (inside the namespace only) to map each alias to
127.0.0.1. Namespaces need root, which CI has; elsewhere the rehearsal is skipped with a reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

# Run by the namespace's first process: bring up its loopback, give it the hosts file, then exec.
_ENTER = 'ip link set lo up && mount --bind "$1" /etc/hosts && shift && exec "$@"'


def unavailable_reason() -> str | None:
    """Why private networks cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs as root)"
    missing = [tool for tool in ("unshare", "ip", "mount") if shutil.which(tool) is None]
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
        return subprocess.run(
            ["unshare", "--net", "--mount", "--fork", "--", "sh", "-c", _ENTER, "sh", hosts.name, *argv],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
