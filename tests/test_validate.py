"""Connection checks against real PostgreSQL and Redis servers, and Qdrant and Supabase stand-ins.

No Qdrant or Supabase server exists here: tests/standins/ holds small HTTP stand-ins serving only
the endpoints we call (see their docstrings). PostgreSQL and Redis are real servers the tests
start themselves.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time

import pytest

from infrakit.bootstrap.checks import CheckFailed, check_postgres, check_qdrant, check_redis, check_supabase
from infrakit.bootstrap.collections import connect, sync_collections
from infrakit.bootstrap.endpoints import Endpoints, load_endpoints
from infrakit.bootstrap.validate import Timing, planned_checks, run_checks
from infrakit.config.collections import CollectionSpec
from infrakit.config.loader import load_environment
from tests.conftest import ENVIRONMENTS, PYTHON, ROOT
from tests.servers import PASSWORD, REDIS_PASSWORD, postgres_server, redis_server
from tests.standins.qdrant import QdrantStandIn
from tests.standins.supabase import SupabaseStandIn

FAST = Timing(attempt_timeout=1.0, deadline=4.0)


@pytest.fixture(scope="module")
def local():
    return load_environment(ENVIRONMENTS / "local.toml")


# ----------------------------------------------------------------------------- Postgres


def test_postgres_check_reads_the_server_version(database_url):
    assert check_postgres(database_url, require_tls=False, timeout=2).startswith("PostgreSQL 15")


def test_postgres_wrong_password_fails_fast_without_revealing_either_password(postgres):
    url = postgres.url(password="definitely-wrong-pw")  # checkov:skip=CKV_SECRET_6: test value
    results = run_checks(
        {"postgres": lambda: check_postgres(url, require_tls=False, timeout=1)}, FAST, ["definitely-wrong-pw"]
    )
    (result,) = results
    assert not result.ok and result.attempts == 1
    assert result.detail == "the database rejected the credentials in DATABASE_URL"
    assert "definitely-wrong-pw" not in result.detail and PASSWORD not in result.detail


def test_cloud_postgres_must_require_tls(database_url):
    with pytest.raises(CheckFailed, match="must require TLS") as failure:
        check_postgres(database_url, require_tls=True, timeout=1)
    assert not failure.value.retryable


def test_tls_cannot_be_claimed_by_the_url_alone(database_url):
    """sslmode=require against a server without TLS must fail: the check proves the session."""
    with pytest.raises(CheckFailed):
        check_postgres(
            database_url.replace("sslmode=disable", "sslmode=require"), require_tls=True, timeout=1
        )


def test_a_stopped_server_fails_within_the_deadline_and_says_why():
    with postgres_server() as server:
        url = server.url()
        server.stop()
        timing = Timing(attempt_timeout=0.5, deadline=2.0)
        started = time.monotonic()
        (result,) = run_checks(
            {"postgres": lambda: check_postgres(url, require_tls=False, timeout=0.5)}, timing, []
        )
        elapsed = time.monotonic() - started
    assert not result.ok
    assert "cannot connect" in result.detail and "Connection refused" in result.detail
    assert result.attempts > 1, "a refused connection is retried until the deadline"
    assert elapsed < timing.deadline + 1.0


# ----------------------------------------------------------------------------- Redis


def test_redis_check_needs_noeviction(redis):
    assert "maxmemory_policy noeviction" in check_redis(redis.url(), require_tls=False, timeout=2)


def test_redis_with_an_evicting_policy_fails():
    with (
        redis_server(maxmemory_policy="allkeys-lru") as server,
        pytest.raises(
            CheckFailed, match="maxmemory_policy is allkeys-lru; the worker's queues need noeviction"
        ),
    ):
        check_redis(server.url(), require_tls=False, timeout=2)


def test_redis_wrong_password_is_not_retried(redis):
    (result,) = run_checks(
        {"redis": lambda: check_redis(redis.url(password="nope-nope"), require_tls=False, timeout=1)},
        FAST,
        [],
    )
    assert not result.ok and result.attempts == 1
    assert result.detail == "Redis rejected the password in REDIS_URL"


def test_cloud_redis_must_use_tls(redis):
    with pytest.raises(CheckFailed, match=r"rediss://"):
        check_redis(redis.url(), require_tls=True, timeout=1)


REDIS_SECRET = "redis-url-secret-9c1d"  # checkov:skip=CKV_SECRET_6: test value


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"http://default:{REDIS_SECRET}@127.0.0.1:6379/0", "REDIS_URL has the scheme http://"),
        (f"redis+sentinel://default:{REDIS_SECRET}@127.0.0.1:26379/0", "the scheme redis+sentinel://"),
        (f"default:{REDIS_SECRET}@127.0.0.1:6379", "REDIS_URL has no scheme"),
        (f"REDIS://default:{REDIS_SECRET}@127.0.0.1:6379/0", "the scheme REDIS://"),
    ],
)
def test_a_redis_url_with_another_scheme_names_the_variable_and_the_accepted_ones(url, says):
    with pytest.raises(CheckFailed) as raised:
        check_redis(url, require_tls=False, timeout=1)
    message = str(raised.value)
    assert says in message
    assert "use redis://, rediss:// or unix://" in message
    assert REDIS_SECRET not in message
    assert raised.value.retryable is False


@pytest.mark.parametrize(
    "url",
    [
        f"redis://default:{REDIS_SECRET}@127.0.0.1:notaport/0",
        f"redis://default:{REDIS_SECRET}@127.0.0.1:70000/0",
    ],
)
def test_a_redis_url_with_a_bad_port_says_so_without_the_password(url):
    with pytest.raises(CheckFailed) as raised:
        check_redis(url, require_tls=False, timeout=1)
    message = str(raised.value)
    assert message.startswith("REDIS_URL has a port that is not a number from 1 to 65535")
    assert REDIS_SECRET not in message
    assert raised.value.retryable is False


def test_an_unencoded_slash_in_the_redis_password_is_named_without_the_password():
    """An unencoded '/' ends the host early: parsers would read the rest of the password as the
    port and the path. The message names the character and its encoding, never the URL."""
    with pytest.raises(CheckFailed) as raised:
        check_redis("redis://default:pass/word-9c1d@127.0.0.1:6379/0", require_tls=False, timeout=1)
    message = str(raised.value)
    assert message.startswith("REDIS_URL: its user or password holds '/', which must be percent-encoded")
    assert "/ as %2F" in message
    assert "pass" not in message.replace("password", "") and "word-9c1d" not in message
    assert raised.value.retryable is False


def test_a_redis_url_whose_database_is_not_a_number_is_refused():
    """redis-py would quietly use database 0 instead."""
    with pytest.raises(CheckFailed, match="REDIS_URL ends in a database that is not a number"):
        check_redis(f"redis://default:{REDIS_SECRET}@127.0.0.1:6379/zero", require_tls=False, timeout=1)


def test_a_unix_socket_redis_url_is_accepted(tmp_path):
    """redis-py supports unix:// itself; only a missing socket stops the check."""
    with pytest.raises(CheckFailed, match="cannot connect") as raised:
        check_redis(f"unix://{tmp_path}/redis.sock?db=0", require_tls=False, timeout=1)
    assert raised.value.retryable is True


