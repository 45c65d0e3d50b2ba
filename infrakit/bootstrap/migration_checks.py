"""The ledger compared with the files: what is pending, and what must be settled before applying.

Three disagreements stop `--apply` and make `migrate` (status) exit 1, as `supabase db push` does:

- drift: an applied migration whose file now holds other statements;
- a missing file: a version in the ledger with no file here (the CLI's "remote only");
- out of order: a pending file older than the newest applied one, which `supabase db push` refuses
  unless it is given `--include-all`, because it was probably written before a migration that
  already ran, and its author never saw them run in this order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from infrakit.bootstrap.migration_files import Migration, canonical_statements
from infrakit.bootstrap.migration_ledger import LEDGER, LedgerRow

# How messages spell the fix commands; the CLI passes the real environment instead of ENV.
DEFAULT_COMMAND_OPTIONS = "--env ENV"


@dataclass(frozen=True)
class MigrationStatus:
    """The ledger compared with the files. `applied`, `drifted` and `missing_files` hold versions.

    `applied` is every version in the ledger. `drifted` are applied versions whose file now holds
    other statements. `missing_files` are applied versions with no file here (the CLI's "remote only").
    `out_of_order` are the pending migrations older than the newest applied version.
    """

    applied: tuple[str, ...]
    pending: tuple[Migration, ...]
    drifted: tuple[str, ...]
    missing_files: tuple[str, ...]
    out_of_order: tuple[Migration, ...] = ()
    files: Mapping[str, Migration] = field(default_factory=dict)  # by version
    recorded_names: Mapping[str, str | None] = field(default_factory=dict)  # by version, from the ledger
    database: str = "the database"  # described without its password

    @property
    def newest_applied(self) -> str | None:
        return self.applied[-1] if self.applied else None


@dataclass(frozen=True)
class Finding:
    """One kind of disagreement: each file it concerns with what is wrong, and the fix for all."""

    items: tuple[str, ...]
    fix: str

    def __str__(self) -> str:
        return "\n".join([*(f"  - {item}" for item in self.items), f"  fix: {self.fix}"])


def compare(ledger: Mapping[str, LedgerRow], ordered: Sequence[Migration]) -> MigrationStatus:
    local = {migration.version: migration for migration in ordered}
    applied = tuple(sorted(ledger))
    pending = tuple(m for m in ordered if m.version not in ledger)
    return MigrationStatus(
        applied=applied,
        pending=pending,
        drifted=tuple(v for v in applied if v in local and _differs(ledger[v], local[v])),
        missing_files=tuple(v for v in applied if v not in local),
        out_of_order=tuple(m for m in pending if applied and m.version < applied[-1]),
        files=local,
        recorded_names={version: row.name for version, row in ledger.items()},
    )


def findings(
    status: MigrationStatus,
    *,
    include_all: bool = False,
    directory: Path | None = None,
    command_options: str = DEFAULT_COMMAND_OPTIONS,
) -> list[Finding]:
    """What stops `--apply`, each with its fix; [] when it may go ahead."""
    found = []
    if status.drifted:
        found.append(_drift(status, command_options))
    if status.missing_files:
        found.append(_missing_files(status, directory, command_options))
    if status.out_of_order and not include_all:
        found.append(_out_of_order(status, command_options))
    return found


def refusal(found: Sequence[Finding], database: str) -> str:
    """The message of an --apply (or --dry-run) that the findings stopped."""
    return f"nothing was applied to {database}; first settle these:\n" + "\n".join(map(str, found))


def status_report(status: MigrationStatus, found: Sequence[Finding]) -> str:
    """What `migrate` without an action prints: counts, each pending file, then the findings."""
    newest = f" (newest applied: {status.newest_applied})" if status.newest_applied else ""
    lines = [f"{status.database}: {len(status.applied)} applied, {len(status.pending)} pending{newest}"]
    for migration in status.pending:
        note = ""
        if migration in status.out_of_order:
            note = " (older than the newest applied; only --include-all applies it)"
        lines.append(f"  pending: {migration.file_name}{note}")
    if found:
        lines.append("--apply applies nothing until these are settled:")
        lines += map(str, found)
    return "\n".join(lines)


def repair_command(status: str, versions: Sequence[str], command_options: str) -> str:
    return f"`infrakit migrate repair --status {status} {' '.join(versions)} {command_options}`"


def _differs(row: LedgerRow, migration: Migration) -> bool:
    """Drift: the file's statements are not those recorded when it was applied.

    Rows recorded without statements (very old CLIs) cannot be checked and count as matching.
    Comments and layout do not count, since the CLI splits a file a little differently.
    """
    if row.statements is None or row.statements == migration.statements:
        return False
    return canonical_statements(row.statements) != canonical_statements(migration.statements)


def _drift(status: MigrationStatus, command_options: str) -> Finding:
    return Finding(
        items=tuple(
            f"{status.files[v].path}: changed after it was applied "
            f"(its statements differ from those recorded in {LEDGER})"
            for v in status.drifted
        ),
        fix="never edit an applied migration: restore the file (`git log -p FILE` shows the change) and "
        "make the change in a new migration (`supabase migration new NAME`); if the database already has "
        "the file's new content, record the file as it is now, without running it: "
        + repair_command("applied", status.drifted, command_options),
    )


def _missing_files(status: MigrationStatus, directory: Path | None, command_options: str) -> Finding:
    where = directory or "the migrations directory"
    return Finding(
        items=tuple(
            f"{v}_{status.recorded_names.get(v) or '*'}.sql: applied, but there is no file with version {v} "
            f"in {where}"
            for v in status.missing_files
        ),
        fix="get the missing files (pull the branch that added them); if one was removed on purpose, "
        "drop its ledger row (the schema is not changed): "
        + repair_command("reverted", status.missing_files, command_options),
    )


def _out_of_order(status: MigrationStatus, command_options: str) -> Finding:
    return Finding(
        items=tuple(
            f"{m.path}: pending, but older than {status.newest_applied}, the newest applied migration"
            for m in status.out_of_order
        ),
        fix="to apply it after the newer migrations already applied, run "
        f"`infrakit migrate --apply --include-all {command_options}` (as "
        "`supabase db push --include-all` does); or rename it with a timestamp newer than "
        f"{status.newest_applied}, so that it sorts last",
    )
