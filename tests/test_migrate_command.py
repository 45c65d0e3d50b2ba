"""`python -m infrakit migrate`, through main([...]) in this process, against a real PostgreSQL 15.

The database comes from DATABASE_URL, as for a bring-your-own endpoint, and the migrations from
--migrations-dir. Each test runs in an empty directory, so no stack output (cdktf.out) is read.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import psycopg
import pytest

from infrakit import cli
from tests.conftest import ENVIRONMENTS
from tests.servers import PASSWORD

V1, V2, V3 = "20260101000001", "20260101000002", "20260101000003"
FIRST = f"{V1}_first.sql"
SECOND = f"{V2}_second.sql"
THIRD = f"{V3}_third.sql"


# Every test runs from an empty directory, with no endpoint variable from the shell.
pytestmark = pytest.mark.usefixtures("elsewhere")


@pytest.fixture
def migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Path:
    """An empty migrations directory, and DATABASE_URL pointing at a fresh database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    directory = tmp_path / "migrations"
    directory.mkdir()
    return directory


def write(directory: Path, **files: str) -> None:
    for name, sql in files.items():
        (directory / name).write_text(sql)


def main(*argv: str) -> int:
    return cli.main(["--environments-dir", str(ENVIRONMENTS), *argv])


def migrate(directory: Path, *options: str) -> int:
    return main("migrate", "--env", "local", "--migrations-dir", str(directory), *options)


def query(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute(sql).fetchall()


def ledger_versions(url: str) -> list[str]:
    if query(url, "SELECT to_regclass('supabase_migrations.schema_migrations')")[0][0] is None:
        return []
    return [
        row[0] for row in query(url, "SELECT version FROM supabase_migrations.schema_migrations ORDER BY 1")
    ]


def table_exists(url: str, name: str) -> bool:
    return query(url, f"SELECT to_regclass('{name}') IS NOT NULL")[0][0]


# ----------------------------------------------------------------------------- status reports drift


@pytest.fixture
def drifted(migrations: Path, capsys) -> Path:
    """Three migrations applied, then the first edited and the second deleted."""
    write(migrations, **{FIRST: "CREATE TABLE first (id int);", SECOND: "SELECT 2;", THIRD: "SELECT 3;"})
    assert migrate(migrations, "--apply") == 0
    assert migrate(migrations) == 0, "in step: status exits 0"
    (migrations / FIRST).write_text("CREATE TABLE first (id bigint);")
    (migrations / SECOND).unlink()
    capsys.readouterr()
    return migrations


def test_status_reports_edited_and_deleted_applied_files_with_their_fix_and_exits_1(drifted, capsys):
    assert migrate(drifted) == 1
    err = capsys.readouterr().err
    assert ": 3 applied, 0 pending" in err
    assert f"{drifted / FIRST}: changed after it was applied" in err
    assert f"{V2}_second.sql: applied, but there is no file with version {V2} in {drifted}" in err
    options = f"--env local --migrations-dir {drifted}"
    assert f"`infrakit migrate repair --status applied {V1} {options}`" in err
    assert f"`infrakit migrate repair --status reverted {V2} {options}`" in err
    assert "supabase migration repair" not in err
    assert PASSWORD not in err


def test_repair_settles_the_drift_so_that_status_and_apply_succeed(drifted, capsys, database_url):
    assert (
        main(
            "migrate", "repair", "--status", "applied", V1, "--env", "local", "--migrations-dir", str(drifted)
        )
        == 0
    )
    assert (
        main(
            "migrate",
            "--env",
            "local",
            "--migrations-dir",
            str(drifted),
            "repair",
            "--status",
            "reverted",
            V2,
        )
        == 0
    )
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("repair: ")]
    assert len(lines) == 2
    assert lines[0].startswith(f"repair: {V1}_first: was applied; its recorded name and statements are now")
    assert lines[1].startswith(f"repair: {V2}_second: ledger row deleted")
    assert migrate(drifted) == 0
    assert ": 2 applied, 0 pending" in capsys.readouterr().err
    assert ledger_versions(database_url) == [V1, V3]
    assert query(
        database_url, "SELECT data_type FROM information_schema.columns WHERE table_name = 'first'"
    ) == [("integer",)], "repair ran nothing: the table is as the original file made it"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["repair", "--status", "applied", "2026-01-01"], "is not a migration version"),
        (["repair", "--status", "deleted", V1], "invalid choice"),
        (["repair", V1], "the following arguments are required: --status"),
    ],
)
def test_repair_usage_errors_exit_2(migrations, capsys, argv, says):
    with pytest.raises(SystemExit) as exit_:
        migrate(migrations, *argv)
    assert exit_.value.code == 2
    assert says in capsys.readouterr().err


def test_repair_still_requires_an_environment(migrations, capsys):
    """repair's own --env stands in for migrate's required one: without either, argparse refuses."""
    with pytest.raises(SystemExit) as exit_:
        main("migrate", "repair", "--status", "applied", V1)
    assert exit_.value.code == 2
    assert "the following arguments are required: --env" in capsys.readouterr().err


