"""A terminal's Ctrl-C, at any moment of a command's life, ends it with one line and status 130.

A terminal sends SIGINT to the whole foreground process group, so the test starts `infrakit` (the
console script) and `python -m infrakit` as such a group and signals the group, at several small
delays: while the interpreter imports rich, pydantic and the config models, while the arguments
are read, and while `validate` waits on endpoints that accept a connection and never answer.

What this cannot prove: a Ctrl-C in the first few milliseconds, while Python itself starts (its
`site` module, the console script's own first line), before any line of infrakit runs. There a
traceback, or a silent death by SIGINT, is Python's; the test accepts those only when no frame of
the traceback is infrakit's or a library's.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ENDPOINT_VARIABLES, ENVIRONMENTS, ROOT, start_foreground_job

DELAYS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0)
STDLIB = os.path.dirname(os.__file__)
CONSOLE_SCRIPT = Path(sys.executable).parent / "infrakit"


@pytest.fixture(scope="module")
def hanging_port() -> Iterator[int]:
    """A port that accepts connections (the kernel completes them) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        yield listener.getsockname()[1]


def interrupted_at(command: list[str], delay: float, port: int, cwd: Path) -> tuple[int, str]:
    environ = {k: v for k, v in os.environ.items() if k not in ENDPOINT_VARIABLES} | {
        "DATABASE_URL": f"postgresql://app:pw@127.0.0.1:{port}/app",  # checkov:skip=CKV_SECRET_4: test value
        "REDIS_URL": f"redis://default:pw@127.0.0.1:{port}/0",
        "QDRANT_URL": f"http://127.0.0.1:{port}",
        "PYTHONPATH": str(ROOT),  # this checkout's infrakit
    }
    args = [
        *command,
        "--environments-dir",
        str(ENVIRONMENTS),
        "validate",
        "--env",
        "local",
        "--timeout",
        "20",
    ]
    process = start_foreground_job(args, cwd=cwd, env=environ)
    try:
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    return process.returncode, stderr


def pythons_own_startup(stderr: str) -> bool:
    """A traceback whose every frame is Python's own start-up (frozen modules, the standard library,
    the `.pth` files of site-packages, the console script's import line): the signal came before
    infrakit's first line ran."""
    if "init_import_site: Failed to import the site module" in stderr:
        return True
    # Raised while Python reads and compiles the console script, before it has a frame: the
    # interpreter prints the bare exception name (seen once in about 200 runs at 0.05 s).
    if stderr.strip() == "KeyboardInterrupt":
        return True
    frames = re.findall(r'^\s*File "([^"]+)"', stderr, re.MULTILINE)
    return bool(frames) and all(
        name.startswith(("<frozen", "<string>", STDLIB))
        or name == str(CONSOLE_SCRIPT)
        or "__editable__" in name
        for name in frames
    )


@pytest.mark.parametrize("delay", DELAYS)
@pytest.mark.parametrize(
    "command",
    [[str(CONSOLE_SCRIPT)], [sys.executable, "-m", "infrakit"]],
    ids=["infrakit", "python -m infrakit"],
)
def test_ctrl_c_to_the_process_group_ends_with_one_line(
    command: list[str], delay: float, hanging_port: int, tmp_path: Path
) -> None:
    if not CONSOLE_SCRIPT.exists():
        pytest.skip(f"{CONSOLE_SCRIPT} is not installed: run scripts/setup.sh")
    code, stderr = interrupted_at(command, delay, hanging_port, tmp_path)
    if code == -signal.SIGINT and not stderr or pythons_own_startup(stderr):
        return  # before infrakit existed: see the module docstring
    assert "Traceback" not in stderr, stderr
    # 130, or a death by SIGINT after the one line, which a shell reports as the same 130 (128 + 2).
    # The death was seen twice in about 2,000 runs under load (once on a quiet clean clone), for
    # `python -m infrakit` at 0.5 s, always after the line was printed; where the second SIGINT or the
    # default disposition comes from is not yet known (a follow-up issue), so it is accepted only
    # with the line.
    assert code in (130, -signal.SIGINT), stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert re.fullmatch(
        r"infrakit: (validate )?interrupted \(Ctrl-C\)( while starting)?; nothing was changed.*", lines[0]
    ), lines
