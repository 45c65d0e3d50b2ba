"""The cloud environments' Qdrant checks and collections step, against Qdrant Cloud's behaviour.

dev, staging and prod deploy Qdrant Cloud, whose gateway refuses every request without the API key,
/readyz included (tests/standins/qdrant.py, mode "cloud", cites the sources). These tests run
`validate`'s Qdrant check, the collections step and qdrant-client against the stand-in in that mode.

What they cannot prove: the gateway's behaviour on a real cluster today, which statuses a starting
cluster answers, that Qdrant Cloud keeps `replication_factor` and `shard_number` as sent (read
from the provider's docs), TLS and port 6333 on the real endpoint.
"""

from __future__ import annotations

import json
import warnings
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from qdrant_client import QdrantClient
from qdrant_client.http.exceptions import UnexpectedResponse

from infrakit.bootstrap.checks import CheckFailed, check_qdrant
from infrakit.bootstrap.collections import (
    CollectionsError,
    connect,
    connect_when_ready,
    inspect_collections,
    sync_collections,
)
from infrakit.bootstrap.endpoints import Endpoints
from infrakit.bootstrap.validate import Timing, planned_checks, run_checks
from infrakit.config.loader import load_environment
from tests.conftest import ENVIRONMENTS
from tests.servers import free_port
from tests.standins.qdrant import QdrantStandIn
from tests.terraform_console import evaluate

KEY = "cloud-fidelity-operator-key-9e1d"  # checkov:skip=CKV_SECRET_6: test value
CLOUD_ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture
def cloud():
    with QdrantStandIn(api_key=KEY, mode="cloud") as stand_in:
        yield stand_in


def specs(name: str) -> list[Any]:
    return list(load_environment(ENVIRONMENTS / f"{name}.toml").config.vector_store.collections or [])


# ----------------------------------------------------------------------------- the key on every request


def test_the_old_readiness_probe_without_the_key_fails_on_qdrant_cloud(cloud):
    """What check_qdrant used to send: GET /readyz with no key."""
    response = httpx.get(f"{cloud.url}/readyz")
    assert response.status_code == 403 and response.json() == {"error": "forbidden"}


@pytest.mark.parametrize("name", CLOUD_ENVIRONMENTS)
def test_validate_passes_on_a_cloud_environment_after_collections(cloud, name):
    environment = load_environment(ENVIRONMENTS / f"{name}.toml")
    with closing(connect(cloud.url, KEY)) as client:
        sync_collections(client, specs(name))
    endpoints = Endpoints(qdrant_url=cloud.url, qdrant_api_key=KEY)
    plan = planned_checks(environment, endpoints, 2.0, only=["qdrant"])

    (result,) = run_checks(plan, Timing(attempt_timeout=2.0, deadline=10.0), [KEY])

    assert result.ok, result.detail
    assert result.detail == f"ready, key accepted, {len(specs(name))} collection(s) as configured"
    assert all(request.headers.get("api-key") == KEY for request in cloud.requests)


def test_validate_without_the_key_says_what_a_cloud_403_means(cloud):
    with pytest.raises(CheckFailed) as raised:
        check_qdrant(cloud.url, None, specs("dev"), timeout=2)
    assert "refused /readyz without an API key (HTTP 403)" in str(raised.value)
    assert raised.value.retryable is False


def test_collections_with_a_key_of_another_cluster_says_what_a_cloud_403_means(cloud):
    other = "key-of-another-cluster-51c0"
    with pytest.raises(CollectionsError) as raised:
        connect(cloud.url, other)
    message = str(raised.value)
    assert "HTTP 403: forbidden" in message and "not valid for this cluster" in message
    assert "collection-scoped key" in message and "read-only or scoped key" not in message
    assert other not in message and raised.value.retryable is False


def test_collections_without_a_key_on_qdrant_cloud_asks_for_it(cloud):
    with pytest.raises(CollectionsError, match="without an API key .*HTTP 403.*qdrant_api_key"):
        connect(cloud.url, None)


# ----------------------------------------------------------------------------- waiting for the cluster


def test_collections_waits_for_a_cluster_that_is_still_starting(cloud):
    cloud.starting = [503, 502, 429]
    lines: list[str] = []

    connect_when_ready(cloud.url, KEY, timeout=2, within=60, progress=lines.append, first_wait=0.01).close()

    assert len(lines) == 3
    assert [line.split(" failed")[0] for line in lines] == [f"qdrant: attempt {n}" for n in (1, 2, 3)]
    assert "HTTP 503" in lines[0] and "HTTP 429" in lines[2] and "waiting up to 60 s" in lines[0]
    assert all(KEY not in line for line in lines)


def test_collections_waits_while_the_port_refuses_connections():
    port = free_port()
    started: list[QdrantStandIn] = []

    def progress(line: str) -> None:
        if len(started) == 0 and "attempt 2" in line:  # the cluster comes up after two refusals
            started.append(QdrantStandIn(api_key=KEY, mode="cloud", port=port).__enter__())

    try:
        client = connect_when_ready(
            f"http://127.0.0.1:{port}", KEY, timeout=2, within=60, progress=progress, first_wait=0.01
        )
        assert client.get_collections().collections == []
        client.close()
    finally:
        for stand_in in started:
            stand_in.stop()
    assert started


def test_collections_waits_while_the_name_does_not_resolve_yet():
    lines: list[str] = []
    with pytest.raises(CollectionsError) as raised:
        connect_when_ready(
            "https://qdrant-not-yet.invalid:6333", KEY, timeout=2, within=0.3, progress=lines.append,
            first_wait=0.05,
        )  # fmt: skip
    assert lines and raised.value.retryable is True
    assert "still failing after" in str(raised.value)


