"""Ctrl-C during a command: one line on stderr, exit status 130, no traceback, nothing half-done.

Each test starts `python -m infrakit ...` as a real process, waits until it is busy (on a server
that accepts and never answers, on the migration lock another session holds, inside a migration,
or on a slow Qdrant stand-in), then sends SIGINT, as a terminal's Ctrl-C does. The signal goes to
the command's process only; a terminal sends it to the whole foreground process group, which here
holds no other process of ours.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from infrakit import cli
from infrakit.bootstrap import validate
from infrakit.bootstrap.migration_files import NO_TRANSACTION_MARKER
from infrakit.bootstrap.migration_lock import LOCK_KEY, WAITING
from tests.conftest import ENDPOINT_VARIABLES, ENVIRONMENTS, PYTHON, ROOT, default_sigint
from tests.standins.neo4j import Neo4jStandIn
from tests.standins.qdrant import QdrantStandIn

QDRANT_KEY = "interrupt-test-qdrant-key-31f0"  # checkov:skip=CKV_SECRET_6: test value
NEO4J_PASSWORD = "interrupt-test-neo4j-password"  # checkov:skip=CKV_SECRET_6: test value
MIGRATIONS = ROOT / "supabase" / "migrations"
QUICK_EXIT_SECONDS = 3.0  # well under every timeout the commands are given below


class Command:
    """`python -m infrakit ARGS` in the background, its stderr collected line by line as it comes."""

    def __init__(
        self, args: list[str], endpoints: dict[str, str], cwd: Path, *, program: list[str] | None = None
    ):
        env = {k: v for k, v in os.environ.items() if k not in ENDPOINT_VARIABLES} | endpoints
        env["PYTHONPATH"] = str(ROOT)  # this checkout's infrakit, wherever the venv's points
        self.process = subprocess.Popen(
            [*(program or [PYTHON, "-m", "infrakit"]), "--environments-dir", str(ENVIRONMENTS), *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=default_sigint,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_until(self, busy, what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not busy():
            assert self.process.poll() is None, f"exited before {what}: {self.lines}"
            assert time.monotonic() < deadline, f"never {what}: {self.lines}"
            time.sleep(0.02)

    def wait_for_line(self, text: str) -> None:
        self.wait_until(lambda: any(text in line for line in self.lines), f"printed {text!r}")

    def interrupt(self) -> tuple[int, float]:
        """Send SIGINT; return the exit status and the seconds the process took to end."""
        sent = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=5)
        return code, time.monotonic() - sent

    def stdout(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def start(tmp_path: Path) -> Iterator:
    """start(args, endpoints) -> Command, run in an empty directory (no stack outputs to read)."""
    started: list[Command] = []

    def run(args: list[str], endpoints: dict[str, str], **options) -> Command:
        command = Command(args, endpoints, tmp_path, **options)
        started.append(command)
        return command

    yield run
    for command in started:
        command.stop()


class SilentServer:
    """Accepts TCP connections and never answers: a service that hangs, or a stalled network."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.port = self.socket.getsockname()[1]
        self.accepted = threading.Event()
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self._held.append(connection)
            self.accepted.set()

    def close(self) -> None:
        self.socket.close()
        for connection in self._held:
            connection.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def assert_reported_once(lines: list[str], expected_start: str) -> None:
    """No traceback; exactly one line says what was interrupted, and it is the last line."""
    assert not any("Traceback" in line or "Exception" in line for line in lines), lines
    reported = [line for line in lines if "interrupted" in line]
    assert reported == lines[-1:], lines
    assert lines[-1].startswith(expected_start), lines


def schemas_and_ledger(database_url: str) -> tuple[set[str], list[str] | None]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        schemas = {row[0] for row in connection.execute("SELECT nspname FROM pg_namespace")}
        exists = connection.execute("SELECT to_regclass('supabase_migrations.schema_migrations')").fetchone()
        if exists is None or exists[0] is None:
            return schemas, None
        versions = connection.execute("SELECT version FROM supabase_migrations.schema_migrations ORDER BY 1")
        return schemas, [row[0] for row in versions]


# ----------------------------------------------------------------------------- validate


