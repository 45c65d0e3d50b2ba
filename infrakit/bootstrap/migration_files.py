"""Migration files on disk: `supabase/migrations/<YYYYMMDDHHMMSS>_<name>.sql`, split into statements.

Files are named, split and recorded the way the Supabase CLI does it, so that `supabase db push` and
infrakit read one ledger the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlparse
from sqlparse import tokens

# The Supabase CLI's own pattern (pkg/migration/file.go).
FILE_PATTERN = re.compile(r"^([0-9]+)_(.*)\.sql$")
VERSION_DIGITS = 14  # YYYYMMDDHHMMSS, UTC: what `supabase migration new` writes
# A migration already runs in one transaction; one of these inside it would end that transaction
# early, and a later failure would then leave the migration half applied.
_TRANSACTION_CONTROL = re.compile(
    r"^(BEGIN|COMMIT|END|ABORT|START\s+TRANSACTION|ROLLBACK(?!\s+TO\b))\b", re.I
)
_MAYBE_TRANSACTION_CONTROL = re.compile(
    r"\b(BEGIN|COMMIT|END|ABORT|START|ROLLBACK)\b", re.I
)  # cheap pre-check
# As a file's first line: run its statements one by one, each committing on its own, for statements
# Postgres refuses inside a transaction (CREATE INDEX CONCURRENTLY, VACUUM, ALTER SYSTEM).
NO_TRANSACTION_MARKER = "-- infrakit: no-transaction"
_NO_TRANSACTION_LINE = re.compile(r"^--\s*infrakit:\s*no-transaction\s*$", re.I)


class MigrationError(Exception):
    """Every user-facing migration failure. str() is the whole message, ready to print."""


class MigrationConfigError(MigrationError):
    """The files or the command are wrong, not the database: a configuration error (exit status 2)."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path
    statements: tuple[str, ...]
    # False for a file marked `-- infrakit: no-transaction`: its statements commit one by one.
    transactional: bool = True

    @property
    def file_name(self) -> str:
        return self.path.name


def load_migrations(directory: Path, *, warn: Callable[[str], None] = lambda _: None) -> list[Migration]:
    """Every migration in `directory`, ordered by version.

    Other files are ignored, and named through `warn`: a migration saved as `.SQL` or `.sql.bak`
    would otherwise silently never run. Dotfiles (`.gitkeep`) and directories are ignored silently.
    """
    if not directory.is_dir():
        raise MigrationConfigError(
            f"migrations directory {directory} does not exist\n"
            f"  fix: create it, or run from the project root (it holds supabase/migrations/)"
        )
    candidates, ignored = _directory_entries(directory)
    if ignored:
        warn(_ignored_warning(directory, ignored))
    migrations, problems = [], []
    for path in candidates:
        match = FILE_PATTERN.match(path.name)
        if match is None or len(match[1]) != VERSION_DIGITS:
            problems.append(
                f"{path}: the name must be <{VERSION_DIGITS}-digit UTC version>_<name>.sql, "
                "e.g. 20261124090000_add_orders.sql"
            )
            continue
        text = _read(path)
        migrations.append(
            Migration(
                version=match[1],
                name=match[2],
                path=path,
                statements=split_statements(text),
                transactional=not _marked_no_transaction(text),
            )
        )
        problems += _misplaced_marker(path, text)
    problems += _duplicate_versions(migrations)
    problems += _transaction_control(migrations)
    if problems:
        raise MigrationConfigError(
            "invalid migration files:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
            + "\n  fix: rename or edit each file listed (`supabase migration new NAME` names new files)"
        )
    return sorted(migrations, key=lambda m: m.version)


def in_version_order(migrations: Sequence[Migration]) -> list[Migration]:
    """`migrations` sorted by version; refused when two share one (a caller's list, not a directory)."""
    ordered = sorted(migrations, key=lambda m: m.version)
    repeated = sorted(
        {a.version for a, b in zip(ordered, ordered[1:], strict=False) if a.version == b.version}
    )
    if repeated:
        raise MigrationConfigError(
            f"migrations share a version ({', '.join(repeated)}): each needs its own timestamp"
        )
    return ordered


def split_statements(sql: str) -> tuple[str, ...]:
    """Statements as the Supabase CLI records them: trimmed, without the closing semicolon.

    sqlparse knows dollar quotes, string literals and comments, so a `;` inside a function body
    does not split it. A trailing comment stays a statement of its own, as in the CLI's ledger.
    """
    pieces = (piece.strip().rstrip(";").strip() for piece in sqlparse.split(sql))
    return tuple(piece for piece in pieces if piece)


