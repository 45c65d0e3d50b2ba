"""Running one migration, and saying exactly what a failure left behind.

A normal migration runs in one transaction together with its ledger row: all or nothing.

A file whose first line is `-- infrakit: no-transaction` holds statements Postgres refuses inside a
transaction, such as CREATE INDEX CONCURRENTLY. Its statements run one by one, each committing on its
own, still under the run's advisory lock; its ledger row is written only after the last one
succeeded. A failure cannot roll back the statements before it, and the next run starts the file
again from its first statement: its statements must be safe to run twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import psycopg

from infrakit.bootstrap.migration_checks import repair_command
from infrakit.bootstrap.migration_files import (
    NO_TRANSACTION_MARKER,
    Migration,
    MigrationError,
    first_line,
    statement_line,
)
from infrakit.bootstrap.migration_ledger import (
    INSERT_LEDGER_ROW,
    LEDGER,
    Target,
    database_step,
    postgres_message,
    reset_session,
)

# Postgres error codes whose fix is not obvious from Postgres's message alone.
_HINTS = {
    "55P03": "lock_timeout (4 s) ran out: another session holds a lock this statement needs; "
    "run again when that session is done (pg_locks shows it)",
    "25001": "this statement cannot run inside a transaction, and this migration runs in one: make "
    f"`{NO_TRANSACTION_MARKER}` the file's first line to run its statements one by one, without a "
    "transaction (README: Migrations)",
    "42501": "the database user lacks this privilege: migrate as the database owner (on Supabase: postgres)",
}
_IDEMPOTENT = (
    "the next run starts this file again from statement 1, so every statement in it must be safe to run "
    "twice (CREATE INDEX CONCURRENTLY IF NOT EXISTS, DROP INDEX CONCURRENTLY IF EXISTS)"
)
_INVALID_INDEX = (
    "a failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind, which IF NOT EXISTS would then "
    "keep: drop it first (DROP INDEX CONCURRENTLY IF EXISTS NAME)"
)
# Indexes a failed concurrent build left behind (a build in progress elsewhere also shows here).
_INVALID_INDEXES = "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid ORDER BY 1"


class MigrationInterrupted(KeyboardInterrupt):
    """Ctrl-C inside a migration; str() says exactly what of it stays and how to go on.

    A KeyboardInterrupt still, so that everything that unwinds on Ctrl-C does so as usual."""

    def __init__(self, left_behind: str):
        super().__init__(left_behind)
        self.left_behind = left_behind


@dataclass(frozen=True)
class RunPosition:
    """Where a migration stands in this run, for failure messages."""

    applied_before: int
    run_size: int
    command_options: str


def run_migration(
    connection: psycopg.Connection, migration: Migration, target: Target, position: RunPosition
) -> None:
    """Apply one migration and record it, or raise MigrationError saying what stayed applied."""
    if migration.transactional:
        _in_one_transaction(connection, migration, target, position)
    else:
        _statement_by_statement(connection, migration, target, position)
    with database_step(target, "resetting the session after a migration", "run the migrations again"):
        reset_session(connection)


def _in_one_transaction(
    connection: psycopg.Connection, migration: Migration, target: Target, position: RunPosition
) -> None:
    step: int | str = "starting its transaction"
    try:
        with _interrupted_in_a_transaction(migration, position), connection.transaction():
            for index, statement in enumerate(migration.statements):
                step = index  # names the statement if it fails
                connection.execute(statement)
            step = "ledger"
            connection.execute(
                INSERT_LEDGER_ROW, (migration.version, migration.name, list(migration.statements))
            )
            step = "committing"
    except psycopg.Error as exc:
        lines = _what_failed(migration, step, exc, target)
        if step == "committing":
            lines.append(
                "  the connection broke while committing: check `status` to see whether it was applied"
            )
        else:
            lines.append(
                "  its transaction was rolled back: nothing from this file is in the database or the ledger"
            )
        raise MigrationError("\n".join(lines + _rest_of_run(position, _correct(migration)))) from exc


def _statement_by_statement(
    connection: psycopg.Connection, migration: Migration, target: Target, position: RunPosition
) -> None:
    done = 0
    try:
        for statement in migration.statements:
            connection.execute(statement)  # autocommit: each one commits on its own
            done += 1
    except KeyboardInterrupt:
        raise MigrationInterrupted(_interrupted_without_a_transaction(migration, done, position)) from None
    except psycopg.Error as exc:
        lines = _what_failed(migration, done, exc, target)
        lines += _left_behind(connection, migration, done)
        raise MigrationError("\n".join(lines + _rest_of_run(position, _correct(migration)))) from exc
    try:
        connection.execute(INSERT_LEDGER_ROW, (migration.version, migration.name, list(migration.statements)))
    except KeyboardInterrupt:
        # The row is one statement in autocommit: it was written whole, or not at all.
        raise MigrationInterrupted(
            f"{migration.path} (no transaction): all {len(migration.statements)} statements ran and stay, "
            f"and recording it in {LEDGER} was interrupted; {_applied_before(position)}; to go on: run "
            f"`infrakit migrate {position.command_options}` to see whether it is recorded, and if "
            f"not, {repair_command('applied', [migration.version], position.command_options)}"
        ) from None
    except psycopg.Error as exc:
        lines = _what_failed(migration, "ledger", exc, target)
        lines.append(f"  all {len(migration.statements)} statements of it ran and stay in the database")
        record = "once the cause is fixed, record the file without running it again: " + repair_command(
            "applied", [migration.version], position.command_options
        )
        raise MigrationError("\n".join(lines + _rest_of_run(position, record))) from exc


@contextmanager
def _interrupted_in_a_transaction(migration: Migration, position: RunPosition) -> Iterator[None]:
    """Ctrl-C inside the transaction: psycopg rolls it back on the way out (or the server does,
    when the connection is gone), so nothing of the file stays."""
    try:
        yield
    except MigrationInterrupted:
        raise
    except KeyboardInterrupt:
        raise MigrationInterrupted(
            f"nothing half-done was kept: {migration.path} was rolled back (nothing of it is in the database "
            f"or {LEDGER}); {_applied_before(position)}; run `infrakit migrate --apply "
            f"{position.command_options}` to apply the rest"
        ) from None


def _interrupted_without_a_transaction(migration: Migration, done: int, position: RunPosition) -> str:
    count = len(migration.statements)
    if done >= count:
        return (
            f"{migration.path} (no transaction): all {count} statements ran and stay, and it is not recorded "
            f"in {LEDGER}; {_applied_before(position)}. To go on, record it without running it again: "
            + repair_command("applied", [migration.version], position.command_options)
        )
    ran = (
        "no statement of it had finished"
        if done == 0
        else f"statement{'s 1 to ' if done > 1 else ' '}{done} of {count} "
        f"ran and stay{'s' if done == 1 else ''} "
        "in the database ("
        + "; ".join(f"{n}: {first_line(s)}" for n, s in enumerate(migration.statements[:done], 1))
        + ")"
    )
    return (
        f"{migration.path} runs without a transaction, so nothing of it was rolled back: {ran}; statement "
        f"{done + 1} ({first_line(migration.statements[done])}) was cancelled, unless it had just finished"
        + (f" ({_INVALID_INDEX})" if "CONCURRENTLY" in migration.statements[done].upper() else "")
        + "; "
        f"the file is not recorded in {LEDGER}; {_applied_before(position)}. To go on: run `python -m "
        f"infrakit migrate --apply {position.command_options}` again, which runs the file from statement 1 "
        "(each statement must be safe to run twice), or finish it by hand and record it with "
        f"{repair_command('applied', [migration.version], position.command_options)}"
    )


def _applied_before(position: RunPosition) -> str:
    n = position.applied_before
    one = n == 1
    return f"{n} migration{'' if one else 's'} applied before it in this run stay{'s' if one else ''} applied"


def _what_failed(migration: Migration, step: int | str, exc: psycopg.Error, target: Target) -> list[str]:
    kind = "" if migration.transactional else " (no-transaction)"
    lines = []
    if isinstance(step, int):
        position = exc.diag.statement_position
        line = statement_line(migration, step, int(position) if position else None)
        lines.append(
            f"migration {migration.path}{kind} failed at statement {step + 1} of "
            f"{len(migration.statements)}" + (f" (line {line})" if line else "")
        )
        lines.append(f"  statement: {first_line(migration.statements[step])}")
    elif step == "ledger":
        lines.append(f"migration {migration.path}{kind} ran, but recording it in {LEDGER} failed")
    else:
        lines.append(f"migration {migration.path}{kind} failed while {step}")
    lines.append(f"  postgres: {postgres_message(exc, target)}")
    if exc.sqlstate in _HINTS:
        lines.append(f"  hint: {_HINTS[exc.sqlstate]}")
    return lines


def _left_behind(connection: psycopg.Connection, migration: Migration, failed: int) -> list[str]:
    """What a failed no-transaction file leaves: its earlier statements, and any invalid index."""
    if failed:
        which = (
            "statement 1 of this file ran and stays"
            if failed == 1
            else f"statements 1 to {failed} of this file ran and stay"
        )
        lines = [
            f"  it runs without a transaction, so nothing was rolled back: {which} in the database:",
            *(f"    {n}: {first_line(s)}" for n, s in enumerate(migration.statements[:failed], 1)),
        ]
    else:
        lines = ["  it runs without a transaction; no earlier statement of this file ran"]
    lines.append(f"  it is not recorded in {LEDGER}: {_IDEMPOTENT}")
    lines.append(f"  {_INVALID_INDEX}")
    with suppress(psycopg.Error):  # the failure may have been the connection itself
        invalid = [row[0] for row in connection.execute(_INVALID_INDEXES).fetchall()]
        if invalid:
            drops = " ".join(f"DROP INDEX CONCURRENTLY IF EXISTS {name};" for name in invalid)
            lines.append(
                f"  invalid indexes in the database now: {', '.join(invalid)} (to drop them: {drops})"
            )
    return lines


def _correct(migration: Migration) -> str:
    return f"correct {migration.path}, then run the migrations again"


def _rest_of_run(position: RunPosition, fix: str) -> list[str]:
    not_tried = position.run_size - position.applied_before - 1
    return [
        f"  {position.applied_before} applied before this one in this run stay applied"
        + (f"; {not_tried} after it were not tried" if not_tried else ""),
        f"  fix: {fix}",
    ]