def test_ctrl_c_during_validate_exits_130_with_one_line(start, silent):
    """The checks hang on a server that never answers, each with a 30 s timeout; Ctrl-C must end
    the run at once, without waiting for the check threads."""
    url = f"127.0.0.1:{silent.port}"
    command = start(
        ["validate", "--env", "local", "--json", "--timeout", "30", "--deadline", "60"],
        {"DATABASE_URL": f"postgresql://u:p@{url}/db", "REDIS_URL": f"redis://:p@{url}/0",
         "QDRANT_URL": f"http://{url}", "QDRANT_API_KEY": QDRANT_KEY},
    )  # fmt: skip
    command.wait_until(silent.accepted.is_set, "connected")
    code, seconds = command.interrupt()
    assert code == cli.EXIT_INTERRUPTED
    assert seconds < QUICK_EXIT_SECONDS
    assert command.lines == [
        "infrakit: validate interrupted (Ctrl-C); nothing was changed (validation only reads)"
    ]
    assert command.stdout() == "", "no partial JSON"


def test_ctrl_c_during_validate_on_a_terminal_stops_the_spinner_and_shows_the_cursor(silent, tmp_path):
    """On a terminal, rich draws a spinner from its own thread and hides the cursor while it runs."""
    url = f"127.0.0.1:{silent.port}"
    env = {k: v for k, v in os.environ.items() if k not in ENDPOINT_VARIABLES}
    env |= {"REDIS_URL": f"redis://:p@{url}/0", "TERM": "xterm", "COLUMNS": "200"}
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [PYTHON, "-m", "infrakit", "--environments-dir", str(ENVIRONMENTS),
         "validate", "--env", "local", "--service", "redis", "--timeout", "30", "--deadline", "60"],
        cwd=tmp_path, env=env, stdin=terminal, stdout=terminal, stderr=terminal,
        preexec_fn=default_sigint,
    )  # fmt: skip
    os.close(terminal)
    screen = b""
    try:
        while not (silent.accepted.is_set() and b"checking redis" in screen):
            assert process.poll() is None, screen
            screen += read_some(controller)
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=QUICK_EXIT_SECONDS)
        while chunk := read_some(controller):
            screen += chunk
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    assert code == cli.EXIT_INTERRUPTED
    text = screen.decode(errors="replace")
    assert "Traceback" not in text
    assert text.rindex("\x1b[?25h") > text.rindex("\x1b[?25l"), "the cursor is shown again"
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "")
    last = plain.strip().splitlines()[-1]
    assert last == "infrakit: validate interrupted (Ctrl-C); nothing was changed (validation only reads)"


def read_some(fd: int, timeout: float = 0.2) -> bytes:
    if not select.select([fd], [], [], timeout)[0]:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:  # the terminal closed: the process is gone
        return b""


def test_ctrl_c_inside_a_check_thread_is_reported_once(monkeypatch, capsys, tmp_path):
    """A KeyboardInterrupt raised in a worker thread reaches main(), which reports it like Ctrl-C."""

    def interrupted(*_args, **_kwargs) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(validate, "check_redis", interrupted)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    try:
        code = cli.main(
            ["--environments-dir", str(ENVIRONMENTS), "validate", "--env", "local", "--service", "redis"]
        )
    except KeyboardInterrupt:
        pytest.fail("the KeyboardInterrupt escaped main()")  # and would end this pytest session
    assert code == cli.EXIT_INTERRUPTED
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "infrakit: validate interrupted (Ctrl-C); nothing was changed (validation only reads)"
    ]
    assert out == ""


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["preflight"], "preflight interrupted (Ctrl-C); nothing was changed"),
        (["migrate"], "migrate interrupted (Ctrl-C); nothing was changed"),
        (["migrate", "--dry-run"], "migrate interrupted (Ctrl-C); nothing was changed"),
        (["migrate", "--apply"], "migrate interrupted (Ctrl-C); nothing half-done was kept: each migration"),
        (
            ["migrate", "repair", "--status", "reverted", "20261124090000"],
            "migrate interrupted (Ctrl-C); nothing half-done was kept: a repair changes the ledger in one",
        ),
        (["collections"], "collections interrupted (Ctrl-C); nothing half-done was kept"),
        (["validate"], "validate interrupted (Ctrl-C); nothing was changed"),
        (["bootstrap"], "bootstrap interrupted (Ctrl-C) during migrate; nothing half-done was kept"),
    ],
)
def test_each_command_says_what_an_interruption_left(options, says, monkeypatch, capsys, tmp_path):
    """What each message claims is proven by the tests that interrupt real runs; this checks that
    each command, and each mode of migrate, gets the claim that fits it."""

    def interrupted(*_args: object) -> int:
        raise KeyboardInterrupt

    for step in ("_preflight", "_migrate", "_collections", "_validate"):
        monkeypatch.setattr(cli, step, interrupted)
    monkeypatch.chdir(tmp_path)
    command, *rest = options
    try:
        code = cli.main(["--environments-dir", str(ENVIRONMENTS), command, "--env", "local", *rest])
    except KeyboardInterrupt:
        pytest.fail("the KeyboardInterrupt escaped main()")
    assert code == cli.EXIT_INTERRUPTED
    assert_reported_once(capsys.readouterr().err.splitlines(), f"infrakit: {says}")