def canonical_statements(statements: Sequence[str]) -> tuple[str, ...]:
    """Statements without comments and with collapsed whitespace, for drift checks.

    The CLI's splitter and sqlparse attach comments to different statements, and neither a comment
    nor layout changes the database. String literals and function bodies are kept exactly.
    """
    joined = "\n;\n".join(statements)  # the newline ends a line comment before the separator
    formatted = (
        sqlparse.format(piece, strip_comments=True, strip_whitespace=True) for piece in sqlparse.split(joined)
    )
    return tuple(text for text in (piece.strip().rstrip(";").strip() for piece in formatted) if text)


def first_line(statement: str, width: int = 100) -> str:
    """The statement's first line of code (comments skipped), shortened for messages."""
    code = sqlparse.format(statement, strip_comments=True).strip() or statement.strip()
    line = code.splitlines()[0] if code else ""
    return line if len(line) <= width else line[: width - 3] + "..."


def terminated(statement: str) -> str:
    """The statement with a `;` that ends it, for a script psql can run."""
    code = sqlparse.format(statement, strip_comments=True).strip()
    if not code or code.endswith(";"):
        return statement
    flat = sqlparse.parse(statement)[0].flatten()  # type: ignore[no-untyped-call]  # sqlparse is untyped
    last = [token for token in flat if not token.is_whitespace][-1]
    # After a `-- comment` a `;` on the same line would be part of the comment.
    return f"{statement}\n;" if last.ttype in tokens.Comment.Single else f"{statement};"


def statement_line(migration: Migration, index: int, offset: int | None = None) -> int | None:
    """The line in the file where statement `index` (0-based) starts, or where `offset` in it is.

    Read again only when a statement fails; None when the file changed since it was loaded.
    """
    try:
        text = _read(migration.path)
    except MigrationError:
        return None
    position = 0
    for number, statement in enumerate(migration.statements[: index + 1]):
        found = text.find(statement, position)
        if found < 0:
            return None
        if number == index:
            inside = statement[: max(offset - 1, 0)] if offset else ""
            return text.count("\n", 0, found) + inside.count("\n") + 1
        position = found + len(statement)
    return None


def _directory_entries(directory: Path) -> tuple[list[Path], list[Path]]:
    """The `.sql` entries, and the other files, which are not migrations."""
    candidates: list[Path] = []
    ignored: list[Path] = []
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        (candidates if path.name.endswith(".sql") else ignored).append(path)
    return candidates, ignored


def _ignored_warning(directory: Path, ignored: list[Path]) -> str:
    def reason(path: Path) -> str:
        if path.name.lower().endswith(".sql"):
            return " (the extension must be lowercase .sql)"
        return ""

    return (
        f"warning: ignored {len(ignored)} file(s) in {directory} that do not end in .sql:\n"
        + "\n".join(f"  - {path}{reason(path)}" for path in ignored)
        + "\n  fix: only <version>_<name>.sql files are migrations: rename a file to that to apply it, "
        "or move it out of the directory"
    )


def _marked_no_transaction(text: str) -> bool:
    first = text.split("\n", 1)[0]
    return bool(_NO_TRANSACTION_LINE.match(first.strip()))


def _misplaced_marker(path: Path, text: str) -> list[str]:
    """The marker anywhere but line 1 would be an ordinary comment: the file would run in one
    transaction, against what its author meant."""
    return [
        f"{path}: line {number} is `{NO_TRANSACTION_MARKER}`, which counts only as the file's first "
        "line: move it to line 1, or remove it"
        for number, line in enumerate(text.splitlines()[1:], 2)
        if _NO_TRANSACTION_LINE.match(line.strip())
    ]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrationConfigError(
            f"{path}: cannot read the migration file ({exc}); save it as UTF-8 text"
        ) from None


def _duplicate_versions(migrations: list[Migration]) -> list[str]:
    by_version: dict[str, list[str]] = {}
    for migration in migrations:
        by_version.setdefault(migration.version, []).append(migration.file_name)
    return [
        f"{' and '.join(names)} share version {version}: give all but one a new timestamp"
        for version, names in by_version.items()
        if len(names) > 1
    ]


def _transaction_control(migrations: list[Migration]) -> list[str]:
    return [
        f"{migration.path}: statement {number} (`{first_line(statement)}`) controls the transaction: "
        + (
            "remove it; each migration already runs in one transaction, with its ledger row"
            if migration.transactional
            else "remove it; in a no-transaction file each statement commits on its own, so statements "
            "that must commit together belong in a migration without the marker"
        )
        for migration in migrations
        for number, statement in enumerate(migration.statements, 1)
        if _MAYBE_TRANSACTION_CONTROL.search(statement)
        and _TRANSACTION_CONTROL.match(sqlparse.format(statement, strip_comments=True).strip())
    ]