def test_validate_reports_a_bad_redis_url_in_its_own_words(tmp_path):
    env = {**os.environ, "REDIS_URL": f"redis+sentinel://default:{REDIS_SECRET}@127.0.0.1:26379/0"}
    result = subprocess.run(
        [PYTHON, "-m", "infrakit", "--environments-dir", str(ENVIRONMENTS),
         "validate", "--env", "local", "--service", "redis", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    (check,) = json.loads(result.stdout)["checks"]
    assert check["detail"].startswith("REDIS_URL has the scheme redis+sentinel://, which is not supported")
    assert check["attempts"] == 1
    assert "ValueError" not in result.stdout + result.stderr
    assert REDIS_SECRET not in result.stdout + result.stderr


def test_a_database_url_for_another_database_is_refused_without_the_password():
    with pytest.raises(CheckFailed) as raised:
        check_postgres(f"mysql://root:{REDIS_SECRET}@127.0.0.1/db", require_tls=False, timeout=1)
    assert str(raised.value).startswith("DATABASE_URL has the scheme mysql://, which is not supported")
    assert REDIS_SECRET not in str(raised.value)
    assert raised.value.retryable is False


def test_a_database_url_with_a_bad_port_is_not_retried():
    with pytest.raises(CheckFailed, match="DATABASE_URL has a port that is not a number") as raised:
        check_postgres(f"postgresql://u:{REDIS_SECRET}@127.0.0.1:5432x/db", require_tls=False, timeout=1)
    assert raised.value.retryable is False


# ----------------------------------------------------------------------------- Supabase (stand-in)


def test_supabase_service_role_key_is_accepted():
    with SupabaseStandIn(service_role_key="service-role-key-1234") as supabase:
        assert (
            check_supabase(supabase.url, "service-role-key-1234", timeout=2)
            == "service-role key accepted, REST reachable"
        )
        assert any(path.startswith("/auth/v1/admin/users") for path in supabase.requests)
        assert "/rest/v1/" in supabase.requests


def test_supabase_wrong_key_is_rejected_clearly():
    with (
        SupabaseStandIn(service_role_key="service-role-key-1234") as supabase,
        pytest.raises(CheckFailed, match="rejected SUPABASE_SERVICE_ROLE_KEY") as failure,
    ):
        check_supabase(supabase.url, "anon-key-not-admin", timeout=2)
    assert not failure.value.retryable


def test_supabase_timeout_is_reported_and_retryable():
    with (
        SupabaseStandIn(service_role_key="k-123456", delay_seconds=1.0) as supabase,
        pytest.raises(CheckFailed, match=r"no answer within 0.3 s") as failure,
    ):
        check_supabase(supabase.url, "k-123456", timeout=0.3)
    assert failure.value.retryable


# ----------------------------------------------------------------------------- Qdrant (stand-in)

DOCUMENTS = CollectionSpec(
    name="documents", vector_size=8, hnsw_m=32, payload_indexes={"tenant_id": "keyword"}
)


def test_qdrant_check_passes_when_collections_match_config():
    with QdrantStandIn(api_key="qdrant-key-123", mode="self_hosted") as qdrant:
        sync_collections(connect(qdrant.url, "qdrant-key-123"), [DOCUMENTS])
        assert check_qdrant(qdrant.url, "qdrant-key-123", [DOCUMENTS], timeout=2) == (
            "ready, key accepted, 1 collection(s) as configured"
        )


def test_qdrant_check_reports_a_collection_that_differs_from_config():
    with QdrantStandIn(api_key="qdrant-key-123", mode="self_hosted") as qdrant:
        sync_collections(connect(qdrant.url, "qdrant-key-123"), [DOCUMENTS])
        changed = DOCUMENTS.model_copy(update={"hnsw_m": 16})
        with pytest.raises(
            CheckFailed, match="collections differ from config: documents: mismatch"
        ) as failure:
            check_qdrant(qdrant.url, "qdrant-key-123", [changed], timeout=2)
    assert not failure.value.retryable


def test_qdrant_wrong_key_is_rejected_and_not_retried():
    with QdrantStandIn(api_key="qdrant-key-123", mode="self_hosted") as qdrant:
        (result,) = run_checks(
            {"qdrant": lambda: check_qdrant(qdrant.url, "wrong-key-456", [DOCUMENTS], timeout=2)},
            FAST,
            ["wrong-key-456"],
        )
    assert not result.ok and result.attempts == 1
    assert "rejected the API key" in result.detail and "wrong-key-456" not in result.detail


def test_qdrant_timeout_fails_within_the_deadline():
    with QdrantStandIn(api_key="qdrant-key-123", mode="self_hosted", delay_seconds=3.0) as qdrant:
        timing = Timing(attempt_timeout=1.0, deadline=2.5)
        started = time.monotonic()
        (result,) = run_checks(
            {"qdrant": lambda: check_qdrant(qdrant.url, "qdrant-key-123", [], timeout=1.0)}, timing, []
        )
        assert time.monotonic() - started < timing.deadline + 1.0
    assert not result.ok and "readyz" in result.detail


# ----------------------------------------------------------------------------- orchestration


def test_checks_run_concurrently():
    """Two checks that each wait for the other can only both pass if they run at the same time."""
    barrier = threading.Barrier(2, timeout=2)

    def meet() -> str:
        barrier.wait()
        return "met"

    results = run_checks({"postgres": meet, "redis": meet}, Timing(deadline=5), [])
    assert [r.ok for r in results] == [True, True]


def test_a_hanging_check_cannot_outlast_the_deadline():
    release = threading.Event()
    started = time.monotonic()
    results = run_checks(
        {"qdrant": lambda: str(release.wait(10)), "redis": lambda: "fine"}, Timing(deadline=1.0), []
    )
    release.set()
    assert time.monotonic() - started < 2.0
    by_service = {r.service: r for r in results}
    assert {name: r.ok for name, r in by_service.items()} == {"qdrant": False, "redis": True}
    assert by_service["qdrant"].detail == "no answer (still failing at the 1 s deadline, 1 attempts)"


def test_an_interrupt_inside_a_check_reaches_the_caller_at_once():
    """KeyboardInterrupt in a check thread is raised in the caller, not printed by the thread."""
    release = threading.Event()

    def interrupted() -> str:
        raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_checks({"qdrant": lambda: str(release.wait(10)), "redis": interrupted}, Timing(deadline=5), [])
    release.set()
    assert time.monotonic() - started < 1.0


def test_a_hanging_attempt_does_not_keep_the_command_running_past_the_deadline(tmp_path):
    """The process ends at the deadline, not when the hanging attempt's own 20 s timeout ends."""
    with socket.socket() as silent:  # completes the TCP handshake from its backlog, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        env = {**os.environ, "REDIS_URL": f"redis://:p@127.0.0.1:{silent.getsockname()[1]}/0"}
        started = time.monotonic()
        result = subprocess.run(
            [PYTHON, "-m", "infrakit", "--environments-dir", str(ENVIRONMENTS), "validate",
             "--env", "local", "--service", "redis", "--json", "--timeout", "20", "--deadline", "1"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        seconds = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["checks"][0]["detail"].startswith("no answer (still failing at the 1 s")
    assert seconds < 6, f"took {seconds:.1f} s: the process waited for the hanging attempt"


def test_services_the_environment_does_not_define_are_never_checked(local):
    endpoints = Endpoints(
        database_url="postgresql://x", supabase_url="https://x", supabase_service_role_key="k"
    )
    assert set(planned_checks(local, endpoints, 1.0)) == {"postgres", "redis", "qdrant"}
    assert set(planned_checks(local, endpoints, 1.0, only=["redis"])) == {"redis"}


def test_a_service_without_an_endpoint_says_how_to_provide_one(local):
    plan = planned_checks(local, Endpoints(), 1.0)
    assert plan["redis"] == "no endpoint: deploy the stack, or set REDIS_URL"


# ----------------------------------------------------------------------------- endpoints


def test_environment_variables_override_stack_outputs(tmp_path):
    outputs = {"database_url": "postgresql://from-output", "redis_url": "redis://from-output"}
    endpoints = load_endpoints(
        "local",
        project_root=tmp_path,
        environ={"REDIS_URL": "redis://from-env"},
        read_outputs=lambda env, root, environ: outputs,
    )
    assert endpoints.database_url == "postgresql://from-output"
    assert endpoints.redis_url == "redis://from-env"
    assert endpoints.sources == {"database_url": "stack output", "redis_url": "$REDIS_URL"}


def test_stack_outputs_are_read_with_terraform_output_json(tmp_path):
    stack = tmp_path / "cdktf.out" / "stacks" / "local"
    (stack / ".terraform").mkdir(parents=True)
    fake = tmp_path / "fake-terraform"
    fake.write_text(
        "#!/bin/sh\n"
        '[ "$1 $2" = "output -json" ] || exit 9\n'
        'echo \'{"redis_url": {"sensitive": true, "type": "string", "value": "redis://:pw@h:1/0"}}\'\n'
    )
    fake.chmod(0o755)
    endpoints = load_endpoints("local", project_root=tmp_path, environ={"TERRAFORM_BINARY_NAME": str(fake)})
    assert endpoints.redis_url == "redis://:pw@h:1/0"
    assert endpoints.secrets() == ["pw"]


# ----------------------------------------------------------------------------- the command


def test_validate_command_prints_a_table_json_and_no_secret(database_url, redis, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis.url(),
        "QDRANT_URL": "http://127.0.0.1:9",  # nothing listens: the qdrant check must fail
        "QDRANT_API_KEY": "qdrant-key-abcdef",  # checkov:skip=CKV_SECRET_6: test value
        "PYTHONPATH": str(ROOT),  # this checkout's infrakit
    }
    result = subprocess.run(
        [
            PYTHON,
            "-m",
            "infrakit",
            "--environments-dir",
            str(ENVIRONMENTS),
            "validate",
            "--env",
            "local",
            "--json",
            "--timeout",
            "0.5",
            "--deadline",
            "3",
        ],
        cwd=tmp_path,  # not the project: its cdktf.out may hold a stack deployed or destroyed earlier
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert {c["service"]: c["ok"] for c in report["checks"]} == {
        "postgres": True,
        "redis": True,
        "qdrant": False,
    }
    assert "connection checks" in result.stderr and "FAILED" in result.stderr
    for secret in (PASSWORD, REDIS_PASSWORD, "qdrant-key-abcdef"):
        assert secret not in result.stdout + result.stderr


def test_a_cloud_environment_plans_every_service_with_tls_and_its_collections():
    dev = load_environment(ENVIRONMENTS / "dev.toml")
    endpoints = Endpoints(
        database_url="postgresql://u:p@db.example:5432/postgres?sslmode=require",
        redis_url="rediss://:p@cache.example:6379/0",
        qdrant_url="https://qdrant.example:6333",
        qdrant_api_key="k",
        supabase_url="https://ref.supabase.co",
        supabase_service_role_key="s",
    )
    plan = planned_checks(dev, endpoints, 1.0)
    assert set(plan) == {"postgres", "redis", "qdrant", "supabase"}
    assert plan["postgres"].keywords["require_tls"] is True
    assert plan["redis"].keywords["require_tls"] is True
    assert [c.name for c in plan["qdrant"].args[2]] == ["documents"]
