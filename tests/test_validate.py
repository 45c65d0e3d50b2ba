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

import httpx
import pytest

from infrakit.bootstrap.checks import CheckFailed, check_postgres, check_qdrant, check_redis, check_supabase
from infrakit.bootstrap.collections import connect, sync_collections
from infrakit.bootstrap.endpoints import Endpoints, load_endpoints
from infrakit.bootstrap.redaction import redact
from infrakit.bootstrap.validate import Timing, planned_checks, run_checks
from infrakit.config.collections import CollectionSpec
from infrakit.config.loader import load_environment
from tests.conftest import ENDPOINT_VARIABLES, ENVIRONMENTS, PYTHON, ROOT
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


SECRET_KEY = "sb_secret_validate-test-4f9c2a81"  # checkov:skip=CKV_SECRET_6: test value
PUBLISHABLE_KEY = "sb_publishable_validate-test-7d1e05"  # checkov:skip=CKV_SECRET_6: test value
LEGACY_JWT_KEY = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2ln"  # checkov:skip=CKV_SECRET_9: test value


@pytest.fixture
def supabase():
    with SupabaseStandIn(secret_key=SECRET_KEY, publishable_key=PUBLISHABLE_KEY) as stand_in:
        yield stand_in


def sent(stand_in: SupabaseStandIn) -> list[dict[str, str | None]]:
    """The credentials each request carried, by header."""
    return [{"apikey": h.get("apikey"), "authorization": h.get("authorization")} for h in stand_in.headers]


def test_supabase_secret_key_is_accepted_in_apikey_alone(supabase):
    """The check passes with the secret key, sending it in `apikey` and never in Authorization.

    Cannot prove: that hosted Supabase accepts it; the stand-in answers as its docstring cites."""
    assert check_supabase(supabase.url, SECRET_KEY, timeout=2) == (
        "secret key accepted by the auth admin API, REST reachable"
    )
    assert [r.partition("?")[0] for r in supabase.requests] == ["/auth/v1/admin/users", "/rest/v1/"]
    assert sent(supabase) == [{"apikey": SECRET_KEY, "authorization": None}] * 2


def test_the_old_headers_are_refused_with_the_new_keys(supabase):
    """The old way, the key in `apikey` and in `Authorization: Bearer`, fails on both endpoints:
    403 bad_jwt from the auth admin API, 401 PGRST301 from PostgREST.

    Cannot prove: that hosted Supabase answers with these exact bodies (supabase/supabase-js#1568,
    supabase/supabase-py#1230 report them); only that the stand-in refuses what the check used to send."""
    old = {
        "apikey": SECRET_KEY,
        "Authorization": f"Bearer {SECRET_KEY}",
        "X-Supabase-Api-Version": "2024-01-01",
    }
    admin = httpx.get(f"{supabase.url}/auth/v1/admin/users?page=1&per_page=1", headers=old, timeout=2)
    assert admin.status_code == 403 and admin.json()["code"] == "bad_jwt"
    rest = httpx.get(f"{supabase.url}/rest/v1/", headers=old, timeout=2)
    assert rest.status_code == 401
    assert rest.json()["code"] == "PGRST301" and rest.json()["message"] == "Expected 3 parts in JWT; got 1"


def test_supabase_py_create_client_sends_the_old_headers_and_is_refused(supabase):
    """Why the check does not use `create_client`: supabase-py 2.34.1 sends the key as a Bearer
    token too, and the auth admin API refuses it.

    Cannot prove: anything about another supabase-py version (supabase/supabase-py#977 proposes to
    stop sending non-JWT keys as Bearer)."""
    from supabase_auth.errors import AuthApiError

    from supabase import create_client

    with pytest.raises(AuthApiError) as refused:
        create_client(supabase.url, SECRET_KEY).auth.admin.list_users(page=1, per_page=1)
    assert (refused.value.status, refused.value.code) == (403, "bad_jwt")
    assert sent(supabase) == [{"apikey": SECRET_KEY, "authorization": f"Bearer {SECRET_KEY}"}]


def test_the_secret_key_only_in_authorization_finds_no_api_key(supabase):
    """Without `apikey`, the gateway answers 401 with sb-error-code UNAUTHORIZED_MISSING_API_KEY.

    Cannot prove: more of the real gateway than the Supabase KB article the stand-in cites."""
    response = httpx.get(
        f"{supabase.url}/auth/v1/admin/users", headers={"Authorization": f"Bearer {SECRET_KEY}"}, timeout=2
    )
    assert response.status_code == 401
    assert response.headers["sb-error-code"] == "UNAUTHORIZED_MISSING_API_KEY"
    assert response.json()["message"] == "No API key found in request"


