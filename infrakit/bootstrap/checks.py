"""One connection check per service. Each returns a short detail on success or raises CheckFailed.

Failures say whether trying again could help: a refused connection or a timeout may clear while
a service starts; a rejected credential or a wrong setting will not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import redis

from infrakit.bootstrap.errors import OperatorError
from infrakit.bootstrap.redaction import userinfo_problem
from infrakit.config.collections import CollectionSpec

if TYPE_CHECKING:
    from infrakit.bootstrap.collections import CollectionReport


class CheckFailed(OperatorError):
    """One connection check failed; every check says whether waiting may help."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message, retryable=retryable)


TLS_SSLMODES = ("require", "verify-ca", "verify-full")
# What redis-py's from_url accepts, compared as it does: case-sensitive prefixes.
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
# Server answers that no retry can change (a name resolution failure may clear right after a
# deploy, while DNS propagates, so it stays retryable).
_PERMANENT_POSTGRES = re.compile(
    r'database "[^"]*" does not exist|role "[^"]*" does not exist|invalid (?:sslmode|connection option)'
    r"|unsupported frontend protocol|server does not support SSL"
)


def url_problem(url: str, *, variable: str, schemes: Sequence[str], example: str) -> str | None:
    """Why `url` cannot be used, in a message naming `variable` and the fix; None when it can.

    The message never quotes the URL: a password with an unencoded '/' or '@' spills into the
    parts a parser reports as host, port or path, where redaction cannot recognise it.
    """
    if not url.startswith(tuple(schemes)):
        scheme = url.partition("://")[0]
        found = f"the scheme {scheme}://" if "://" in url and _SCHEME.fullmatch(scheme) else "no scheme"
        *others, last = schemes
        accepted = f"{', '.join(others)} or {last}" if others else last
        return f"{variable} has {found}, which is not supported: use {accepted} (e.g. {example})"
    if problem := userinfo_problem(url, variable):
        return problem
    parts = urlsplit(url)
    if "," in parts.netloc:
        return None  # libpq's multi-host form (h1:5432,h2:5432), which only libpq parses
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        return (
            f"{variable} has a port that is not a number from 1 to 65535 (e.g. {example}); "
            "percent-encode any ':', '/' or '@' in the password"
        )
    return None


def redis_url_problem(url: str) -> str | None:
    """Why redis-py cannot use this REDIS_URL, or would quietly use something else; None when fine.

    redis-py's own ValueErrors name neither the variable nor the fix, and a database path that is
    not a number is silently replaced by database 0.
    """
    problem = url_problem(
        url,
        variable="REDIS_URL",
        schemes=REDIS_SCHEMES,
        # checkov:skip=CKV_SECRET_4: the example's password is the word PASSWORD
        example="redis://default:PASSWORD@127.0.0.1:6379/0, or rediss:// for TLS",
    )
    if problem or url.startswith("unix://"):
        return problem
    parts = urlsplit(url)
    database = parts.path.strip("/")
    if database and not database.isdigit() and "db" not in parse_qs(parts.query):
        return (
            "REDIS_URL ends in a database that is not a number (e.g. /0); "
            "percent-encode any '/' or '@' in the password"
        )
    return None


def check_postgres(url: str, *, require_tls: bool, timeout: float) -> str:
    """Connect, SELECT 1, and read the server version; with require_tls, prove the session is TLS."""
    if "://" in url and (
        problem := url_problem(
            url,
            variable="DATABASE_URL",
            schemes=POSTGRES_SCHEMES,
            example="postgresql://USER:PASSWORD@HOST:5432/DATABASE",
        )
    ):
        raise CheckFailed(problem, retryable=False)
    sslmode = parse_qs(urlsplit(url).query).get("sslmode", [""])[0]
    if require_tls and sslmode not in TLS_SSLMODES:
        raise CheckFailed(
            f"DATABASE_URL must require TLS here (sslmode={sslmode or 'unset'}); use sslmode=require",
            retryable=False,
        )
    try:
        with psycopg.connect(url, connect_timeout=max(1, round(timeout))) as connection:
            connection.execute(f"SET statement_timeout = {int(timeout * 1000)}")
            connection.execute("SELECT 1").fetchone()
            row = connection.execute("SHOW server_version").fetchone()
            version = row[0] if row else "unknown"
            # Our own hop, as libpq negotiated it. pg_stat_ssl would describe the server's side of
            # the session: through Supavisor, the pooler's hop to Postgres, not ours.
            tls = connection.pgconn.ssl_in_use
    except psycopg.OperationalError as error:
        # The first line holds the reason ("... failed: Connection refused"); later lines are hints.
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        rejected = "password authentication failed" in message or "no pg_hba.conf entry" in message
        if rejected:
            raise CheckFailed(
                "the database rejected the credentials in DATABASE_URL", retryable=False
            ) from None
        if _PERMANENT_POSTGRES.search(message):
            # Waiting cannot create a database or a role: the URL or the server must change first.
            raise CheckFailed(f"{message}: check DATABASE_URL", retryable=False) from None
        raise CheckFailed(f"cannot connect: {message}", retryable=True) from None
    if require_tls and not tls:
        raise CheckFailed("connected without TLS, but this environment requires it", retryable=False)
    return f"PostgreSQL {version}{', TLS' if tls else ''}"


