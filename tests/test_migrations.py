"""The migrations engine on a real PostgreSQL 15: once only, all or nothing, drift-aware, safe to race."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import timeout_from_conninfo

from infrakit.bootstrap.migration_ledger import connect_timeout, target_of
from infrakit.bootstrap.migration_lock import LOCK_KEY, WAITING
from infrakit.bootstrap.migrations import (
    Migration,
    MigrationConfigError,
    MigrationError,
    apply_migrations,
    dry_run_sql,
    load_migrations,
    migration_status,
    repair_ledger,
)
from tests.conftest import ROOT
from tests.servers import PASSWORD, postgres_bindir

SHIPPED = ROOT / "supabase" / "migrations"
V1, V2, V3 = "20260101000001", "20260101000002", "20260101000003"


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return directory


def rows(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute(sql, params).fetchall()


def run(url: str, sql: str, params: tuple | None = None) -> None:
    """Execute SQL for its effect; a client-side cursor also takes several statements at once."""
    with psycopg.connect(url, autocommit=True) as connection:
        psycopg.ClientCursor(connection).execute(sql, params)


def value(url: str, sql: str, params: tuple = ()):
    return rows(url, sql, params)[0][0]


def ledger(url: str) -> list[tuple]:
    return rows(url, "SELECT version, name, statements FROM supabase_migrations.schema_migrations ORDER BY 1")


def exists(url: str, relation: str) -> bool:
    return value(url, "SELECT to_regclass(%s) IS NOT NULL", (relation,))


def new_database(postgres) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.url(), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return postgres.url(name)


THREE = {
    f"{V1}_first.sql": "CREATE TABLE first (id int);",
    f"{V2}_second.sql": "CREATE TABLE second (id int);\nINSERT INTO second VALUES (2);",
    f"{V3}_third.sql": "CREATE TABLE third (id int);",
}


# --- the shipped migrations: schema and least-privilege roles -------------------------------------


@pytest.fixture
def shipped(database_url: str) -> str:
    """The real migrations applied, then tables a later migration would add, made by the same user."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        # As a database made before PostgreSQL 15 would be: everyone may create in public.
        connection.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    applied = apply_migrations(database_url, load_migrations(SHIPPED))
    assert [m.file_name for m in applied] == sorted(p.name for p in SHIPPED.glob("*.sql"))
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("CREATE TABLE app.orders (id bigint GENERATED ALWAYS AS IDENTITY, total int)")
        connection.execute("CREATE TABLE app.jobs (id bigserial, payload text)")
    return database_url


def test_shipped_migrations_create_the_app_schema_owned_by_the_migrating_user(shipped):
    assert (
        value(shipped, "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'app'") == "postgres"
    )
    assert [row[1] for row in ledger(shipped)] == ["app_schema", "service_roles"]


