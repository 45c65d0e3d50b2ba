"""The migrations engine on a real PostgreSQL 15: once only, all or nothing, drift-aware, safe to race."""

from __future__ import annotations

import socket
import threading
import uuid
from pathlib import Path

import psycopg
import pytest

from infrakit.bootstrap import migration_ledger
from infrakit.bootstrap.migration_ledger import target_of
from infrakit.bootstrap.migration_lock import LOCK_KEY, WAITING
from infrakit.bootstrap.migrations import (
    Migration,
    MigrationError,
    apply_migrations,
    dry_run_sql,
    load_migrations,
    migration_status,
)
from tests.conftest import ROOT
from tests.servers import PASSWORD

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
    assert f"{V2}_second.sql: applied, but there is no file with version {V2} here" in str(failure.value)
    assert "supabase migration repair --status reverted" in str(failure.value)
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


def test_a_silent_server_times_out(monkeypatch):
    monkeypatch.setattr(migration_ledger, "CONNECT_TIMEOUT_SECONDS", 2)  # libpq's minimum
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()  # accepts, never answers
        url = f"postgresql://postgres:hunter2-secret@127.0.0.1:{server.getsockname()[1]}/db"
        with pytest.raises(MigrationError) as failure:
            migration_status(url, [])
    assert "timeout" in str(failure.value) and "hunter2-secret" not in str(failure.value)


def test_an_unparsable_url_is_reported_without_echoing_it():
    with pytest.raises(MigrationError) as failure:
        migration_status(
            "postgresql://postgres:pa%zzss@127.0.0.1/db", []
        )  # checkov:skip=CKV_SECRET_4: test value
    assert "not a valid PostgreSQL connection string" in str(failure.value) and "zzss" not in str(
        failure.value
    )


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
