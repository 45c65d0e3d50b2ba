"""Migration files on disk: `supabase/migrations/<YYYYMMDDHHMMSS>_<name>.sql`, split into statements.

Files are named, split and recorded the way the Supabase CLI does it, so that `supabase db push` and
infrakit read one ledger the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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


class MigrationError(Exception):
    """Every user-facing migration failure. str() is the whole message, ready to print."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path
    statements: tuple[str, ...]

    @property
    def file_name(self) -> str:
        return self.path.name


def load_migrations(directory: Path) -> list[Migration]:
    """Every migration in `directory`, ordered by version. Files not ending in .sql are ignored."""
    if not directory.is_dir():
        raise MigrationError(
            f"migrations directory {directory} does not exist\n"
            f"  fix: create it, or run from the project root (it holds supabase/migrations/)"
        )
    migrations, problems = [], []
    for path in sorted(p for p in directory.iterdir() if p.name.endswith(".sql") and p.is_file()):
        match = FILE_PATTERN.match(path.name)
        if match is None or len(match[1]) != VERSION_DIGITS:
            problems.append(
                f"{path}: the name must be <{VERSION_DIGITS}-digit UTC version>_<name>.sql, "
                "e.g. 20261124090000_add_orders.sql"
            )
            continue
        migrations.append(
            Migration(version=match[1], name=match[2], path=path, statements=split_statements(_read(path)))
        )
    problems += _duplicate_versions(migrations)
    problems += _transaction_control(migrations)
    if problems:
        raise MigrationError(
            "invalid migration files:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
            + "\n  fix: rename or edit each file listed (`supabase migration new NAME` names new files)"
        )
    return sorted(migrations, key=lambda m: m.version)


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


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrationError(
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
        "remove it; each migration already runs in one transaction, with its ledger row"
        for migration in migrations
        for number, statement in enumerate(migration.statements, 1)
        if _MAYBE_TRANSACTION_CONTROL.search(statement)
        and _TRANSACTION_CONTROL.match(sqlparse.format(statement, strip_comments=True).strip())
    ]