def test_the_publishable_key_cannot_list_users_or_read_the_rest_root(supabase):
    """The publishable key, alone in `apikey`: 403 not_admin from the auth admin API, 403 at /rest/v1/.

    Cannot prove: that hosted Supabase answers so; the stand-in's docstring says which part is cited
    and which is an assumption."""
    key = {"apikey": PUBLISHABLE_KEY}
    admin = httpx.get(f"{supabase.url}/auth/v1/admin/users", headers=key, timeout=2)
    assert admin.status_code == 403 and admin.json()["error_code"] == "not_admin"
    assert httpx.get(f"{supabase.url}/rest/v1/", headers=key, timeout=2).status_code == 403


def test_supabase_wrong_key_is_rejected_clearly(supabase):
    """Cannot prove: which body hosted Supabase sends for an unknown sb_secret_ key (see the stand-in)."""
    wrong = "sb_secret_not-this-project-5e6f"  # checkov:skip=CKV_SECRET_6: test value
    with pytest.raises(CheckFailed, match=r"rejected SUPABASE_SECRET_KEY .* \(HTTP 401\)") as failure:
        check_supabase(supabase.url, wrong, timeout=2)
    assert "`supabase_secret_key` stack output" in str(failure.value)
    assert wrong not in str(failure.value)
    assert not failure.value.retryable


@pytest.mark.parametrize(
    ("key", "says"),
    [
        (LEGACY_JWT_KEY, "holds a legacy JWT API key"),
        (PUBLISHABLE_KEY, "holds a publishable key (sb_publishable_...)"),
        (f"{SECRET_KEY}\n", "holds whitespace or a character an HTTP header cannot carry"),
    ],
    ids=["legacy JWT", "publishable", "line break"],
)
def test_a_key_that_cannot_be_the_secret_key_is_refused_before_any_request(supabase, key, says):
    """Cannot prove: that every legacy key has this shape (three dot-separated parts, `eyJ` first);
    another shape reaches Supabase, which refuses it."""
    with pytest.raises(CheckFailed) as failure:
        check_supabase(supabase.url, key, timeout=2)
    message = str(failure.value)
    assert message.startswith(f"SUPABASE_SECRET_KEY (or the `supabase_secret_key` stack output) {says}")
    assert "`supabase_secret_key` stack output" in message.partition(says)[2]
    assert key.strip() not in message
    assert not failure.value.retryable
    assert supabase.requests == []


def test_a_refusal_from_supabase_is_reported_as_what_to_fix(supabase, monkeypatch):
    """A publishable key that got past the check's own look at the key reaches Supabase, and is
    reported as not admin, with the key to use, and not retried.

    Cannot prove: hosted Supabase's reason code for it (not_admin is the stand-in's assumption)."""
    from infrakit.bootstrap import checks

    monkeypatch.setattr(checks, "supabase_key_problem", lambda key: None)
    (result,) = run_checks(
        {"supabase": lambda: check_supabase(supabase.url, PUBLISHABLE_KEY, timeout=2)},
        FAST,
        [PUBLISHABLE_KEY],
    )
    assert not result.ok and result.attempts == 1
    assert result.detail.startswith(
        "SUPABASE_SECRET_KEY (or the `supabase_secret_key` stack output) is not allowed to call the auth "
        "admin API (HTTP 403, not_admin): it is not a secret key; use the secret key (sb_secret_...)"
    )


def drop_apikey(request: httpx.Request) -> None:
    del request.headers["apikey"]


def add_authorization(request: httpx.Request) -> None:
    request.headers["Authorization"] = f"Bearer {SECRET_KEY}"


@pytest.mark.parametrize(
    ("on_the_way", "says"),
    [
        (
            drop_apikey,
            "found no API key in the request to the auth admin API (HTTP 401, UNAUTHORIZED_MISSING_API_KEY)",
        ),
        (add_authorization, "not a valid JWT at the auth admin API (HTTP 403, bad_jwt)"),
    ],
    ids=["apikey dropped", "Authorization added"],
)
def test_a_header_changed_on_the_way_is_named_in_the_refusal(supabase, monkeypatch, on_the_way, says):
    """Something between the check and Supabase (here an httpx request hook) drops `apikey` or adds
    Authorization: the message names Supabase's reason, and the key stays out of it.

    Cannot prove: that a real proxy does either; only how each of Supabase's reasons is reported."""
    # check_supabase imports supabase_auth on first use, which binds httpx.Client by value
    # (`from httpx import Client`). Imported under the patch below, every later supabase_auth client
    # in this worker would drop `apikey` too: import it first.
    from supabase_auth._sync import gotrue_base_api

    real_client = httpx.Client
    assert gotrue_base_api.Client is real_client
    monkeypatch.setattr(
        httpx, "Client", lambda **kw: real_client(event_hooks={"request": [on_the_way]}, **kw)
    )
    with pytest.raises(CheckFailed) as failure:
        check_supabase(supabase.url, SECRET_KEY, timeout=2)
    assert says in str(failure.value) and SECRET_KEY not in str(failure.value)
    assert not failure.value.retryable