@pytest.mark.parametrize("role", ["app_api", "app_worker"])
def test_service_roles_cannot_log_in_and_create_in_no_schema(shipped, role):
    assert value(shipped, "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (role,)) is False
    assert value(shipped, "SELECT has_schema_privilege(%s, 'app', 'USAGE')", (role,)) is True
    creatable = rows(
        shipped, "SELECT nspname FROM pg_namespace WHERE has_schema_privilege(%s, oid, 'CREATE')", (role,)
    )
    assert creatable == []


def test_public_schema_no_longer_lets_everyone_create(shipped):
    assert value(shipped, "SELECT has_schema_privilege('app_api', 'public', 'CREATE')") is False
    assert "=C/" not in str(value(shipped, "SELECT nspacl FROM pg_namespace WHERE nspname = 'public'"))


@pytest.mark.parametrize("role", ["app_api", "app_worker"])
def test_services_read_and_write_rows_of_tables_created_later_but_cannot_truncate(shipped, role):
    for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
        assert value(shipped, "SELECT has_table_privilege(%s, 'app.orders', %s)", (role, privilege)) is True
    for privilege in ("TRUNCATE", "REFERENCES", "TRIGGER"):
        assert value(shipped, "SELECT has_table_privilege(%s, 'app.orders', %s)", (role, privilege)) is False


def test_only_the_worker_may_draw_ids_from_sequences(shipped):
    sequence = "app.jobs_id_seq"
    assert value(shipped, "SELECT has_sequence_privilege('app_worker', %s, 'USAGE')", (sequence,)) is True
    assert value(shipped, "SELECT has_sequence_privilege('app_worker', %s, 'UPDATE')", (sequence,)) is False
    assert value(shipped, "SELECT has_sequence_privilege('app_api', %s, 'USAGE')", (sequence,)) is False


def test_api_role_really_writes_rows_but_cannot_create_tables(shipped):
    with psycopg.connect(shipped, autocommit=True) as connection:
        connection.execute("SET ROLE app_api")
        connection.execute(
            "INSERT INTO app.orders (total) VALUES (5)"
        )  # identity id: no sequence grant needed
        for ddl in ("CREATE TABLE app.sneaky (id int)", "CREATE TABLE public.sneaky (id int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute(ddl)


def test_shipped_migrations_apply_where_the_roles_already_exist(shipped, postgres):
    run(postgres.url(), "ALTER ROLE app_api LOGIN")  # someone loosened it on this server
    other = new_database(postgres)
    assert len(apply_migrations(other, load_migrations(SHIPPED))) == 2
    assert value(other, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app_api'") is False


# --- ledger and re-runs ---------------------------------------------------------------------------


def test_ledger_has_the_supabase_cli_columns_and_records_name_and_statements(database_url, tmp_path):
    sql = (
        "-- a counter\nCREATE TABLE counter (n int);\n"
        "CREATE FUNCTION bump() RETURNS void LANGUAGE plpgsql\n"
        "  AS $$ BEGIN INSERT INTO counter VALUES (1); END $$;\n"
        "SELECT bump();\nCOMMENT ON TABLE counter IS '100% counted; really'"
    )
    apply_migrations(database_url, load_migrations(write(tmp_path, {f"{V1}_counter.sql": sql})))
    columns = rows(
        database_url,
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'supabase_migrations' AND table_name = 'schema_migrations' ORDER BY 1",
    )
    assert columns == [("name", "text", "YES"), ("statements", "ARRAY", "YES"), ("version", "text", "NO")]
    primary_key = "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'supabase_migrations.schema_migrations'::regclass AND i.indisprimary"  # noqa: E501
    assert rows(database_url, primary_key) == [("version",)]
    assert ledger(database_url) == [
        (
            V1,
            "counter",
            [
                "-- a counter\nCREATE TABLE counter (n int)",
                "CREATE FUNCTION bump() RETURNS void LANGUAGE plpgsql\n"
                "  AS $$ BEGIN INSERT INTO counter VALUES (1); END $$",
                "SELECT bump()",
                "COMMENT ON TABLE counter IS '100% counted; really'",
            ],
        )
    ]
    assert value(database_url, "SELECT count(*) FROM counter") == 1


def test_a_second_run_applies_nothing_and_leaves_the_ledger_alone(database_url, tmp_path):
    migrations = load_migrations(write(tmp_path, THREE))
    assert [m.version for m in apply_migrations(database_url, migrations)] == [V1, V2, V3]
    before = ledger(database_url)
    assert apply_migrations(database_url, migrations) == []
    assert ledger(database_url) == before
    assert value(database_url, "SELECT count(*) FROM second") == 1


def test_status_before_and_after_applying(database_url, tmp_path):
    migrations = load_migrations(write(tmp_path, THREE))
    before = migration_status(database_url, migrations)
    assert (before.applied, before.pending, before.drifted, before.missing_files) == (
        (),
        tuple(migrations),
        (),
        (),
    )
    assert not exists(database_url, "supabase_migrations.schema_migrations")  # status only reads
    apply_migrations(database_url, migrations[:2])
    after = migration_status(database_url, migrations)
    assert (after.applied, after.pending) == ((V1, V2), (migrations[2],))


# --- failures roll back -----------------------------------------------------------------------------


def test_a_failing_migration_leaves_no_trace_and_says_where_and_why(database_url, tmp_path):
    directory = write(
        tmp_path,
        {
            f"{V1}_first.sql": "CREATE TABLE first (id int);",
            f"{V2}_broken.sql": (
                "-- orders\nCREATE TABLE orders (id int);\n\nINSERT INTO orders\n  SELECT id FROM nope;"
            ),
            f"{V3}_third.sql": "CREATE TABLE third (id int);",
        },
    )
    with pytest.raises(MigrationError) as failure:
        apply_migrations(database_url, load_migrations(directory))
    message = str(failure.value)
    assert f"{V2}_broken.sql failed at statement 2 of 2 (line 5)" in message
    assert "statement: INSERT INTO orders" in message
    assert 'relation "nope" does not exist' in message
    assert "1 applied before this one in this run stay applied; 1 after it were not tried" in message
    assert not exists(database_url, "orders")  # its first statement was rolled back too
    assert exists(database_url, "first") and not exists(database_url, "third")
    assert [row[0] for row in ledger(database_url)] == [V1]


def test_each_migration_runs_with_the_cli_lock_timeout_and_a_clean_session(database_url, tmp_path):
    run(database_url, "CREATE SCHEMA elsewhere")
    directory = write(
        tmp_path,
        {
            f"{V1}_path.sql": "SET search_path = elsewhere;\nSET lock_timeout = 0;",
            f"{V2}_table.sql": "CREATE TABLE placed AS SELECT current_setting('lock_timeout') AS t",
        },
    )
    apply_migrations(database_url, load_migrations(directory))
    assert exists(database_url, "public.placed") and not exists(database_url, "elsewhere.placed")
    assert value(database_url, "SELECT t FROM placed") == "4s"


# --- drift and missing files ------------------------------------------------------------------------


def test_an_edited_applied_migration_stops_the_run_before_anything_is_applied(database_url, tmp_path):
    directory = write(tmp_path, {name: THREE[name] for name in list(THREE)[:2]})
    apply_migrations(database_url, load_migrations(directory))
    (directory / f"{V1}_first.sql").write_text("CREATE TABLE first (id bigint);")
    write(directory, {f"{V3}_third.sql": THREE[f"{V3}_third.sql"]})
    migrations = load_migrations(directory)
    assert migration_status(database_url, migrations).drifted == (V1,)
    with pytest.raises(MigrationError) as failure:
        apply_migrations(database_url, migrations)
    assert f"{directory / f'{V1}_first.sql'}: changed after it was applied" in str(failure.value)
    assert f"{V2}_second" not in str(failure.value)
    assert not exists(database_url, "third") and len(ledger(database_url)) == 2


def test_comments_layout_and_the_cli_splitting_are_not_drift(database_url, tmp_path):
    sql = "-- a table\nCREATE TABLE first (id int); -- with a comment\nINSERT INTO first VALUES (1);"
    directory = write(tmp_path, {f"{V1}_first.sql": sql})
    run(database_url, sql)
    # What `supabase db push` records for this file: its splitter starts a statement after each `;`.
    cli_statements = [
        "-- a table\nCREATE TABLE first (id int)",
        "-- with a comment\nINSERT INTO first VALUES (1)",
    ]
    apply_migrations(database_url, [])  # creates the ledger
    run(
        database_url,
        "INSERT INTO supabase_migrations.schema_migrations VALUES (%s, %s, %s)",
        (V1, cli_statements, "first"),
    )
    (directory / f"{V1}_first.sql").write_text(
        sql.replace("-- a table", "-- the first table").replace(" (1)", "  (1)")
    )
    assert migration_status(database_url, load_migrations(directory)).drifted == ()
    (directory / f"{V1}_first.sql").write_text(sql.replace("(1)", "(2)"))
    assert migration_status(database_url, load_migrations(directory)).drifted == (V1,)


def test_an_applied_migration_without_its_file_is_reported(database_url, tmp_path):
    directory = write(tmp_path, {name: THREE[name] for name in list(THREE)[:2]})
    apply_migrations(database_url, load_migrations(directory))
    (directory / f"{V2}_second.sql").unlink()
    write(directory, {f"{V3}_third.sql": THREE[f"{V3}_third.sql"]})
    migrations = load_migrations(directory)
    assert migration_status(database_url, migrations).missing_files == (V2,)
    with pytest.raises(MigrationError) as failure:
        apply_migrations(database_url, migrations)
    message = str(failure.value)
    assert f"{V2}_second.sql: applied, but there is no file with version {V2} in {directory}" in message
    assert f"infrakit migrate repair --status reverted {V2} --env ENV" in message
    assert not exists(database_url, "third")


# --- concurrency ------------------------------------------------------------------------------------


def test_two_concurrent_runs_apply_each_migration_exactly_once(database_url, tmp_path):
    run(database_url, "CREATE TABLE counter (migration text)")
    directory = write(
        tmp_path,
        {
            f"{V1}_slow.sql": "INSERT INTO counter VALUES ('slow');\nSELECT pg_sleep(1);",
            f"{V2}_fast.sql": "INSERT INTO counter VALUES ('fast');",
        },
    )
    migrations = load_migrations(directory)
    start = threading.Barrier(2)
    results: list[list[Migration] | Exception] = [[], []]
    messages: list[list[str]] = [[], []]

    def migrate(index: int) -> None:
        start.wait()
        try:
            results[index] = apply_migrations(database_url, migrations, progress=messages[index].append)
        except Exception as exc:  # reported by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=migrate, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(isinstance(result, Exception) for result in results), results
    assert sorted(len(result) for result in results) == [0, 2]
    assert sorted(rows(database_url, "SELECT migration FROM counter")) == [("fast",), ("slow",)]
    assert [row[0] for row in ledger(database_url)] == [V1, V2]
    assert any(message.startswith(WAITING) for message in messages[0] + messages[1])


def test_a_run_gives_up_waiting_for_the_lock_with_a_clear_message(database_url, tmp_path):
    migrations = load_migrations(write(tmp_path, THREE))
    messages: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        with pytest.raises(MigrationError) as failure:
            apply_migrations(database_url, migrations, progress=messages.append, lock_wait_seconds=0.5)
        assert f"held by session pid {holder.info.backend_pid}" in str(failure.value)
    assert "still holds the migration lock" in str(failure.value) and "nothing was applied" in str(
        failure.value
    )
    assert messages and messages[0].startswith(WAITING)
    assert not exists(database_url, "first")


def test_the_lock_key_is_the_documented_one():
    # Operators find the lock in pg_locks by this number (see migration_lock's docstring).
    assert LOCK_KEY == -841015025290440873


# --- connection problems never show a password --------------------------------------------------------


def test_a_wrong_password_is_reported_without_either_password(postgres):
    wrong = "wrong-secret-5d1e7a"
    for call in (lambda url: apply_migrations(url, []), lambda url: migration_status(url, [])):
        with pytest.raises(MigrationError) as failure:
            call(postgres.url(password=wrong))
        message = str(failure.value)
        assert (
            "password authentication failed" in message and f"postgres@127.0.0.1:{postgres.port}" in message
        )
        assert wrong not in message and PASSWORD not in message
        assert failure.value.__cause__ is None and failure.value.__suppress_context__


def test_an_unreachable_server_is_reported_without_the_password():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        with pytest.raises(MigrationError) as failure:
            apply_migrations(
                f"postgresql://postgres:hunter2-secret@127.0.0.1:{port}/db", []
            )  # checkov:skip=CKV_SECRET_4: test value
    assert "cannot connect to the database" in str(failure.value) and "hunter2-secret" not in str(
        failure.value
    )


def test_a_silent_server_times_out_after_the_timeout_given():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()  # accepts, never answers
        url = f"postgresql://postgres:hunter2-secret@127.0.0.1:{server.getsockname()[1]}/db"
        started = time.monotonic()
        with pytest.raises(MigrationError) as failure:
            migration_status(url, [], timeout=2)
        elapsed = time.monotonic() - started
    assert 1.5 < elapsed < 4.5, elapsed
    assert "nothing answered within the 2 s timeout (--timeout)" in str(failure.value)
    assert "hunter2-secret" not in str(failure.value)


@pytest.mark.parametrize(("asked", "waited"), [(0.5, 2), (1, 2), (2, 2), (2.5, 3), (5, 5)])
def test_the_connect_timeout_is_rounded_up_to_whole_seconds_and_at_least_2(asked, waited):
    assert connect_timeout(asked) == waited
    assert timeout_from_conninfo({"connect_timeout": str(waited)}) == waited, "psycopg waits just that"


def test_psycopg_would_wait_at_least_2_s_and_take_a_fraction_below_1_as_no_limit():
    """Why infrakit rounds up: psycopg, like libpq, truncates to whole seconds, where 0 means its
    default instead of a limit, and it waits at least 2 s (what --timeout's help says)."""
    assert timeout_from_conninfo({"connect_timeout": "1"}) == 2
    assert timeout_from_conninfo({"connect_timeout": "2.9"}) == 2
    assert timeout_from_conninfo({"connect_timeout": "0.5"}) > 5


def test_an_unparsable_url_is_reported_without_echoing_it():
    with pytest.raises(MigrationError) as failure:
        migration_status(
            "postgresql://postgres@127.0.0.1/db?zzss=1", []
        )  # checkov:skip=CKV_SECRET_4: test value
    assert "not a valid PostgreSQL connection string" in str(failure.value) and "zzss" not in str(
        failure.value
    )


def test_a_stray_percent_in_the_password_is_named_without_echoing_it():
    with pytest.raises(MigrationError) as failure:
        migration_status(
            "postgresql://postgres:pa%zzss@127.0.0.1/db", []
        )  # checkov:skip=CKV_SECRET_4: test value
    message = str(failure.value)
    assert "a '%' not followed by two hex digits, which must be percent-encoded" in message
    assert "zzss" not in message


def test_supabase_transaction_pooler_is_refused_because_the_session_lock_would_not_hold():
    with pytest.raises(MigrationError) as failure:
        target_of(
            "postgresql://postgres.abcd:hunter2-secret@aws-0-eu-west-1.pooler.supabase.com:6543/postgres"
        )
    assert "port 5432" in str(failure.value) and "hunter2-secret" not in str(failure.value)


# --- files --------------------------------------------------------------------------------------------


def test_badly_named_files_are_reported_by_name_and_other_files_ignored(tmp_path):
    directory = write(
        tmp_path,
        {"create_users.sql": "", "2026_short.sql": "", f"{V1}_ok.sql": "SELECT 1;", "README.md": "notes"},
    )
    with pytest.raises(MigrationError) as failure:
        load_migrations(directory)
    assert f"{directory / 'create_users.sql'}: the name must be" in str(failure.value)
    assert f"{directory / '2026_short.sql'}: the name must be" in str(failure.value)
    assert "README.md" not in str(failure.value)


def test_duplicate_versions_are_reported(tmp_path):
    directory = write(tmp_path, {f"{V1}_a.sql": "SELECT 1;", f"{V1}_b.sql": "SELECT 2;"})
    with pytest.raises(MigrationError, match=f"{V1}_a.sql and {V1}_b.sql share version {V1}"):
        load_migrations(directory)


def test_transaction_control_inside_a_migration_is_refused(tmp_path):
    directory = write(
        tmp_path, {f"{V1}_commit.sql": "CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);"}
    )
    with pytest.raises(MigrationError, match="statement 2 \\(`COMMIT`\\) controls the transaction"):
        load_migrations(directory)


def test_files_are_ordered_by_version_and_split_like_the_cli(tmp_path):
    directory = write(
        tmp_path, {f"{V2}_b.sql": "SELECT 'a;b';\n\n;SELECT 2", f"{V1}_a.sql": "-- only a comment\n"}
    )
    first, second = load_migrations(directory)
    assert (first.version, first.name, first.statements) == (V1, "a", ("-- only a comment",))
    assert second.statements == ("SELECT 'a;b'", "SELECT 2")


# --- dry run ------------------------------------------------------------------------------------------


def test_dry_run_shows_the_statements_and_ledger_rows_and_changes_nothing(database_url, postgres, tmp_path):
    migrations = load_migrations(write(tmp_path, THREE))
    script = dry_run_sql(migration_status(database_url, migrations).pending)
    assert "CREATE TABLE second (id int);\nINSERT INTO second VALUES (2);" in script
    assert f"VALUES ('{V2}', 'second', ARRAY[" in script and script.count("BEGIN;") == 3
    assert not exists(database_url, "supabase_migrations.schema_migrations") and not exists(
        database_url, "first"
    )
    # The script is what applying runs: run by hand, it leaves the same ledger.
    by_hand = new_database(postgres)
    with psycopg.connect(by_hand, autocommit=True) as connection:
        psycopg.ClientCursor(connection).execute(script)
    apply_migrations(database_url, migrations)
    assert ledger(by_hand) == ledger(database_url)
    assert dry_run_sql([]).startswith("-- No pending migrations")


# --- files that are not migrations ------------------------------------------------------------------


def test_files_not_ending_in_sql_are_named_in_a_warning_and_ignored(tmp_path):
    directory = write(
        tmp_path,
        {
            f"{V1}_ok.sql": "CREATE TABLE ok (id int);",
            "20261124_x.SQL.bak": "CREATE TABLE never (id int);",
            "notes.txt": "notes",
            "x.sql~": "CREATE TABLE backup (id int);",
            f"{V2}_upper.SQL": "CREATE TABLE upper (id int);",
            ".gitkeep": "",
        },
    )
    (directory / "drafts").mkdir()
    (directory / "drafts" / f"{V3}_draft.sql").write_text("CREATE TABLE draft (id int);")
    warnings: list[str] = []
    migrations = load_migrations(directory, warn=warnings.append)
    assert [m.file_name for m in migrations] == [f"{V1}_ok.sql"]
    (warning,) = warnings
    named = [line.removeprefix("  - ") for line in warning.splitlines() if line.startswith("  - ")]
    assert named == [
        f"{directory / f'{V2}_upper.SQL'} (the extension must be lowercase .sql)",
        f"{directory / '20261124_x.SQL.bak'}",
        f"{directory / 'notes.txt'}",
        f"{directory / 'x.sql~'}",
    ]
    assert "fix: only <version>_<name>.sql files are migrations" in warning


def test_a_directory_of_migrations_only_gives_no_warning(tmp_path):
    directory = write(tmp_path, {f"{V1}_ok.sql": "SELECT 1;", ".gitkeep": ""})
    (directory / "subdir").mkdir()
    warnings: list[str] = []
    load_migrations(directory, warn=warnings.append)
    assert warnings == []


@pytest.mark.parametrize(
    "files",
    [
        {"create_users.sql": "SELECT 1;"},
        {f"{V1}_a.sql": "SELECT 1;", f"{V1}_b.sql": "SELECT 2;"},
        {f"{V1}_commit.sql": "SELECT 1;\nCOMMIT;"},
        {f"{V1}_marker.sql": "SELECT 1;\n-- infrakit: no-transaction\nSELECT 2;"},
    ],
    ids=["bad name", "duplicate version", "transaction control", "misplaced marker"],
)
def test_invalid_files_are_a_configuration_error(tmp_path, files):
    with pytest.raises(MigrationConfigError, match="invalid migration files"):
        load_migrations(write(tmp_path, files))


# --- out-of-order pending files ---------------------------------------------------------------------


def test_a_pending_file_older_than_the_newest_applied_is_refused_unless_include_all(database_url, tmp_path):
    directory = write(tmp_path, {f"{V1}_first.sql": THREE[f"{V1}_first.sql"], f"{V3}_third.sql": "SELECT 3;"})
    apply_migrations(database_url, load_migrations(directory))
    write(directory, {f"{V2}_second.sql": THREE[f"{V2}_second.sql"]})  # merged from an older branch
    migrations = load_migrations(directory)
    status = migration_status(database_url, migrations)
    assert [m.version for m in status.out_of_order] == [V2] and status.newest_applied == V3

    with pytest.raises(MigrationError) as failure:
        apply_migrations(database_url, migrations)
    message = str(failure.value)
    assert "nothing was applied" in message
    assert f"{directory / f'{V2}_second.sql'}: pending, but older than {V3}, the newest applied" in message
    assert "--apply --include-all" in message
    assert not exists(database_url, "second") and [row[0] for row in ledger(database_url)] == [V1, V3]

    assert [m.version for m in apply_migrations(database_url, migrations, include_all=True)] == [V2]
    assert value(database_url, "SELECT count(*) FROM second") == 1


# --- no-transaction files -----------------------------------------------------------------------------

MARKER = "-- infrakit: no-transaction"
LOCK_HELD = (
    "SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    f" AND classid::bigint = {(LOCK_KEY >> 32) & 0xFFFFFFFF} AND objid::bigint = {LOCK_KEY & 0xFFFFFFFF})"
)


def index_state(url: str, name: str) -> bool | None:
    """True for a valid index, False for an INVALID one (a failed concurrent build), None if absent."""
    found = rows(url, "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", (name,))
    return found[0][0] if found else None


@pytest.fixture
def orders(database_url: str) -> str:
    run(
        database_url, "CREATE TABLE orders (id int, email text); INSERT INTO orders VALUES (1, 'a'), (2, 'a')"
    )
    return database_url


def test_create_index_concurrently_fails_in_a_migration_and_runs_with_the_marker(orders, tmp_path):
    index = "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_id ON orders (id)"
    plain = write(tmp_path / "plain", {f"{V1}_index.sql": f"{index};"})
    with pytest.raises(MigrationError) as failure:
        apply_migrations(orders, load_migrations(plain))
    message = str(failure.value)
    assert "CREATE INDEX CONCURRENTLY cannot run inside a transaction block" in message
    assert f"make `{MARKER}` the file's first line" in message
    assert index_state(orders, "orders_id") is None and ledger(orders) == []

    sql = f"{MARKER}\n{index};\nCREATE TABLE lock_seen AS {LOCK_HELD} AS held;"
    marked = write(tmp_path / "marked", {f"{V1}_index.sql": sql})
    (migration,) = load_migrations(marked)
    assert migration.transactional is False
    apply_migrations(orders, [migration])
    assert index_state(orders, "orders_id") is True
    assert value(orders, "SELECT held FROM lock_seen") is True, "ran under the migration lock"
    assert ledger(orders) == [(V1, "index", list(migration.statements))]


def test_a_failing_no_transaction_file_says_what_ran_and_is_not_recorded(orders, tmp_path):
    sql = (
        f"{MARKER}\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_id ON orders (id);\n"
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_email ON orders (email);\n"
        "CREATE TABLE never (id int);"
    )
    directory = write(tmp_path, {f"{V1}_first.sql": "CREATE TABLE first (id int);", f"{V2}_index.sql": sql})
    with pytest.raises(MigrationError) as failure:
        apply_migrations(orders, load_migrations(directory))
    message = str(failure.value)
    assert f"{V2}_index.sql (no-transaction) failed at statement 2 of 3 (line 3)" in message
    assert "statement: CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_email" in message
    assert "could not create unique index" in message
    assert "nothing was rolled back: statement 1 of this file ran and stays in the database:\n" in message
    assert "    1: CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_id ON orders (id)" in message
    assert "it is not recorded in supabase_migrations.schema_migrations" in message
    assert "safe to run twice" in message and "DROP INDEX CONCURRENTLY IF EXISTS" in message
    assert (
        "invalid indexes in the database now: orders_email (to drop them: DROP INDEX CONCURRENTLY" in message
    )
    assert "1 applied before this one in this run stay applied" in message
    # What the message says is what the database holds.
    assert index_state(orders, "orders_id") is True
    assert index_state(orders, "orders_email") is False
    assert not exists(orders, "never")
    assert [row[0] for row in ledger(orders)] == [V1]


def test_transaction_control_is_refused_in_no_transaction_files_too(tmp_path):
    directory = write(tmp_path, {f"{V1}_tx.sql": f"{MARKER}\nBEGIN;\nSELECT 1;\nCOMMIT;"})
    with pytest.raises(MigrationConfigError, match="in a no-transaction file each statement commits"):
        load_migrations(directory)


def test_dry_run_shows_a_no_transaction_file_without_begin_and_psql_runs_it(orders, postgres, tmp_path):
    """Run through psql, which sends statements one by one as applying does; a one-string script would
    be an implicit transaction, which CREATE INDEX CONCURRENTLY refuses."""
    directory = write(
        tmp_path,
        {
            f"{V1}_first.sql": "CREATE TABLE first (id int);",
            f"{V2}_index.sql": f"{MARKER}\nCREATE INDEX CONCURRENTLY orders_id ON orders (id);",
        },
    )
    migrations = load_migrations(directory)
    script = dry_run_sql(migrations)
    index_part = script[script.index(f"-- {V2}_index.sql") :]
    assert "BEGIN;" not in index_part and "COMMIT;" not in index_part
    assert "-- no transaction: each statement commits on its own" in index_part
    assert script.count("BEGIN;") == 1
    by_hand = new_database(postgres)
    run(by_hand, "CREATE TABLE orders (id int, email text)")
    psql = subprocess.run(
        [str(postgres_bindir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", by_hand],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert psql.returncode == 0, psql.stderr
    apply_migrations(orders, migrations)
    assert ledger(by_hand) == ledger(orders)
    assert index_state(by_hand, "orders_id") is True


# --- repair -------------------------------------------------------------------------------------------


def test_repair_applied_records_the_file_without_running_it(database_url, tmp_path):
    migrations = load_migrations(write(tmp_path, THREE))
    changes = repair_ledger(database_url, migrations, "applied", [V1, V2])
    assert changes == [
        f"{V1}_first: recorded as applied, with the statements of {migrations[0].path}, which were not run",
        f"{V2}_second: recorded as applied, with the statements of {migrations[1].path}, which were not run",
    ]
    assert not exists(database_url, "first") and not exists(database_url, "second")
    assert ledger(database_url) == [
        (V1, "first", list(migrations[0].statements)),
        (V2, "second", list(migrations[1].statements)),
    ]
    assert [m.version for m in apply_migrations(database_url, migrations)] == [V3]


def test_repair_applied_accepts_an_edited_file_and_ends_the_drift(database_url, tmp_path):
    directory = write(tmp_path, {f"{V1}_first.sql": THREE[f"{V1}_first.sql"]})
    apply_migrations(database_url, load_migrations(directory))
    (directory / f"{V1}_first.sql").write_text("CREATE TABLE first (id int);\nCOMMENT ON TABLE first IS 'x';")
    migrations = load_migrations(directory)
    assert migration_status(database_url, migrations).drifted == (V1,)
    (change,) = repair_ledger(database_url, migrations, "applied", [V1])
    assert change.startswith(f"{V1}_first: was applied; its recorded name and statements are now those of")
    assert migration_status(database_url, migrations).drifted == ()
    assert value(database_url, "SELECT obj_description('first'::regclass)") is None, "the file was not run"
    assert repair_ledger(database_url, migrations, "applied", [V1]) == [
        f"{V1}_first: already recorded as applied with the statements of {migrations[0].path}; unchanged"
    ]


def test_repair_reverted_deletes_the_row_and_says_when_there_was_none(database_url, tmp_path):
    migrations = load_migrations(write(tmp_path, THREE))
    apply_migrations(database_url, migrations[:1])
    assert repair_ledger(database_url, [], "reverted", [V1, V2]) == [
        f"{V1}_first: ledger row deleted, so it counts as not applied; the schema was not changed, and "
        "--apply runs its file again if there is one",
        f"{V2}: was not recorded as applied; nothing to revert",
    ]
    assert ledger(database_url) == [] and exists(database_url, "first")


def test_repair_creates_the_ledger_and_refuses_a_version_without_a_file(database_url, tmp_path):
    migrations = load_migrations(write(tmp_path, THREE))
    with pytest.raises(
        MigrationConfigError, match=f"no migration file in {tmp_path} has version 20990101000000"
    ):
        repair_ledger(database_url, migrations, "applied", [V1, "20990101000000"])
    assert not exists(database_url, "supabase_migrations.schema_migrations"), "nothing was changed"
    repair_ledger(database_url, migrations, "reverted", [V1])
    assert exists(database_url, "supabase_migrations.schema_migrations")


def test_repair_changes_all_versions_or_none(database_url, tmp_path):
    migrations = load_migrations(write(tmp_path, THREE))
    apply_migrations(database_url, [])
    run(
        database_url,
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF NEW.version = '{V2}' THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN NEW; END $$;"
        " CREATE TRIGGER refuse BEFORE INSERT ON supabase_migrations.schema_migrations"
        " FOR EACH ROW EXECUTE FUNCTION refuse()",
    )
    with pytest.raises(MigrationError, match="refused by test"):
        repair_ledger(database_url, migrations, "applied", [V1, V2])
    assert ledger(database_url) == [], f"{V1} was rolled back with {V2}"


def test_repair_waits_for_the_migration_lock(database_url, tmp_path):
    migrations = load_migrations(write(tmp_path, THREE))
    with psycopg.connect(database_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        with pytest.raises(MigrationError, match="still holds the migration lock"):
            repair_ledger(database_url, migrations, "applied", [V1], lock_wait_seconds=0.3)
    assert not exists(database_url, "supabase_migrations.schema_migrations")
