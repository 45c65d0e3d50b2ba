"""The DATABASE_URL the dev stack hands the api and worker connects from node-postgres (their client),
and the `database_url` output the operator's bootstrap reads connects from psycopg, to a PostgreSQL 15
that serves TLS with a chain no system store trusts, as Supabase's pooler does.

The URLs are the stack's own: the api and worker Secrets Manager versions and the outputs of `dev`,
evaluated by `terraform console` with the `supabase_pooler` map the provider returns (tests/standins/
supabase.py) pointed at the test server, and a password from the stack's random_password charset.

What this cannot prove: Supavisor's real certificate chain and TLS versions, that Supavisor accepts
the tenant user `postgres.<ref>` with this password (a real role of that name stands in), session
versus transaction pooling semantics, and that the product creates its client from DATABASE_URL
alone (`new Pool({ connectionString })`): an `ssl` option in code overrides the URL.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import ROOT
from tests.rehearsal.plan import password_values
from tests.servers import PostgresServer
from tests.standins.supabase import pooler_url_map
from tests.terraform_console import evaluate
from tests.tls_postgres import tls_postgres_server

PG_SELECT_ONE = ROOT / "tests" / "rehearsal" / "pg_select_one.js"
REF = "abcdefghijklmnopqrst"
USER = f"postgres.{REF}"


def _secret_value(stack: dict[str, Any], path_part: str) -> str:
    for version in stack["resource"]["aws_secretsmanager_secret_version"].values():
        if path_part in version["//"]["metadata"]["path"]:
            return str(version["secret_string"])
    raise AssertionError(f"no secret version at {path_part}")


@pytest.fixture(scope="module")
def dev(synthesized: Path) -> dict[str, Any]:
    return json.loads((synthesized / "stacks" / "dev" / "cdk.tf.json").read_text())


@pytest.fixture(scope="module")
def password(dev: dict[str, Any]) -> str:
    """The database password, drawn from the charset the stack's random_password declares."""
    (value,) = (v for k, v in password_values(dev).items() if "database-password" in k)
    return value


def emitted(dev: dict[str, Any], password: str, port: int) -> dict[str, str]:
    """Each database URL of `dev`, as Terraform evaluates it for a pooler on 127.0.0.1:`port`."""
    templates = {
        "api container": _secret_value(dev, "api-wiring/secret-DATABASE_URL"),
        "worker container": _secret_value(dev, "worker-wiring/secret-DATABASE_URL"),
        "database_url output": dev["output"]["database_url"]["value"],
        "database_migration_url output": dev["output"]["database_migration_url"]["value"],
    }
    text = json.dumps(templates)
    values: dict[str, Any] = {
        address: pooler_url_map(REF, host="localhost", port=port)
        for address in set(re.findall(r"data\.supabase_pooler\.[\w-]+\.url", text))
    }
    values |= {address: password for address in set(re.findall(r"random_password\.[\w-]+\.result", text))}
    assert len(values) == 2, values  # one pooler, one password
    return {name: str(url) for name, url in evaluate(templates, values).items()}


CONTAINERS = ("api container", "worker container")
OPERATOR = ("database_url output", "database_migration_url output")


@pytest.fixture(scope="module")
def pooler(password: str) -> PostgresServer:  # type: ignore[misc]
    """The TLS server, with the tenant user the pooler URL names."""
    with tls_postgres_server() as server:
        with psycopg.connect(server.url(), autocommit=True) as connection:
            connection.execute(f"CREATE ROLE \"{USER}\" LOGIN PASSWORD '{password}'")
        yield server


@pytest.fixture(scope="module")
def urls(dev: dict[str, Any], password: str, pooler: PostgresServer) -> dict[str, str]:
    return emitted(dev, password, pooler.port)


def node_select_one(url: str) -> str:
    """node-postgres's answer to SELECT 1 through `url`: '{"one":1,"tls":true}', or its error."""
    node = Path(sys.executable).with_name("node")
    done = subprocess.run(
        [str(node), "--no-warnings", str(PG_SELECT_ONE)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "DATABASE_URL": url},
        check=False,
        cwd=ROOT,
    )
    return (done.stdout + done.stderr).strip()


def psycopg_select_one(url: str) -> str:
    """psycopg's answer, in the same shape, or its error."""
    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            row = connection.execute(
                "SELECT 1, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())"
            ).fetchone()
    except psycopg.Error as error:
        return str(error)
    assert row is not None
    return json.dumps({"one": row[0], "tls": row[1]}, separators=(",", ":"))


ENCRYPTED = '{"one":1,"tls":true}'


@pytest.mark.parametrize("form", CONTAINERS)
def test_node_postgres_connects_with_the_containers_url(urls: dict[str, str], form: str) -> None:
    """Encrypted, though Node's store does not hold the server's root: TLS without chain
    verification, as libpq's sslmode=require."""
    assert node_select_one(urls[form]) == ENCRYPTED


@pytest.mark.parametrize("form", OPERATOR)
def test_psycopg_connects_with_the_operator_url(urls: dict[str, str], form: str) -> None:
    assert psycopg_select_one(urls[form]) == ENCRYPTED


@pytest.mark.parametrize("form", CONTAINERS)
def test_node_postgres_refuses_a_server_without_tls(
    dev: dict[str, Any], password: str, postgres: PostgresServer, form: str
) -> None:
    """The same URL, pointed at a server with TLS off: node-postgres must not fall back to plaintext."""
    answer = node_select_one(emitted(dev, password, postgres.port)[form])
    assert "does not support SSL" in answer, answer


@pytest.mark.parametrize("form", OPERATOR)
def test_psycopg_refuses_a_server_without_tls(
    dev: dict[str, Any], password: str, postgres: PostgresServer, form: str
) -> None:
    answer = psycopg_select_one(emitted(dev, password, postgres.port)[form])
    assert "server does not support SSL, but SSL was required" in answer, answer


def test_control_node_postgres_fails_on_the_untrusted_chain_with_the_libpq_url(urls: dict[str, str]) -> None:
    """The control: the operator's form, which the containers also received before (plain
    `sslmode=require`), fails from node-postgres on this server exactly as on Supabase's pooler."""
    assert node_select_one(urls["database_url output"]).startswith("SELF_SIGNED_CERT_IN_CHAIN")


def test_control_psycopg_refuses_the_containers_url(urls: dict[str, str]) -> None:
    """Why the two values differ: libpq rejects the node-postgres parameter."""
    assert 'invalid URI query parameter: "uselibpqcompat"' in psycopg_select_one(urls["api container"])


def test_the_error_shown_never_holds_the_password(urls: dict[str, str], password: str) -> None:
    """What a failing client prints (and these tests assert on) carries no secret."""
    for answer in (
        node_select_one(urls["database_url output"]),
        psycopg_select_one(urls["api container"]),
    ):
        assert password not in answer
