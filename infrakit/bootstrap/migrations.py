"""Database migrations after `cdktf deploy`: each file in supabase/migrations applied once, in order.

Each migration runs in one transaction together with its row in the Supabase CLI's ledger, so a
failure leaves the database and the ledger as they were. One session advisory lock keeps concurrent
runs apart (see migration_lock). Before anything is applied, the ledger is checked against the
files: an applied migration whose file changed (drift), or whose file is gone, stops the run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg

from infrakit.bootstrap.migration_files import (
    Migration,
    MigrationError,
    canonical_statements,
    first_line,
    load_migrations,
    statement_line,
    terminated,
)
from infrakit.bootstrap.migration_ledger import (
    INSERT_LEDGER_ROW,
    LEDGER,
    LEDGER_DDL,
    RESET_SESSION,
    LedgerRow,
    Target,
    connect,
    database_step,
    ensure_ledger,
    postgres_message,
    read_ledger,
    reset_session,
    target_of,
)
from infrakit.bootstrap.migration_lock import LOCK_KEY, migration_lock

__all__ = [
    "Migration",
    "MigrationError",
    "MigrationStatus",
    "apply_migrations",
    "dry_run_sql",
    "load_migrations",
    "migration_status",
]

# Postgres error codes whose fix is not obvious from Postgres's message alone.
_HINTS = {
    "55P03": "lock_timeout (4 s) ran out: another session holds a lock this statement needs; "
    "run again when that session is done (pg_locks shows it)",
    "25001": "this statement cannot run inside a transaction, and every migration runs in one: "
    "run it outside the migrations",
    "42501": "the database user lacks this privilege: migrate as the database owner (on Supabase: postgres)",
}


@dataclass(frozen=True)
class MigrationStatus:
    """The ledger compared with the files. All fields but `pending` hold versions.

    `applied` is every version in the ledger. `drifted` are applied versions whose file now holds
    other statements. `missing_files` are applied versions with no file here (the CLI's "remote only").
    """

    applied: tuple[str, ...]
    pending: tuple[Migration, ...]
    drifted: tuple[str, ...]
    missing_files: tuple[str, ...]


def migration_status(database_url: str, migrations: Sequence[Migration]) -> MigrationStatus:
    """Read-only: works before the ledger exists, and changes nothing in the database."""
    ordered = _ordered(migrations)
    target = target_of(database_url)
    with (
        connect(database_url, target) as connection,
        database_step(target, f"reading {LEDGER}", "check that the database user may read it"),
        connection.transaction(),
    ):
        connection.execute("SET TRANSACTION READ ONLY")
        return _compare(read_ledger(connection), ordered)


def apply_migrations(
    database_url: str,
    migrations: Sequence[Migration],
    *,
    progress: Callable[[str], None] = lambda _: None,
    lock_wait_seconds: float = 60.0,
) -> list[Migration]:
    """Apply every pending migration in version order; returns those applied now, [] when up to date."""
    ordered = _ordered(migrations)
    target = target_of(database_url)
    with (
        connect(database_url, target) as connection,
        migration_lock(connection, target, wait_seconds=lock_wait_seconds, progress=progress),
    ):
        with database_step(
            target, f"creating or reading {LEDGER}", "migrate as the database owner (on Supabase: postgres)"
        ):
            ensure_ledger(connection)
            # Read only now, under the lock: a run that held it before may have applied some.
            ledger = read_ledger(connection)
        status = _compare(ledger, ordered)
        _refuse_disagreement(status, ledger, ordered, target)
        applied: list[Migration] = []
        for migration in status.pending:
            count = len(migration.statements)
            progress(f"applying {migration.file_name} ({count} statement{'' if count == 1 else 's'})")
            _apply(connection, migration, target, applied_before=len(applied), run_size=len(status.pending))
            applied.append(migration)
        return applied


def dry_run_sql(pending: Sequence[Migration]) -> str:
    """The SQL that applying would run, as one script psql could run; nothing is executed."""
    ordered = _ordered(pending)
    if not ordered:
        return "-- No pending migrations: the database is up to date.\n"
    lines = [
        f"-- Dry run: {len(ordered)} pending migration(s). Nothing below has been run.",
        f"-- Applying holds advisory lock {LOCK_KEY} (pg_try_advisory_lock) throughout, and runs each",
        "-- migration in its own transaction together with its ledger row.",
        *(f"{statement};" for statement in LEDGER_DDL),
    ]
    for migration in ordered:
        recorded = ",\n".join(f"  {_literal(statement)}" for statement in migration.statements)
        lines += [
            "",
            f"-- {migration.file_name}",
            f"{RESET_SESSION};",
            "BEGIN;",
            *(terminated(statement) for statement in migration.statements),
            f"INSERT INTO {LEDGER} (version, name, statements)",
            f"VALUES ({_literal(migration.version)}, {_literal(migration.name)}, "
            + (f"ARRAY[\n{recorded}\n]::text[]);" if recorded else "ARRAY[]::text[]);"),
            "COMMIT;",
        ]
    return "\n".join(lines) + "\n"


def _ordered(migrations: Sequence[Migration]) -> list[Migration]:
    ordered = sorted(migrations, key=lambda m: m.version)
    repeated = sorted(
        {a.version for a, b in zip(ordered, ordered[1:], strict=False) if a.version == b.version}
    )
    if repeated:
        raise MigrationError(
            f"migrations share a version ({', '.join(repeated)}): each needs its own timestamp"
        )
    return ordered


def _compare(ledger: dict[str, LedgerRow], ordered: list[Migration]) -> MigrationStatus:
    local = {migration.version: migration for migration in ordered}
    applied = tuple(sorted(ledger))
    return MigrationStatus(
        applied=applied,
        pending=tuple(m for m in ordered if m.version not in ledger),
        drifted=tuple(v for v in applied if v in local and _differs(ledger[v], local[v])),
        missing_files=tuple(v for v in applied if v not in local),
    )


def _differs(row: LedgerRow, migration: Migration) -> bool:
    """Drift: the file's statements are not those recorded when it was applied.

    Rows recorded without statements (very old CLIs) cannot be checked and count as matching.
    Comments and layout do not count, since the CLI splits a file a little differently.
    """
    if row.statements is None or row.statements == migration.statements:
        return False
    return canonical_statements(row.statements) != canonical_statements(migration.statements)


def _refuse_disagreement(
    status: MigrationStatus, ledger: dict[str, LedgerRow], ordered: list[Migration], target: Target
) -> None:
    if not (status.drifted or status.missing_files):
        return
    local = {migration.version: migration for migration in ordered}
    problems = [
        f"{local[v].path}: changed after it was applied (its statements differ from those in {LEDGER})"
        for v in status.drifted
    ]
    problems += [
        f"{v}_{ledger[v].name or '*'}.sql: applied, but there is no file with version {v} here"
        for v in status.missing_files
    ]
    fixes = []
    if status.drifted:
        fixes.append(
            "never edit an applied migration: restore the file (`git log -p FILE` shows the change) "
            "and make the change in a new migration (`supabase migration new NAME`)"
        )
    if status.missing_files:
        fixes.append(
            "get the missing files (pull the branch that added them); if one was removed on purpose, "
            "drop its ledger row with `supabase migration repair --status reverted VERSION`"
        )
    raise MigrationError(
        f"the migrations applied to {target} disagree with the files; nothing was applied:\n"
        + "\n".join(f"  - {problem}" for problem in problems)
        + "".join(f"\n  fix: {fix}" for fix in fixes)
    )


def _apply(
    connection: psycopg.Connection,
    migration: Migration,
    target: Target,
    *,
    applied_before: int,
    run_size: int,
) -> None:
    step: int | str = "starting its transaction"
    try:
        with connection.transaction():
            for index, statement in enumerate(migration.statements):
                step = index  # names the statement if it fails
                connection.execute(statement)
            step = "ledger"
            connection.execute(
                INSERT_LEDGER_ROW, (migration.version, migration.name, list(migration.statements))
            )
            step = "committing"
    except psycopg.Error as exc:
        raise MigrationError(_failure(migration, step, exc, target, applied_before, run_size)) from exc
    with database_step(target, "resetting the session after a migration", "run the migrations again"):
        reset_session(connection)


def _failure(
    migration: Migration,
    step: int | str,
    exc: psycopg.Error,
    target: Target,
    applied_before: int,
    run_size: int,
) -> str:
    total = len(migration.statements)
    lines = []
    if isinstance(step, int):
        position = exc.diag.statement_position
        line = statement_line(migration, step, int(position) if position else None)
        lines.append(
            f"migration {migration.path} failed at statement {step + 1} of {total}"
            + (f" (line {line})" if line else "")
        )
        lines.append(f"  statement: {first_line(migration.statements[step])}")
    elif step == "ledger":
        lines.append(f"migration {migration.path} ran, but recording it in {LEDGER} failed")
    else:
        lines.append(f"migration {migration.path} failed while {step}")
    lines.append(f"  postgres: {postgres_message(exc, target)}")
    if exc.sqlstate in _HINTS:
        lines.append(f"  hint: {_HINTS[exc.sqlstate]}")
    if step == "committing":
        lines.append("  the connection broke while committing: check `status` to see whether it was applied")
    else:
        lines.append(
            "  its transaction was rolled back: nothing from this file is in the database or the ledger"
        )
    not_tried = run_size - applied_before - 1
    lines.append(
        f"  {applied_before} applied before this one in this run stay applied"
        + (f"; {not_tried} after it were not tried" if not_tried else "")
    )
    lines.append(f"  fix: correct {migration.path}, then run the migrations again")
    return "\n".join(lines)


def _literal(text: str) -> str:
    """A standard SQL string literal (standard_conforming_strings is on: backslashes are plain)."""
    return "'" + text.replace("'", "''") + "'"
