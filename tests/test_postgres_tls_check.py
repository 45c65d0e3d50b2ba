"""validate's TLS check looks at our own connection, not at what the server says of its session.

Through Supabase's pooler (Supavisor), `pg_stat_ssl` describes the pooler's hop to Postgres, so the
old check could pass over a plain-text hop of ours, or fail over a TLS one. The check now asks libpq
about the connection it made (`pgconn.ssl_in_use`). These tests run it against real PostgreSQL 15
servers, one serving TLS and one not.

What they cannot prove: Supavisor itself (no pooler runs here), nor that its certificate chain
verifies; with sslmode=require, libpq encrypts without verifying the chain.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from infrakit.bootstrap.checks import CheckFailed, check_postgres
from tests.servers import PostgresServer, postgres_server


@pytest.fixture(scope="module")
def tls_server() -> Iterator[PostgresServer]:
    with postgres_server(tls=True) as server:
        yield server


@pytest.fixture(scope="module")
def plain_server() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


def require(url: str) -> str:
    return url.replace("sslmode=disable", "sslmode=require")


def test_a_tls_connection_passes_with_sslmode_require(tls_server):
    detail = check_postgres(require(tls_server.url()), require_tls=True, timeout=5)
    assert detail.startswith("PostgreSQL 15") and detail.endswith(", TLS")


def test_a_server_without_tls_refuses_sslmode_require_for_good(plain_server):
    with pytest.raises(CheckFailed) as raised:
        check_postgres(require(plain_server.url()), require_tls=True, timeout=5)
    assert "server does not support SSL" in str(raised.value)
    assert raised.value.retryable is False
    assert plain_server.password not in str(raised.value)


def test_a_plain_connection_to_a_tls_server_is_reported_as_plain(tls_server):
    """sslmode=disable on a server that offers TLS: our hop is plain, and the detail says so."""
    detail = check_postgres(tls_server.url(), require_tls=False, timeout=5)
    assert "TLS" not in detail


def test_our_tls_hop_passes_even_when_the_server_sees_a_plain_session(tls_server):
    """Through Supavisor, the server's session is the pooler's hop; if that hop is plain, the old
    check (reading pg_stat_ssl) failed a client whose own hop is TLS.

    Modelled on a real server: a database whose search_path finds a `pg_stat_ssl` saying "no TLS"
    before pg_catalog's, as the pooler's session would. What it cannot prove: Supavisor's own rows.
    """
    admin = tls_server.url().replace("sslmode=disable", "sslmode=require")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute("CREATE DATABASE pooled")
        connection.execute("ALTER DATABASE pooled SET search_path = public, pg_catalog")
    with psycopg.connect(require(tls_server.url("pooled")), autocommit=True) as connection:
        connection.execute("CREATE VIEW public.pg_stat_ssl AS SELECT pg_backend_pid() AS pid, false AS ssl")
        assert connection.execute("SELECT ssl FROM pg_stat_ssl").fetchone() == (False,)

    detail = check_postgres(require(tls_server.url("pooled")), require_tls=True, timeout=5)

    assert detail.endswith(", TLS")
