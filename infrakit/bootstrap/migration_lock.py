"""One migration run at a time per database, through a Postgres session advisory lock.

Two runs at once (two CI jobs, or an operator and CI) would both see a migration as pending and both
try it. The lock makes the second wait, and it reads the ledger again once it has the lock.

The key is fixed: the first 8 bytes of SHA-256("infrakit:supabase_migrations"), as a signed 64-bit
integer, which is -841015025290440873. Advisory locks are scoped to one database, so runs against
different databases of one server never wait for each other. To see who holds it:

    SELECT pid FROM pg_locks
    WHERE locktype = 'advisory' AND objsubid = 1 AND classid = 4099153226 AND objid = 1456213847;

The Supabase CLI takes no such lock: `supabase db push` at the same moment is not kept out, but the
ledger's primary key still lets only one of them record, and so apply, each migration.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import psycopg

from infrakit.bootstrap.migration_files import MigrationError
from infrakit.bootstrap.migration_ledger import Target, database_step

LOCK_NAME = "infrakit:supabase_migrations"
LOCK_KEY = int.from_bytes(hashlib.sha256(LOCK_NAME.encode()).digest()[:8], "big", signed=True)
POLL_SECONDS = 0.25  # pg_try_advisory_lock in a loop, so the wait has a limit and can be reported
WAITING = "waiting for another migration run..."


@contextmanager
def migration_lock(
    connection: psycopg.Connection,
    target: Target,
    *,
    wait_seconds: float,
    progress: Callable[[str], None],
) -> Iterator[None]:
    """Hold the migration lock for the block; wait up to `wait_seconds` for another run to let go."""
    with database_step(target, "taking the migration lock", "check that the database user may connect"):
        _acquire(connection, target, wait_seconds, progress)
    try:
        yield
    finally:
        # Closing the connection releases it too; this only frees it sooner.
        with suppress(psycopg.Error):
            connection.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def _acquire(
    connection: psycopg.Connection, target: Target, wait_seconds: float, progress: Callable[[str], None]
) -> None:
    deadline = time.monotonic() + max(wait_seconds, 0.0)
    reported = False
    while not _try_lock(connection):
        pid, holder = _holder(connection)
        if time.monotonic() >= deadline:
            raise MigrationError(
                f"another migration run still holds the migration lock on {target} after waiting "
                f"{wait_seconds:g} s ({holder}); nothing was applied\n"
                "  fix: let that run finish, then run again; if it is stuck, end its session with "
                f"SELECT pg_terminate_backend({pid or 'PID'})"
            )
        if not reported:
            progress(f"{WAITING} ({holder}; waiting up to {wait_seconds:g} s)")
            reported = True
        time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))


def _try_lock(connection: psycopg.Connection) -> bool:
    row = connection.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
    return bool(row and row[0])


def _holder(connection: psycopg.Connection) -> tuple[int | None, str]:
    """Who holds the lock, as far as this user may see: pid always, the application when visible."""
    row = connection.execute(
        "SELECT l.pid, a.application_name FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
        " AND l.classid::bigint = %s AND l.objid::bigint = %s"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        ((LOCK_KEY >> 32) & 0xFFFFFFFF, LOCK_KEY & 0xFFFFFFFF),
    ).fetchone()
    if row is None:
        return None, "its holder just let go"
    pid, application = row
    return pid, f"held by session pid {pid}" + (f", application '{application}'" if application else "")