def test_repair_of_a_version_without_a_file_or_with_apply_exits_2_and_changes_nothing(
    migrations, capsys, database_url
):
    write(migrations, **{FIRST: "SELECT 1;"})
    assert migrate(migrations, "repair", "--status", "applied", V1, V2) == 2
    assert (
        f"no migration file in {migrations} has version {V2}; nothing was changed" in capsys.readouterr().err
    )
    assert migrate(migrations, "--apply", "repair", "--status", "applied", V1) == 2
    assert "leave out --apply" in capsys.readouterr().err
    assert ledger_versions(database_url) == []


# ----------------------------------------------------------------------------- out-of-order files


def test_a_pending_file_older_than_the_newest_applied_needs_include_all(migrations, capsys, database_url):
    write(migrations, **{FIRST: "SELECT 1;", THIRD: "SELECT 3;"})
    assert migrate(migrations, "--apply") == 0
    write(migrations, **{SECOND: "CREATE TABLE second (id int);"})
    capsys.readouterr()

    assert migrate(migrations) == 1
    err = capsys.readouterr().err
    assert f"pending: {SECOND} (older than the newest applied; only --include-all applies it)" in err

    assert migrate(migrations, "--apply") == 1
    err = capsys.readouterr().err
    assert "nothing was applied" in err
    assert f"{migrations / SECOND}: pending, but older than {V3}, the newest applied migration" in err
    assert not table_exists(database_url, "second")

    assert migrate(migrations, "--dry-run") == 1
    assert capsys.readouterr().out == "", "no script for a run that would be refused"

    assert migrate(migrations, "--include-all") == 0
    assert migrate(migrations, "--apply", "--include-all") == 0
    assert "migrations: 1 applied" in capsys.readouterr().err
    assert table_exists(database_url, "second") and ledger_versions(database_url) == [V1, V2, V3]


# ----------------------------------------------------------------------------- invalid and ignored files


@pytest.mark.parametrize(
    "command", [("migrate",), ("migrate", "--apply"), ("migrate", "--dry-run"), ("bootstrap",)]
)
def test_invalid_migration_files_are_a_configuration_error(migrations, capsys, database_url, command):
    write(migrations, **{"add_users.sql": "SELECT 1;", FIRST: "CREATE TABLE first (id int);\nCOMMIT;"})
    assert main(*command, "--env", "local", "--migrations-dir", str(migrations)) == 2
    err = capsys.readouterr().err
    assert f"{migrations / 'add_users.sql'}: the name must be <14-digit UTC version>_<name>.sql" in err
    assert f"{migrations / FIRST}: statement 2 (`COMMIT`) controls the transaction" in err
    assert "fix: rename or edit each file listed" in err
    assert ledger_versions(database_url) == [] and not table_exists(database_url, "first")


def test_files_that_are_not_migrations_are_named_in_a_warning_and_skipped(migrations, capsys, database_url):
    write(
        migrations,
        **{FIRST: "CREATE TABLE first (id int);", "20261124_x.SQL.bak": "x", "notes.txt": "x", "x.sql~": "x"},
    )
    write(migrations, **{".gitkeep": ""})
    (migrations / "archive").mkdir()
    assert migrate(migrations, "--apply") == 0
    err = capsys.readouterr().err
    assert f"warning: ignored 3 file(s) in {migrations} that do not end in .sql" in err
    for name in ("20261124_x.SQL.bak", "notes.txt", "x.sql~"):
        assert f"  - {migrations / name}\n" in err
    assert ".gitkeep" not in err and "archive" not in err
    assert ledger_versions(database_url) == [V1]


# ----------------------------------------------------------------------------- no-transaction files


def test_a_no_transaction_file_runs_create_index_concurrently(migrations, capsys, database_url):
    write(
        migrations,
        **{
            FIRST: "CREATE TABLE orders (id int);",
            SECOND: "-- infrakit: no-transaction\n"
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_id ON orders (id);",
        },
    )
    assert migrate(migrations, "--dry-run") == 0
    script = capsys.readouterr().out
    assert script.count("BEGIN;") == 1 and script.index("BEGIN;") < script.index(f"-- {SECOND}")
    assert migrate(migrations, "--apply") == 0
    assert f"applying {SECOND} (1 statement, no transaction)" in capsys.readouterr().err
    valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_id'::regclass"
    assert query(database_url, valid) == [(True,)]


# ----------------------------------------------------------------------------- connect timeout


@pytest.fixture
def silent_database(monkeypatch: pytest.MonkeyPatch):
    """A server that accepts TCP connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        # checkov:skip=CKV_SECRET_4: test value
        url = f"postgresql://postgres:hunter2-secret@127.0.0.1:{server.getsockname()[1]}/db"
        monkeypatch.setenv("DATABASE_URL", url)
        yield


@pytest.mark.parametrize("command", ["migrate", "bootstrap"])
def test_a_silent_database_fails_after_the_timeout_given(silent_database, tmp_path, capsys, command):
    started = time.monotonic()
    assert main(command, "--env", "local", "--migrations-dir", str(tmp_path), "--timeout", "2") == 1
    elapsed = time.monotonic() - started
    assert elapsed < 4.5, f"took {elapsed:.1f} s with --timeout 2"
    err = capsys.readouterr().err
    assert "nothing answered within the 2 s timeout (--timeout)" in err
    assert "hunter2-secret" not in err