# ----------------------------------------------------------------------------- migrate


def test_ctrl_c_while_migrate_waits_for_the_lock_applies_nothing(start, database_url):
    before = schemas_and_ledger(database_url)
    with psycopg.connect(database_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        command = start(
            ["migrate", "--env", "local", "--apply", "--migrations-dir", str(MIGRATIONS)],
            {"DATABASE_URL": database_url},
        )
        command.wait_for_line(WAITING)
        code, seconds = command.interrupt()
    assert code == cli.EXIT_INTERRUPTED
    assert seconds < QUICK_EXIT_SECONDS
    assert_reported_once(command.lines, "infrakit: migrate interrupted (Ctrl-C); nothing half-done was kept")
    assert schemas_and_ledger(database_url) == before


def test_ctrl_c_inside_a_migration_rolls_it_back(start, database_url, tmp_path):
    """The second migration is interrupted mid-statement: its table and ledger row must not exist,
    while the first, already committed, stays applied."""
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "20990101000000_first.sql").write_text("CREATE TABLE first_table (id int);\n")
    (migrations / "20990101000100_slow.sql").write_text(
        "CREATE TABLE slow_table (id int);\nSELECT pg_sleep(30);\n"
    )
    command, code, seconds, tables = interrupt_migrate_apply(start, database_url, migrations)
    assert code == cli.EXIT_INTERRUPTED
    assert seconds < QUICK_EXIT_SECONDS
    assert_reported_once(command.lines, "infrakit: migrate interrupted (Ctrl-C); nothing half-done was kept")
    assert tables == {"first_table"}
    assert schemas_and_ledger(database_url)[1] == ["20990101000000"]


def interrupt_migrate_apply(start, database_url: str, migrations: Path) -> tuple[Any, int, float, set[str]]:
    """`migrate --apply` of `migrations`, interrupted once one of them sleeps in pg_sleep: the
    command, its exit code, how long it took to exit, and the public tables left afterwards."""
    command = start(
        ["migrate", "--env", "local", "--apply", "--migrations-dir", str(migrations)],
        {"DATABASE_URL": database_url},
    )
    with psycopg.connect(database_url, autocommit=True) as observer:
        command.wait_until(lambda: sleeping_sessions(observer) > 0, "ran the slow statement")
        code, seconds = command.interrupt()
        tables = {
            row[0] for row in observer.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    return command, code, seconds, tables


def sleeping_sessions(connection: psycopg.Connection) -> int:
    row = connection.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(30)%'"
    ).fetchone()
    return int(row[0]) if row else 0


# ----------------------------------------------------------------------------- collections


def test_ctrl_c_during_collections_exits_130_and_creates_nothing(start):
    with QdrantStandIn(api_key=QDRANT_KEY, delay_seconds=30) as slow:
        command = start(
            ["collections", "--env", "local", "--timeout", "60"],
            {"QDRANT_URL": slow.url, "QDRANT_API_KEY": QDRANT_KEY},
        )
        command.wait_until(lambda: bool(slow.requests), "asked Qdrant")
        code, seconds = command.interrupt()
        assert slow.writes() == []
    assert code == cli.EXIT_INTERRUPTED
    assert seconds < QUICK_EXIT_SECONDS
    assert len(command.lines) == 1
    assert_reported_once(
        command.lines, "infrakit: collections interrupted (Ctrl-C); nothing half-done was kept"
    )


