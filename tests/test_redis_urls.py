"""Every REDIS_URL the stacks emit is accepted by redis-cli, redis-py and ioredis (BullMQ's client),
against a real password-protected Redis 7 from Debian; TLS-only for the ElastiCache form.

The URLs are the stacks' own strings (the worker container's environment and the `redis_url`
output of `local`; the worker task's Secrets Manager value and the output of `dev`), evaluated by
`terraform console` with a password generated from the resource's declared charset. Host and port
are then pointed at the test server: the scheme and the credentials are what is under test.

What this cannot prove: that ElastiCache accepts `AUTH default <token>` (open-source Redis 6+ does
for the `requirepass` password, and ElastiCache documents AUTH tokens the same way; only a real
cluster can show it), and ElastiCache's certificate chain (the test trusts its own throwaway CA).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from tests.conftest import ROOT
from tests.rehearsal.plan import password_values
from tests.servers import RedisServer, redis_server, tool
from tests.terraform_console import evaluate

IOREDIS_PING = ROOT / "tests" / "rehearsal" / "ioredis_ping.js"
CLIENTS = ("redis-cli", "redis-py", "ioredis")


def _container_env(stack: dict[str, Any], alias: str, name: str) -> str:
    for container in stack["resource"]["docker_container"].values():
        aliases = [a for n in container["networks_advanced"] for a in n["aliases"]]
        if alias in aliases:
            for entry in container["env"]:
                key, _, value = entry.partition("=")
                if key == name:
                    return str(value)
    raise AssertionError(f"no {name} in the {alias} container")


def _secret_value(stack: dict[str, Any], path_part: str) -> str:
    for version in stack["resource"]["aws_secretsmanager_secret_version"].values():
        if path_part in version["//"]["metadata"]["path"]:
            return str(version["secret_string"])
    raise AssertionError(f"no secret version at {path_part}")


def _resolved(stack: dict[str, Any], template: str) -> str:
    values = password_values(stack)
    # The cluster's address is known only after apply; the test server answers as localhost.
    for address in re.findall(
        r"aws_elasticache_replication_group\.[\w-]+\.primary_endpoint_address", template
    ):
        values[address] = "localhost"
    return str(evaluate({"url": template}, values)["url"])


@pytest.fixture(scope="module")
def emitted(local_json: dict[str, Any], synthesized: Path) -> dict[str, str]:
    import json

    dev = json.loads((synthesized / "stacks" / "dev" / "cdk.tf.json").read_text())
    return {
        "local worker container": _resolved(local_json, _container_env(local_json, "worker", "REDIS_URL")),
        "local output": _resolved(local_json, local_json["output"]["redis_url"]["value"]),
        "ElastiCache, worker task secret": _resolved(
            dev, _secret_value(dev, "worker-wiring/secret-REDIS_URL")
        ),
        "ElastiCache, output": _resolved(dev, dev["output"]["redis_url"]["value"]),
    }


def _at(url: str, port: int) -> str:
    """The same URL, pointed at the test server."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@localhost:{port}"))


def ping(client: str, url: str, server: RedisServer) -> str:
    """What the client answers to PING through `url`: 'PONG', or its error."""
    if client == "redis-cli":
        tls = ["--cacert", str(server.ca_file)] if server.ca_file else []
        done = subprocess.run(
            [tool("redis-cli"), "-u", url, "--no-auth-warning", *tls, "ping"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return (done.stdout + done.stderr).strip()
    if client == "redis-py":
        options = {"ssl_ca_certs": str(server.ca_file)} if server.ca_file else {}
        connection = redis.Redis.from_url(url, socket_timeout=5, **options)
        try:
            return "PONG" if connection.ping() else "no answer"
        except redis.RedisError as error:
            return str(error)
        finally:
            connection.close()
    node = Path(sys.executable).with_name("node")
    env = {**os.environ, "REDIS_URL": url, **({"REDIS_CA": str(server.ca_file)} if server.ca_file else {})}
    done = subprocess.run(
        [str(node), str(IOREDIS_PING)],
        capture_output=True,
        text=True,
        timeout=20,
        env=env,
        check=False,
        cwd=ROOT,
    )
    return (done.stdout + done.stderr).strip()


FORMS = ("local worker container", "local output", "ElastiCache, worker task secret", "ElastiCache, output")


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("form", FORMS)
def test_every_client_accepts_every_emitted_redis_url(
    emitted: dict[str, str], form: str, client: str
) -> None:
    url = emitted[form]
    password = urlsplit(url).password
    assert password and urlsplit(url).username == "default"
    with redis_server(password=password, tls=url.startswith("rediss://")) as server:
        assert ping(client, _at(url, server.port), server) == "PONG"


@pytest.mark.parametrize("form", FORMS)
def test_redis_cli_refuses_the_empty_user_form(emitted: dict[str, str], form: str) -> None:
    """The control: the form the stacks used to emit (`redis://:PW@`) fails with redis-cli on the same
    server, so the test above would have caught it (redis/redis#9186)."""
    url = emitted[form].replace("://default:", "://:", 1)
    password = urlsplit(url).password
    assert password
    with redis_server(password=password, tls=url.startswith("rediss://")) as server:
        assert ping("redis-cli", _at(url, server.port), server) != "PONG"