def check_redis(url: str, *, require_tls: bool, timeout: float) -> str:
    """PING with AUTH, and maxmemory_policy from INFO (CONFIG is disabled on ElastiCache)."""
    if problem := redis_url_problem(url):
        raise CheckFailed(problem, retryable=False)
    if require_tls and not url.startswith("rediss://"):
        raise CheckFailed("REDIS_URL must use TLS here (rediss://)", retryable=False)
    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    except ValueError as error:  # e.g. a query option redis-py cannot read; its words hold no secret
        raise CheckFailed(f"REDIS_URL is not a URL redis-py can use: {error}", retryable=False) from None
    try:
        client.ping()
        policy = client.info("memory").get("maxmemory_policy")
        version = client.info("server").get("redis_version", "unknown")
    except redis.AuthenticationError:
        raise CheckFailed("Redis rejected the password in REDIS_URL", retryable=False) from None
    except redis.ResponseError as error:
        if "NOAUTH" in str(error) or "WRONGPASS" in str(error):
            raise CheckFailed("Redis rejected the password in REDIS_URL", retryable=False) from None
        raise CheckFailed(f"Redis answered with an error: {error}", retryable=False) from None
    except (redis.ConnectionError, redis.TimeoutError) as error:
        raise CheckFailed(f"cannot connect: {error}", retryable=True) from None
    finally:
        client.close()
    if policy != "noeviction":
        raise CheckFailed(
            f"maxmemory_policy is {policy}; the worker's queues need noeviction", retryable=False
        )
    return f"Redis {version}, maxmemory_policy noeviction{', TLS' if require_tls else ''}"


def check_qdrant(
    url: str,
    api_key: str | None,
    collections: Sequence[CollectionSpec],
    *,
    timeout: float,
    environment: str = "ENV",
) -> str:
    """/readyz, then the API key must be accepted and the collections match config.

    The key goes on every request, /readyz included: Qdrant Cloud's gateway answers 403 to any
    request without it (self-hosted Qdrant exempts its health paths, and accepts it there too).
    """
    from infrakit.bootstrap.collections import CollectionsError, connect, inspect_collections

    headers = {"api-key": api_key} if api_key else {}
    try:
        ready = httpx.get(f"{url.rstrip('/')}/readyz", headers=headers, timeout=timeout)
    except httpx.HTTPError as error:
        # A scheme httpx cannot speak (ftp://) fails the same way on every attempt.
        raise CheckFailed(
            f"cannot reach {url}/readyz: {type(error).__name__}",
            retryable=not isinstance(error, httpx.UnsupportedProtocol),
        ) from None
    if ready.status_code in (401, 403):
        raise CheckFailed(_readyz_refused(url, ready.status_code, has_key=bool(api_key)), retryable=False)
    if ready.status_code != 200:
        # 503 while Qdrant starts, or 429, may clear; any other 4xx answers the same every time.
        raise CheckFailed(
            f"/readyz answered {ready.status_code}: not ready",
            retryable=ready.status_code >= 500 or ready.status_code == 429,
        )
    try:
        reports = inspect_collections(connect(url, api_key, timeout=timeout), collections)
    except CollectionsError as error:
        raise CheckFailed(str(error), retryable=error.retryable) from None
    problems = [
        f"{r.name}: {r.state}" + (f" ({'; '.join(r.mismatches)})" if r.mismatches else "")
        for r in reports
        if r.state != "ok"
    ]
    if problems:
        raise CheckFailed(
            "collections differ from config: "
            + ", ".join(problems)
            + f" ({_collections_fix(reports, environment)})",
            retryable=False,
        )
    return f"ready, key accepted, {len(reports)} collection(s) as configured"


def _readyz_refused(url: str, status: int, *, has_key: bool) -> str:
    if not has_key:
        return (
            f"Qdrant at {url} refused /readyz without an API key (HTTP {status}): Qdrant Cloud asks for "
            "the key on every request; set QDRANT_API_KEY or deploy so the `qdrant_api_key` output exists"
        )
    return (
        f"Qdrant at {url} refused the API key on /readyz (HTTP {status}): on Qdrant Cloud the key is "
        "not valid for this cluster (another cluster's, revoked or expired); use the current "
        "`qdrant_api_key` stack output (`cdktf output <env>`)"
    )


