"""The Qdrant stand-in behaves like the Qdrant endpoints it imitates, for what infrakit relies on.

No Qdrant server runs here, so tests/test_collections.py runs against tests/standins/qdrant.py.
These tests pin down the behaviour those tests trust: qdrant-client parses every answer, a
collection reports exactly what created it (not defaults), the key is enforced, and health
endpoints need none.
"""

from __future__ import annotations

import time
import warnings

import httpx
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from tests.standins.qdrant import QdrantStandIn

KEY = "test-only-qdrant-key"


@pytest.fixture
def qdrant():
    with QdrantStandIn(api_key=KEY) as stand_in:
        yield stand_in


@pytest.fixture
def client(qdrant):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Api key is used with an insecure connection")
        client = QdrantClient(url=qdrant.url, api_key=KEY, timeout=5, check_compatibility=False)
    yield client
    client.close()


def test_a_collection_reports_exactly_what_created_it(client):
    # Values that differ from Qdrant's defaults (16/100): a stand-in that answers defaults fails here.
    client.create_collection(
        "docs",
        vectors_config=models.VectorParams(size=3, distance=models.Distance.DOT),
        hnsw_config=models.HnswConfigDiff(m=7, ef_construct=55),
    )
    info = client.get_collection("docs")
    assert (info.config.params.vectors.size, info.config.params.vectors.distance) == (3, models.Distance.DOT)
    assert (info.config.hnsw_config.m, info.config.hnsw_config.ef_construct) == (7, 55)
    assert info.payload_schema == {}


def test_unsent_hnsw_settings_report_qdrants_defaults(client):
    client.create_collection(
        "docs", vectors_config=models.VectorParams(size=3, distance=models.Distance.COSINE)
    )
    hnsw = client.get_collection("docs").config.hnsw_config
    assert (hnsw.m, hnsw.ef_construct, hnsw.full_scan_threshold) == (16, 100, 10000)


def test_payload_indexes_appear_in_payload_schema(client):
    client.create_collection(
        "docs", vectors_config=models.VectorParams(size=3, distance=models.Distance.COSINE)
    )
    client.create_payload_index("docs", "tenant_id", field_schema=models.PayloadSchemaType.KEYWORD, wait=True)
    client.create_payload_index(
        "docs", "group", field_schema=models.KeywordIndexParams(type="keyword", is_tenant=True)
    )
    schema = client.get_collection("docs").payload_schema
    assert schema["tenant_id"].data_type == models.PayloadSchemaType.KEYWORD
    assert schema["group"].data_type == models.PayloadSchemaType.KEYWORD
    assert schema["group"].params.is_tenant is True


def test_list_delete_and_not_found(client):
    client.create_collection(
        "docs", vectors_config=models.VectorParams(size=3, distance=models.Distance.COSINE)
    )
    assert [c.name for c in client.get_collections().collections] == ["docs"]
    assert client.delete_collection("docs") is True
    assert client.delete_collection("docs") is False  # Qdrant answers 200 with false
    with pytest.raises(UnexpectedResponse) as raised:
        client.get_collection("docs")
    assert raised.value.status_code == 404
    assert raised.value.structured()["status"]["error"] == "Not found: Collection `docs` doesn't exist!"


def test_creating_an_existing_collection_conflicts(client):
    params = models.VectorParams(size=3, distance=models.Distance.COSINE)
    client.create_collection("docs", vectors_config=params)
    with pytest.raises(UnexpectedResponse) as raised:
        client.create_collection("docs", vectors_config=params)
    assert raised.value.status_code == 409


def test_envelope_shape(qdrant):
    body = httpx.get(f"{qdrant.url}/collections", headers={"api-key": KEY}).json()
    assert body["result"] == {"collections": []}
    assert body["status"] == "ok"
    assert isinstance(body["time"], float)


@pytest.mark.parametrize(
    "headers",
    [{}, {"api-key": "wrong"}, {"Authorization": "Bearer wrong"}],
    ids=["no key", "wrong api-key", "wrong bearer"],
)
def test_the_key_is_enforced(qdrant, headers):
    response = httpx.get(f"{qdrant.url}/collections", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "text/plain"  # as Qdrant's auth middleware answers


@pytest.mark.parametrize("headers", [{"api-key": KEY}, {"Authorization": f"Bearer {KEY}"}])
def test_the_key_is_accepted_in_either_header(qdrant, headers):
    assert httpx.get(f"{qdrant.url}/collections", headers=headers).status_code == 200


def test_a_read_only_key_may_read_but_not_write():
    with QdrantStandIn(api_key=KEY, read_only_api_key="read-only-key") as qdrant:
        headers = {"api-key": "read-only-key"}
        assert httpx.get(f"{qdrant.url}/collections", headers=headers).status_code == 200
        response = httpx.put(f"{qdrant.url}/collections/docs", headers=headers, json={"vectors": {}})
        assert response.status_code == 403
        assert qdrant.collection_names() == []


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/healthz", "healthz check passed"),
        ("/livez", "healthz check passed"),
        ("/readyz", "all shards are ready"),
    ],
)
def test_health_endpoints_need_no_key(qdrant, path, text):
    response = httpx.get(f"{qdrant.url}{path}")
    assert (response.status_code, response.text) == (200, text)


def test_requests_are_recorded_with_their_bodies(client, qdrant):
    client.create_collection(
        "docs", vectors_config=models.VectorParams(size=3, distance=models.Distance.COSINE)
    )
    [create] = qdrant.writes()
    assert (create.method, create.path) == ("PUT", "/collections/docs")
    assert create.body["vectors"] == {"size": 3, "distance": "Cosine"}
    assert create.headers["api-key"] == KEY


def test_delay_slows_every_answer(qdrant):
    qdrant.delay_seconds = 0.3
    started = time.monotonic()
    httpx.get(f"{qdrant.url}/healthz")
    assert time.monotonic() - started >= 0.3


def test_a_stopped_stand_in_refuses_connections(qdrant, client):
    qdrant.stop()
    with pytest.raises(ResponseHandlingException) as raised:
        client.get_collections()
    assert isinstance(raised.value.source, httpx.ConnectError)
