"""The database side of migrations: one connection, and the Supabase CLI's ledger table in it.

The ledger is `supabase_migrations.schema_migrations`, created and written exactly as the Supabase CLI
does (pkg/migration/history.go), so `supabase migration list` and `supabase db push` see what infrakit
applied, and the other way round.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict

from infrakit.bootstrap.migration_files import MigrationError
from infrakit.bootstrap.redaction import redact, url_secrets, userinfo_problem

LEDGER = "supabase_migrations.schema_migrations"
LEDGER_DDL = (
    "CREATE SCHEMA IF NOT EXISTS supabase_migrations",
    f"CREATE TABLE IF NOT EXISTS {LEDGER} (version text NOT NULL PRIMARY KEY)",
    f"ALTER TABLE {LEDGER} ADD COLUMN IF NOT EXISTS statements text[]",
    f"ALTER TABLE {LEDGER} ADD COLUMN IF NOT EXISTS name text",
)
INSERT_LEDGER_ROW = f"INSERT INTO {LEDGER} (version, name, statements) VALUES (%s, %s, %s::text[])"
# What `supabase migration repair --status applied` writes: the row, or new name and statements.
UPSERT_LEDGER_ROW = (
    f"{INSERT_LEDGER_ROW} ON CONFLICT (version) DO UPDATE"
    " SET name = EXCLUDED.name, statements = EXCLUDED.statements"
)
DELETE_LEDGER_ROW = f"DELETE FROM {LEDGER} WHERE version = %s"
# The CLI's value: a migration waits at most this long for a table lock, instead of queueing
# behind a long transaction while every later query on that table queues behind it.
SET_LOCK_TIMEOUT = "SET lock_timeout = '4s'"
# Each migration starts from the same session state, whether it runs alone or after others that
# changed search_path or the role. RESET ALL keeps the values given at connect time.
RESET_SESSION = f"RESET ALL; RESET ROLE; {SET_LOCK_TIMEOUT}"
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0  # as `validate --timeout`
# libpq waits whole seconds, and at least 2 (connectDBComplete in fe-connect.c); psycopg does the same.
MINIMUM_CONNECT_TIMEOUT_SECONDS = 2
APPLICATION_NAME = "infrakit-migrations"  # shows who holds the lock, in pg_stat_activity


@dataclass(frozen=True)
class Target:
    """The database being migrated, described for messages without its password."""

    description: str
    secrets: tuple[str, ...]

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def __str__(self) -> str:
        return self.description


def target_of(database_url: str) -> Target:
    """Parse the URL (or key=value string) once, to describe it safely and to refuse poolers."""
    if "://" in database_url and (problem := userinfo_problem(database_url, "the database URL")):
        # libpq would read part of the password as the host, and its errors would print it.
        raise MigrationError(f"{problem}\n  fix: percent-encode the password in the database URL")
    try:
        params = conninfo_to_dict(database_url)
    except psycopg.Error:
        # psycopg's parse errors quote the offending part, which may be the password: not echoed.
        raise MigrationError(
            "the database URL is not a valid PostgreSQL connection string\n"
            "  fix: use postgresql://USER:PASSWORD@HOST:PORT/DB; "  # checkov:skip=CKV_SECRET_4: example
            "percent-encode special characters in the password, and use only libpq query parameters "
            "such as sslmode"
        ) from None
    host, port = str(params.get("host") or "localhost"), str(params.get("port") or "5432")
    description = f"{params.get('user') or '(default user)'}@{host}:{port}/{params.get('dbname') or ''}"
    # Every spelling of the password: psycopg's decoded one and the URL's percent-encoded ones.
    secrets = tuple(dict.fromkeys(str(s) for s in (params.get("password"), *url_secrets(database_url)) if s))
    target = Target(description=description, secrets=secrets)
    if host.endswith(".pooler.supabase.com") and port == "6543":
        raise MigrationError(
            f"{target} is Supabase's transaction pooler, which hands each transaction to any server "
            "session: the session lock that keeps two migration runs apart would not hold\n"
            "  fix: migrate through the session pooler (the same URL with port 5432) or the direct "
            "connection db.<project-ref>.supabase.co:5432"
        )
    return target


def connect_timeout(seconds: float) -> int:
    """What libpq will really wait for `seconds`: rounded up to whole seconds, and at least 2."""
    return max(MINIMUM_CONNECT_TIMEOUT_SECONDS, math.ceil(seconds))


@contextmanager
def connect(
    database_url: str, target: Target, *, timeout: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
) -> Iterator[psycopg.Connection]:
    """One autocommit connection for the whole run; each migration opens its own transaction.

    `timeout` bounds the connection only: a server that accepts TCP and never answers costs that long.
    """
    waits = connect_timeout(timeout)
    try:
        # prepare_threshold=None: no server-side prepared statements, which poolers cannot follow.
        connection = psycopg.connect(
            database_url,
            autocommit=True,
            connect_timeout=waits,
            prepare_threshold=None,
            application_name=APPLICATION_NAME,
        )
    except psycopg.Error as exc:
        # `from None`: the chained psycopg error would carry the connection string into tracebacks.
        raise MigrationError(
            f"cannot connect to the database {target}: {target.redact(str(exc)).strip()}\n"
            f"  fix: {_connect_fix(exc, waits)}"
        ) from None
    try:
        with database_step(target, "setting lock_timeout", "check the connection and run again"):
            connection.execute(SET_LOCK_TIMEOUT)
        yield connection
    finally:
        connection.close()


def _connect_fix(exc: psycopg.Error, waits: int) -> str:
    if isinstance(exc, psycopg.errors.ConnectionTimeout):
        return (
            f"nothing answered within the {waits} s timeout (--timeout): check that the host and port in "
            "the database URL are a PostgreSQL server reachable from here (a firewall that drops packets "
            "looks the same); on a slow network, raise --timeout"
        )
    return (
        "check the host, port, database name, user and password in the database URL, and that the "
        f"server accepts connections from here (timeout: {waits} s, --timeout)"
    )


@contextmanager
def database_step(target: Target, doing: str, fix: str) -> Iterator[None]:
    """Turn a database error outside any migration into a MigrationError that says what failed."""
    try:
        yield
    except psycopg.Error as exc:
        raise MigrationError(
            f"{doing} on {target} failed: {postgres_message(exc, target)}\n  fix: {fix}"
        ) from None


def postgres_message(exc: psycopg.Error, target: Target) -> str:
    """Postgres's own words (message, detail, hint), or psycopg's when the server sent none."""
    diag = exc.diag
    if not diag.message_primary:
        return target.redact(str(exc)).strip()
    parts = [diag.message_primary]
    parts += [f"detail: {diag.message_detail}"] if diag.message_detail else []
    parts += [f"hint: {diag.message_hint}"] if diag.message_hint else []
    return target.redact("\n    ".join(parts))


@dataclass(frozen=True)
class LedgerRow:
    """One applied migration as recorded. Rows written by old CLIs have no name or statements."""

    version: str
    name: str | None
    statements: tuple[str, ...] | None


def read_ledger(connection: psycopg.Connection) -> dict[str, LedgerRow]:
    """Every applied migration by version; {} when the ledger does not exist yet."""
    exists, has_statements, has_name = ledger_shape(connection)
    if not exists:
        return {}
    columns = f"version, {'name' if has_name else 'NULL'}, {'statements' if has_statements else 'NULL'}"
    rows = connection.execute(f"SELECT {columns} FROM {LEDGER}").fetchall()
    return {
        version: LedgerRow(version, name, None if statements is None else tuple(statements))
        for version, name, statements in rows
    }


def ledger_shape(connection: psycopg.Connection) -> tuple[bool, bool, bool]:
    """Whether the ledger table, its `statements` and its `name` columns exist (old CLIs lack them)."""
    row = connection.execute(
        "SELECT to_regclass(%(ledger)s) IS NOT NULL,"
        " EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass(%(ledger)s)"
        "         AND attname = 'statements' AND NOT attisdropped),"
        " EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass(%(ledger)s)"
        "         AND attname = 'name' AND NOT attisdropped)",
        {"ledger": LEDGER},
    ).fetchone() or (False, False, False)
    return bool(row[0]), bool(row[1]), bool(row[2])


def ensure_ledger(connection: psycopg.Connection) -> None:
    """Create or complete the ledger, only when needed: ALTER TABLE locks it even when it changes nothing."""
    if all(ledger_shape(connection)):
        return
    with connection.transaction():
        for statement in LEDGER_DDL:
            connection.execute(statement)


def reset_session(connection: psycopg.Connection) -> None:
    # A client-side cursor sends the three commands in one round trip (simple query protocol).
    psycopg.ClientCursor(connection).execute(RESET_SESSION)