@pytest.mark.parametrize(("status", "words"), [(403, "HTTP 403"), (404, "HTTP 404"), (400, "HTTP 400")])
def test_collections_stops_at_once_on_a_permanent_answer(cloud, status, words):
    cloud.starting = [status]
    lines: list[str] = []
    with pytest.raises(CollectionsError, match=words) as raised:
        connect_when_ready(cloud.url, KEY, timeout=2, within=60, progress=lines.append, first_wait=0.01)
    assert (lines, len(cloud.requests), raised.value.retryable) == ([], 1, False)


def test_collections_stops_at_once_on_a_refused_key(cloud):
    with pytest.raises(CollectionsError, match="not valid for this cluster"):
        connect_when_ready(cloud.url, "wrong-key-0b2a", timeout=2, within=60, first_wait=0.01)
    assert len(cloud.requests) == 1


def test_the_wait_is_bounded(cloud):
    cloud.starting = [503] * 10_000
    lines: list[str] = []
    with pytest.raises(CollectionsError, match=r"HTTP 503.*still failing after \d+ attempts in 0.3 s"):
        connect_when_ready(cloud.url, KEY, timeout=2, within=0.3, progress=lines.append, first_wait=0.05)
    assert lines


# ----------------------------------------------------------------------------- replication


def test_prod_collections_are_created_with_their_own_replication_and_shards():
    """The cluster's default (1 here) must not decide: prod declares a factor of 2."""
    prod = specs("prod")
    with QdrantStandIn(api_key=KEY, mode="cloud", cluster_replication_factor=1) as cloud:
        with closing(connect(cloud.url, KEY)) as client:
            sync_collections(client, prod)
        params = cloud.collection_info("documents")["config"]["params"]
        create = next(r for r in cloud.writes() if r.path == "/collections/documents")
    assert (params["replication_factor"], params["shard_number"]) == (2, 3)
    assert (create.body["replication_factor"], create.body["shard_number"]) == (2, 3)


def test_a_collection_with_another_replication_factor_is_a_mismatch(cloud):
    with QdrantStandIn(api_key=KEY, mode="cloud", cluster_replication_factor=1) as cloud:
        httpx.put(
            f"{cloud.url}/collections/documents",
            headers={"api-key": KEY},
            json={"vectors": {"size": 1536, "distance": "Cosine"}},  # the cluster's defaults: 1 and 1
        ).raise_for_status()
        with closing(connect(cloud.url, KEY)) as client:
            [report] = inspect_collections(client, specs("prod"))
        with pytest.raises(CheckFailed, match="replication_factor is 1, expected 2") as raised:
            check_qdrant(cloud.url, KEY, specs("prod"), timeout=2, environment="prod")
    assert report.state == "mismatch"
    assert report.mismatches[:2] == ("shard_number is 1, expected 3", "replication_factor is 1, expected 2")
    assert "--recreate-mismatched" in str(raised.value)


# ----------------------------------------------------------------------------- the URL and key the api gets


def _dev_stack(synthesized: Path) -> dict[str, Any]:
    return json.loads((synthesized / "stacks" / "dev" / "cdk.tf.json").read_text())


def test_the_api_url_and_key_work_through_qdrant_client(synthesized, cloud):
    """The dev api's QDRANT_URL and QDRANT_API_KEY, evaluated by Terraform, then used by
    qdrant-client against the stand-in: with the key it lists collections; without, 403.

    The URL's host, port and scheme are pointed at the stand-in (plain HTTP on a free port); the
    rest of the URL and the key are Terraform's. What it cannot prove: TLS and port 6333 on a real
    cluster, and the Node client the product uses (@qdrant/js-client-rest is not installed here).
    """
    stack = _dev_stack(synthesized)
    [url_local] = [v for k, v in stack["locals"].items() if k.startswith("api_env-QDRANT_URL")]
    [key_version] = [
        r["secret_string"]
        for n, r in stack["resource"]["aws_secretsmanager_secret_version"].items()
        if n.startswith("api-wiring_secret-QDRANT_API_KEY")
    ]
    [cluster] = stack["resource"]["qdrant-cloud_accounts_cluster"]
    [api_key_resource] = [
        n
        for n in stack["resource"]["qdrant-cloud_accounts_database_api_key_v2"]
        if n.startswith("vector-store_api-key")
    ]
    service_key = "dev-api-service-key-3f7a"  # checkov:skip=CKV_SECRET_6: test value
    url, key = evaluate(
        [url_local, key_version],
        {
            f"qdrant-cloud_accounts_cluster.{cluster}.url": "https://abc-123.eu-west-1-0.aws.cloud.qdrant.io/",
            f"qdrant-cloud_accounts_database_api_key_v2.{api_key_resource}.key": service_key,
        },
    )
    assert url == "https://abc-123.eu-west-1-0.aws.cloud.qdrant.io:6333" and key == service_key
    cloud.api_key = key
    target = urlsplit(url)._replace(scheme="http", netloc=urlsplit(cloud.url).netloc).geturl()

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Api key is used with an insecure connection")
        with closing(QdrantClient(url=target, api_key=key, check_compatibility=False)) as client:
            assert client.get_collections().collections == []
    with (
        closing(QdrantClient(url=target, check_compatibility=False)) as client,
        pytest.raises(UnexpectedResponse) as raised,
    ):
        client.get_collections()
    assert raised.value.status_code == 403