# Where the operator finds the key, for every message about it.
SECRET_KEY_SOURCE = "SUPABASE_SECRET_KEY (or the `supabase_secret_key` stack output)"
SECRET_KEY_FIX = (
    "use the secret key (sb_secret_...), the `supabase_secret_key` stack output (`cdktf output <env>`)"
)


def supabase_key_problem(key: str) -> str | None:
    """Why `key` cannot be the secret key the check sends; None when it may be. Never quotes the key.

    Refused before any request: a legacy JWT key (three dot-separated parts, the first `eyJ`), which
    Supabase retires; a publishable key, which the auth admin API refuses (403 not_admin); and
    whitespace or a character an HTTP header cannot carry (a pasted line break), which httpx
    would report with the header's value in its message.
    """
    if key.startswith("eyJ") and key.count(".") == 2:
        return (
            f"{SECRET_KEY_SOURCE} holds a legacy JWT API key (anon or service_role), which Supabase "
            f"retires: {SECRET_KEY_FIX}"
        )
    if key.startswith("sb_publishable_"):
        return (
            f"{SECRET_KEY_SOURCE} holds a publishable key (sb_publishable_...), which cannot call the "
            f"auth admin API: {SECRET_KEY_FIX}"
        )
    if not (key.isascii() and key.isprintable()) or any(c.isspace() for c in key):
        return (
            f"{SECRET_KEY_SOURCE} holds whitespace or a character an HTTP header cannot carry: "
            "copy the `supabase_secret_key` stack output again, without spaces or line breaks"
        )
    return None


def check_supabase(url: str, secret_key: str, *, timeout: float) -> str:
    """The secret key must list users (an auth admin call), and the REST endpoint must answer.

    The key goes in the `apikey` header only, never in `Authorization: Bearer`:
    - `sb_` keys are not JWTs. Supabase's API gateway reads the key from `apikey`: an admin request
      holding it only in Authorization gets 401 with `sb-error-code: UNAUTHORIZED_MISSING_API_KEY`
      ("No API key found in request"), and Authorization is not required (Supabase KB, "Auth error:
      {401: UNAUTHORIZED_MISSING_API_KEY} on admin endpoints",
      https://supabase.com/kb/troubleshooting/auth-error-401-unauthorized_missing_api_key-on-admin-endpoints-ac2afd).
    - A non-JWT in `Authorization: Bearer` fails: PostgREST answers 401 PGRST301 "Expected 3 parts
      in JWT; got 1" (supabase/supabase-py#1230), the auth admin API 403 `bad_jwt`
      (supabase/supabase-js#1568); "the client library should not pass non-JWT values in the
      Authorization header, as requests like this will definitely fail" (supabase/supabase-py#977).
    - supabase-py 2.34.1's `create_client` always adds `Authorization: Bearer <key>`
      (supabase/_sync/client.py, `_get_auth_headers`), so the admin call goes through
      supabase_auth's `SyncGoTrueAdminAPI` itself, given only the `apikey` header.

    Failures: a refused key (401/403) is permanent and says which key to use; no answer, a
    timeout, 5xx or 429 may clear. Messages never quote the key.
    """
    if problem := supabase_key_problem(secret_key):
        raise CheckFailed(problem, retryable=False)
    if problem := _supabase_url_problem(url):
        raise CheckFailed(problem, retryable=False)
    from pydantic import ValidationError
    from supabase_auth import SyncGoTrueAdminAPI
    from supabase_auth.errors import AuthError, AuthRetryableError

    base = url.rstrip("/")
    headers = {"apikey": secret_key}
    http = httpx.Client(timeout=timeout)
    try:
        admin = SyncGoTrueAdminAPI(url=f"{base}/auth/v1", headers=headers, http_client=http)
        admin.list_users(page=1, per_page=1)
        rest = http.get(f"{base}/rest/v1/", headers=headers)
    except AuthRetryableError as error:
        # Connection failures arrive here with status 0; 502, 503, 504 and 52x with theirs.
        if error.status:
            raise CheckFailed(f"auth API at {url} answered {error.status}", retryable=True) from None
        reason = f"no answer within {timeout:g} s" if "timed out" in error.message else error.message
        raise CheckFailed(f"auth API unavailable at {url}: {reason}", retryable=True) from None
    except AuthError as error:
        # AuthApiError, or AuthUnknownError for a body that is not JSON; the HTTP answer is the cause.
        response = error.__cause__.response if isinstance(error.__cause__, httpx.HTTPStatusError) else None
        status = response.status_code if response is not None else getattr(error, "status", 0)
        if status in (401, 403):
            code = _supabase_error_code(response) or error.code
            raise CheckFailed(
                _supabase_refusal("the auth admin API", status, code), retryable=False
            ) from None
        raise CheckFailed(
            f"auth API answered {status or type(error).__name__}", retryable=status >= 500 or status == 429
        ) from None
    except ValidationError:
        # A 200 that is not a user list: something other than Supabase's API answered.
        raise CheckFailed(
            f"{url}/auth/v1/admin/users answered with something that is not a list of users: SUPABASE_URL "
            "(or the `supabase_url` stack output) must be the project's API URL, https://<ref>.supabase.co",
            retryable=False,
        ) from None
    # The REST request is httpx's own: its connection failures arrive as they are.
    except httpx.TimeoutException:
        raise CheckFailed(f"no answer from {url} within {timeout:g} s", retryable=True) from None
    except httpx.HTTPError as error:
        raise CheckFailed(f"cannot reach {url}: {type(error).__name__}", retryable=True) from None
    finally:
        http.close()
    if rest.status_code in (401, 403):
        code = _supabase_error_code(rest)
        raise CheckFailed(
            _supabase_refusal("the REST API (/rest/v1/)", rest.status_code, code), retryable=False
        )
    if rest.status_code != 200:
        raise CheckFailed(
            f"REST endpoint /rest/v1/ answered {rest.status_code}",
            retryable=rest.status_code >= 500 or rest.status_code == 429,
        )
    return "secret key accepted by the auth admin API, REST reachable"