def test_supabase_timeout_is_reported_and_retryable():
    """Cannot prove: how long hosted Supabase takes; a slow stand-in stands for a slow network."""
    with (
        SupabaseStandIn(
            secret_key=SECRET_KEY, publishable_key=PUBLISHABLE_KEY, delay_seconds=1.0
        ) as supabase,
        pytest.raises(CheckFailed, match=r"no answer within 0.3 s") as failure,
    ):
        check_supabase(supabase.url, SECRET_KEY, timeout=0.3)
    assert failure.value.retryable


def test_a_supabase_url_without_http_is_refused_without_a_request():
    """Cannot prove: that the URL points at the right project; only that it could be reached."""
    with pytest.raises(
        CheckFailed, match=r"SUPABASE_URL \(or the `supabase_url` stack output\) has no scheme"
    ):
        check_supabase("ref.supabase.co", SECRET_KEY, timeout=1)


def test_validate_command_checks_supabase_with_supabase_secret_key(supabase, tmp_path):
    """`infrakit validate --service supabase` reads SUPABASE_SECRET_KEY, passes, and never prints it.
    The legacy variable alone is not read.

    Cannot prove: that the stack outputs `supabase_secret_key` (the stack's own tests do)."""
    environ = {k: v for k, v in os.environ.items() if k not in ENDPOINT_VARIABLES} | {"PYTHONPATH": str(ROOT)}
    command = [PYTHON, "-m", "infrakit", "--environments-dir", str(ENVIRONMENTS),
               "validate", "--env", "dev", "--service", "supabase", "--json"]  # fmt: skip
    passed = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env=environ | {"SUPABASE_URL": supabase.url, "SUPABASE_SECRET_KEY": SECRET_KEY},
    )  # fmt: skip
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert SECRET_KEY not in passed.stdout + passed.stderr
    legacy = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env=environ | {"SUPABASE_URL": supabase.url, "SUPABASE_SERVICE_ROLE_KEY": LEGACY_JWT_KEY},
    )  # fmt: skip
    assert legacy.returncode == 1
    assert LEGACY_JWT_KEY not in legacy.stdout + legacy.stderr
    (check,) = json.loads(legacy.stdout)["checks"]
    assert check["detail"].startswith(
        "no endpoint: deploy the stack, or set SUPABASE_URL and SUPABASE_SECRET_KEY"
    )


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
        database_url="postgresql://x", supabase_url="https://x", supabase_secret_key="sb_secret_k"
    )
    # local has [graph]: neo4j is planned too (and fails for want of NEO4J_URI).
    assert set(planned_checks(local, endpoints, 1.0)) == {"postgres", "redis", "qdrant", "neo4j"}
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


def test_the_supabase_secret_key_is_read_and_redacted_and_the_old_names_are_not(tmp_path):
    """`supabase_secret_key` (or SUPABASE_SECRET_KEY) is the key the check gets, and a secret for
    redaction; the publishable key and the legacy service-role output are not read.

    Cannot prove: that the deployed stack has these outputs (the stack's own tests do)."""
    legacy = "eyJsegacy.eyJrole.sig"  # checkov:skip=CKV_SECRET_6: test value
    outputs = {
        "supabase_url": "https://ref.supabase.co",
        "supabase_secret_key": SECRET_KEY,
        "supabase_publishable_key": PUBLISHABLE_KEY,
        "supabase_service_role_key": legacy,
    }
    endpoints = load_endpoints(
        "dev", project_root=tmp_path, environ={}, read_outputs=lambda env, root, environ: outputs
    )
    assert endpoints.supabase_secret_key == SECRET_KEY
    assert endpoints.sources["supabase_secret_key"] == "stack output"
    assert endpoints.secrets() == [SECRET_KEY]
    assert PUBLISHABLE_KEY not in vars(endpoints).values() and legacy not in vars(endpoints).values()
    assert redact(f"apikey: {SECRET_KEY}", endpoints.secrets()) == "apikey: ***"
    overridden = load_endpoints(
        "dev",
        project_root=tmp_path,
        environ={"SUPABASE_SECRET_KEY": "sb_secret_from-env-91ab"},  # checkov:skip=CKV_SECRET_6: test value
        read_outputs=lambda env, root, environ: outputs,
    )
    assert overridden.supabase_secret_key == "sb_secret_from-env-91ab"
    assert overridden.sources["supabase_secret_key"] == "$SUPABASE_SECRET_KEY"


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
        "neo4j": False,  # local has [graph], and no NEO4J_URI is set
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
        supabase_secret_key="sb_secret_s",
    )
    plan = planned_checks(dev, endpoints, 1.0)
    assert set(plan) == {"postgres", "redis", "qdrant", "supabase", "neo4j"}
    assert plan["postgres"].keywords["require_tls"] is True
    assert plan["redis"].keywords["require_tls"] is True
    assert [c.name for c in plan["qdrant"].args[2]] == ["documents"]
