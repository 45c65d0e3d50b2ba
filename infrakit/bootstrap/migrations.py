"""Database migrations after `cdktf deploy`: each file in supabase/migrations applied once, in order.

Each migration runs in one transaction together with its row in the Supabase CLI's ledger, so a
failure leaves the database and the ledger as they were; a file marked `-- infrakit: no-transaction`
runs statement by statement instead (see migration_apply). One session advisory lock keeps
concurrent runs apart (see migration_lock). Before anything is applied, the ledger is checked against
the files (see migration_checks): drift, a missing file or an out-of-order pending file stops the run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from infrakit.bootstrap.migration_apply import RunPosition, run_migration
from infrakit.bootstrap.migration_checks import (
    DEFAULT_COMMAND_OPTIONS,
    Finding,
    MigrationStatus,
    compare,
    findings,
    refusal,
    status_report,
)
from infrakit.bootstrap.migration_files import (
    NO_TRANSACTION_MARKER,
    Migration,
    MigrationConfigError,
    MigrationError,
    in_version_order,
    load_migrations,
    terminated,
)
from infrakit.bootstrap.migration_ledger import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    LEDGER,
    LEDGER_DDL,
    RESET_SESSION,
    connect,
    database_step,
    ensure_ledger,
    read_ledger,
    target_of,
)
from infrakit.bootstrap.migration_lock import LOCK_KEY, migration_lock
from infrakit.bootstrap.migration_repair import repair_ledger

__all__ = [
    "Finding",
    "Migration",
    "MigrationConfigError",
    "MigrationError",
    "MigrationStatus",
    "apply_migrations",
    "dry_run_sql",
    "findings",
    "load_migrations",
    "migration_status",
    "refusal",
    "repair_ledger",
    "status_report",
]


def migration_status(
    database_url: str, migrations: Sequence[Migration], *, timeout: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
) -> MigrationStatus:
    """Read-only: works before the ledger exists, and changes nothing in the database."""
    ordered = in_version_order(migrations)
    target = target_of(database_url)
    with (
        connect(database_url, target, timeout=timeout) as connection,
        database_step(target, f"reading {LEDGER}", "check that the database user may read it"),
        connection.transaction(),
    ):
        connection.execute("SET TRANSACTION READ ONLY")
        return replace(compare(read_ledger(connection), ordered), database=str(target))


def apply_migrations(
    database_url: str,
    migrations: Sequence[Migration],
    *,
    progress: Callable[[str], None] = lambda _: None,
    lock_wait_seconds: float = 60.0,
    include_all: bool = False,
    timeout: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
    command_options: str = DEFAULT_COMMAND_OPTIONS,
) -> list[Migration]:
    """Apply every pending migration in version order; returns those applied now, [] when up to date.

    `include_all` also applies pending files older than the newest applied one, as
    `supabase db push --include-all` does. `command_options` completes the commands that messages
    suggest (`--env NAME`).
    """
    ordered = in_version_order(migrations)
    target = target_of(database_url)
    with (
        connect(database_url, target, timeout=timeout) as connection,
        migration_lock(connection, target, wait_seconds=lock_wait_seconds, progress=progress),
    ):
        with database_step(
            target, f"creating or reading {LEDGER}", "migrate as the database owner (on Supabase: postgres)"
        ):
            ensure_ledger(connection)
            # Read only now, under the lock: a run that held it before may have applied some.
            status = compare(read_ledger(connection), ordered)
        directory = ordered[0].path.parent if ordered else None
        found = findings(
            status, include_all=include_all, directory=directory, command_options=command_options
        )
        if found:
            raise MigrationError(refusal(found, str(target)))
        applied: list[Migration] = []
        for migration in status.pending:
            count = len(migration.statements)
            progress(
                f"applying {migration.file_name} ({count} statement{'' if count == 1 else 's'}"
                + ("" if migration.transactional else ", no transaction")
                + ")"
            )
            position = RunPosition(len(applied), len(status.pending), command_options)
            run_migration(connection, migration, target, position)
            applied.append(migration)
        return applied


def dry_run_sql(pending: Sequence[Migration]) -> str:
    """The SQL that applying would run, as one script psql could run; nothing is executed."""
    ordered = in_version_order(pending)
    if not ordered:
        return "-- No pending migrations: the database is up to date.\n"
    lines = [
        f"-- Dry run: {len(ordered)} pending migration(s). Nothing below has been run.",
        f"-- Applying holds advisory lock {LOCK_KEY} (pg_try_advisory_lock) throughout, and runs each",
        "-- migration in its own transaction together with its ledger row, except files marked",
        f"-- `{NO_TRANSACTION_MARKER}`, whose statements commit one by one.",
        *(f"{statement};" for statement in LEDGER_DDL),
    ]
    for migration in ordered:
        lines += ["", f"-- {migration.file_name}"]
        if migration.transactional:
            lines += [f"{RESET_SESSION};", "BEGIN;", *_statements_and_ledger_row(migration), "COMMIT;"]
        else:
            lines += [
                "-- no transaction: each statement commits on its own; the ledger row is written after the",
                "-- last one succeeds",
                f"{RESET_SESSION};",
                *_statements_and_ledger_row(migration),
            ]
    return "\n".join(lines) + "\n"


def _statements_and_ledger_row(migration: Migration) -> list[str]:
    recorded = ",\n".join(f"  {_literal(statement)}" for statement in migration.statements)
    return [
        *(terminated(statement) for statement in migration.statements),
        f"INSERT INTO {LEDGER} (version, name, statements)",
        f"VALUES ({_literal(migration.version)}, {_literal(migration.name)}, "
        + (f"ARRAY[\n{recorded}\n]::text[]);" if recorded else "ARRAY[]::text[]);"),
    ]


def _literal(text: str) -> str:
    """A standard SQL string literal (standard_conforming_strings is on: backslashes are plain)."""
    return "'" + text.replace("'", "''") + "'"