def _supabase_url_problem(url: str) -> str | None:
    """Why no request could reach Supabase at `url`; never quotes it."""
    variable = "SUPABASE_URL (or the `supabase_url` stack output)"
    if problem := userinfo_problem(url, variable):
        return problem
    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme.lower() not in ("http", "https"):
        found = f"the scheme {scheme}://" if _SCHEME.fullmatch(scheme) else "no scheme"
        return (
            f"{variable} has {found}, which is not supported: use https:// (e.g. https://<ref>.supabase.co)"
        )
    return None


def _supabase_error_code(response: httpx.Response | None) -> str | None:
    """Supabase's reason for a refusal: the gateway's `sb-error-code` header, else the body's code
    (auth: `code` in API version 2024-01-01, `error_code` before; PostgREST: `code`, e.g. PGRST301)."""
    if response is None:
        return None
    if header := response.headers.get("sb-error-code"):
        return str(header)
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    for name in ("code", "error_code"):
        if isinstance(body.get(name), str):
            return str(body[name])
    return None


def _supabase_refusal(where: str, status: int, code: str | None) -> str:
    """What a 401 or 403 from Supabase means for the operator, by the reason Supabase gave."""
    answer = f"HTTP {status}{f', {code}' if code else ''}"
    if code == "UNAUTHORIZED_MISSING_API_KEY":
        return (
            f"Supabase found no API key in the request to {where} ({answer}): the key is sent in the "
            "`apikey` header; a proxy between here and Supabase may drop it"
        )
    if code in ("bad_jwt", "PGRST301"):
        return (
            f"Supabase refused an Authorization header that is not a valid JWT at {where} ({answer}): "
            "the secret key belongs in the `apikey` header only; a proxy between here and Supabase may "
            "add an Authorization header"
        )
    if code == "not_admin":
        return (
            f"{SECRET_KEY_SOURCE} is not allowed to call {where} ({answer}): it is not a secret key; "
            f"{SECRET_KEY_FIX}"
        )
    return (
        f"Supabase rejected {SECRET_KEY_SOURCE} at {where} ({answer}): it is not a key of this project, "
        f"or it was revoked; {SECRET_KEY_FIX}"
    )


def _collections_fix(reports: Sequence[CollectionReport], environment: str) -> str:
    """What makes the server match the config: `collections` creates what is missing, but it never
    changes an existing collection, so a mismatch needs a decision."""
    fixes = []
    if any(r.state == "missing" for r in reports):
        fixes.append(f"`infrakit collections --env {environment}` creates the missing ones")
    if any(r.state == "mismatch" for r in reports):
        fixes.append(
            "a collection is never changed in place: either change its [[vector_store.collections]] "
            f"entry in environments/{environment}.toml to match the server, or drop and recreate it, "
            f"losing its points, with `infrakit collections --env {environment} --recreate-mismatched`"
        )
    return "; ".join(fixes)


def check_neo4j(uri: str, username: str, password: str, *, timeout: float) -> str:
    """Connect with the `neo4j` driver (routing, as the product does), RETURN 1, and read the
    server's version and edition from dbms.components()."""
    from infrakit.bootstrap.graph import GraphError, connect, server_summary

    try:
        driver = connect(uri, username, password, timeout=timeout)
        try:
            info = server_summary(driver, uri, password)
        finally:
            driver.close()
    except GraphError as error:
        raise CheckFailed(str(error), retryable=error.retryable) from None
    return f"Neo4j {info.version} {info.edition}, RETURN 1 ok (served by {info.address})"