# ----------------------------------------------------------------------------- bootstrap


def test_ctrl_c_during_bootstrap_names_the_step_it_interrupted(start, database_url, redis, silent):
    with QdrantStandIn(api_key=QDRANT_KEY) as qdrant, Neo4jStandIn(password=NEO4J_PASSWORD) as neo4j:
        command = start(
            ["bootstrap", "--env", "local", "--migrations-dir", str(MIGRATIONS),
             "--timeout", "30", "--deadline", "60"],
            {"DATABASE_URL": database_url, "REDIS_URL": f"redis://:p@127.0.0.1:{silent.port}/0",
             "QDRANT_URL": qdrant.url, "QDRANT_API_KEY": QDRANT_KEY,
             "NEO4J_URI": neo4j.bolt_url, "NEO4J_USERNAME": "neo4j", "NEO4J_PASSWORD": NEO4J_PASSWORD},
        )  # fmt: skip
        command.wait_until(silent.accepted.is_set, "checked Redis")
        code, seconds = command.interrupt()
    assert code == cli.EXIT_INTERRUPTED
    assert seconds < QUICK_EXIT_SECONDS
    expected = "infrakit: bootstrap interrupted (Ctrl-C) during validate; nothing was changed"
    assert_reported_once(command.lines, expected)
    assert any("collection documents: created" in line for line in command.lines)


# ----------------------------------------------------------------------------- a second Ctrl-C

# main() as `python -m infrakit` runs it, with a validate step whose cleanup takes 60 s: only a
# second Ctrl-C can end it in time. Real steps clean up in milliseconds (a rollback, closing a
# socket), too fast to hit with a second signal on cue.
SLOW_CLEANUP = """
import sys, time
from infrakit import cli

def validate_with_slow_cleanup(environment, endpoints, args):
    with cli.console.status("checking..."):
        try:
            print("busy", file=sys.stderr, flush=True)
            time.sleep(60)
        finally:
            print("cleaning up", file=sys.stderr, flush=True)
            time.sleep(60)
    return 0

cli._validate = validate_with_slow_cleanup
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_second_ctrl_c_during_cleanup_exits_at_once_and_quietly(start):
    command = start(["validate", "--env", "local"], {}, program=[PYTHON, "-c", SLOW_CLEANUP])
    command.wait_for_line("busy")
    command.process.send_signal(signal.SIGINT)
    command.wait_for_line("cleaning up")
    code, seconds = command.interrupt()
    assert code == cli.EXIT_INTERRUPTED
    assert seconds < QUICK_EXIT_SECONDS
    assert_reported_once(command.lines, "infrakit: validate interrupted (Ctrl-C); nothing was changed")


def test_ctrl_c_inside_a_no_transaction_migration_says_which_statements_stay(start, database_url, tmp_path):
    """Its statements commit one by one, so Ctrl-C cannot roll back the first: the one line says
    that it stays, which statement was cancelled, and both ways on. What this cannot prove: a
    Ctrl-C in the instant a statement finishes, which the message allows for."""
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "20990101000000_concurrently.sql").write_text(
        f"{NO_TRANSACTION_MARKER}\nCREATE TABLE kept_table (id int);\nSELECT pg_sleep(30);\n"
        "CREATE TABLE never_table (id int);\n"
    )
    command, code, _, tables = interrupt_migrate_apply(start, database_url, migrations)
    assert code == cli.EXIT_INTERRUPTED
    assert_reported_once(command.lines, "infrakit: migrate interrupted (Ctrl-C); ")
    said = command.lines[-1]
    assert "nothing half-done was kept" not in said and "nothing of it was rolled back" in said
    assert "statement 1 of 3 ran and stays in the database (1: CREATE TABLE kept_table (id int))" in said
    assert "statement 2 (SELECT pg_sleep(30)) was cancelled" in said
    assert "migrate --apply --env local" in said  # re-run ...
    assert "migrate repair --status applied 20990101000000 --env local" in said  # ... or record it
    assert tables == {"kept_table"}
    assert schemas_and_ledger(database_url)[1] == []
