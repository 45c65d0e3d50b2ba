"""`migrate repair`: set the ledger straight without running any migration.

The same command as `supabase migration repair --status applied|reverted VERSION...`, for operators
without the Supabase CLI:

- `applied` records each version as applied, with the name and statements of its local file, as
  applying it would have; for a version already recorded, it replaces the recorded name and
  statements with the file's, which is how an edited file is accepted.
- `reverted` deletes each version's row; the schema is not touched.

All versions change together in one transaction, under the migration lock, so a repair never
interleaves with a run applying migrations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import psycopg

from infrakit.bootstrap.migration_files import Migration, MigrationConfigError, in_version_order
from infrakit.bootstrap.migration_ledger import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DELETE_LEDGER_ROW,
    LEDGER,
    UPSERT_LEDGER_ROW,
    LedgerRow,
    connect,
    database_step,
    ensure_ledger,
    read_ledger,
    target_of,
)
from infrakit.bootstrap.migration_lock import migration_lock

RepairStatus = Literal["applied", "reverted"]


def repair_ledger(
    database_url: str,
    migrations: Sequence[Migration],
    status: RepairStatus,
    versions: Sequence[str],
    *,
    progress: Callable[[str], None] = lambda _: None,
    lock_wait_seconds: float = 60.0,
    timeout: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
) -> list[str]:
    """Change the ledger rows of `versions`; returns one line per version saying what changed."""
    local = {migration.version: migration for migration in in_version_order(migrations)}
    wanted = list(dict.fromkeys(versions))  # each once, in the order given
    if status == "applied":
        _refuse_versions_without_files(wanted, local, migrations)
    target = target_of(database_url)
    with (
        connect(database_url, target, timeout=timeout) as connection,
        migration_lock(connection, target, wait_seconds=lock_wait_seconds, progress=progress),
        database_step(target, f"repairing {LEDGER}", "repair as the database owner (on Supabase: postgres)"),
        connection.transaction(),
    ):
        ensure_ledger(connection)
        ledger = read_ledger(connection)
        if status == "applied":
            return [_record_applied(connection, local[v], ledger.get(v)) for v in wanted]
        return [_record_reverted(connection, v, ledger.get(v)) for v in wanted]


def _refuse_versions_without_files(
    wanted: list[str], local: dict[str, Migration], migrations: Sequence[Migration]
) -> None:
    unknown = [v for v in wanted if v not in local]
    if not unknown:
        return
    where = migrations[0].path.parent if migrations else "the migrations directory"
    raise MigrationConfigError(
        f"no migration file in {where} has version {', '.join(unknown)}; nothing was changed\n"
        "  fix: `--status applied` records a local file's statements, so the file must be here (check "
        "the version, and --migrations-dir); to drop a version that has no file, use --status reverted"
    )


def _record_applied(connection: psycopg.Connection, migration: Migration, row: LedgerRow | None) -> str:
    label = f"{migration.version}_{migration.name}"
    if row is not None and (row.name, row.statements) == (migration.name, migration.statements):
        return f"{label}: already recorded as applied with the statements of {migration.path}; unchanged"
    connection.execute(UPSERT_LEDGER_ROW, (migration.version, migration.name, list(migration.statements)))
    if row is None:
        return f"{label}: recorded as applied, with the statements of {migration.path}, which were not run"
    return (
        f"{label}: was applied; its recorded name and statements are now those of {migration.path} "
        "(the file was not run)"
    )


def _record_reverted(connection: psycopg.Connection, version: str, row: LedgerRow | None) -> str:
    if row is None:
        return f"{version}: was not recorded as applied; nothing to revert"
    connection.execute(DELETE_LEDGER_ROW, (version,))
    return (
        f"{version}_{row.name or '*'}: ledger row deleted, so it counts as not applied; the schema was not "
        "changed, and --apply runs its file again if there is one"
    )
