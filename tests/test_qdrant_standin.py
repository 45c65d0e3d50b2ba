"""The Qdrant stand-in behaves like the Qdrant endpoints it imitates, for what infrakit relies on.

No Qdrant server runs here, so tests/test_collections.py runs against tests/standins/qdrant.py.
These tests pin down the behaviour those tests trust: qdrant-client parses every answer, a
collection reports exactly what created it (not defaults), and the key is enforced as each kind of
Qdrant enforces it: Qdrant Cloud (`mode="cloud"`) on every path, health paths included;
self-hosted Qdrant (`mode="self_hosted"`, the local stack) everywhere but its health paths.

What they cannot prove: that Qdrant Cloud's gateway still answers as the cited issues recorded.
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


@pytest.fixture(params=["cloud", "self_hosted"])
def qdrant(request):
    """Behind the key, both modes behave alike: the tests that use this run against each."""
    with QdrantStandIn(api_key=KEY, mode=request.param) as stand_in:
        yield stand_in


@pytest.fixture
def self_hosted():
    with QdrantStandIn(api_key=KEY, mode="self_hosted") as stand_in:
        yield stand_in


@pytest.fixture
def cloud():
    with QdrantStandIn(api_key=KEY, mode="cloud") as stand_in:
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
def test_self_hosted_enforces_the_key_with_401(self_hosted, headers):
    response = httpx.get(f"{self_hosted.url}/collections", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "text/plain"  # as Qdrant's auth middleware answers


@pytest.mark.parametrize("headers", [{"api-key": KEY}, {"Authorization": f"Bearer {KEY}"}])
def test_self_hosted_accepts_the_key_in_either_header(self_hosted, headers):
    assert httpx.get(f"{self_hosted.url}/collections", headers=headers).status_code == 200


@pytest.mark.parametrize("path", ["/", "/healthz", "/livez", "/readyz", "/collections", "/collections/docs"])
@pytest.mark.parametrize("headers", [{}, {"api-key": "wrong"}], ids=["no key", "wrong key"])
def test_cloud_refuses_every_path_without_the_key(cloud, path, headers):
    response = httpx.get(f"{cloud.url}{path}", headers=headers)
    assert response.status_code == 403
    assert response.json() == {"error": "forbidden"}


@pytest.mark.parametrize(
    ("path", "text"), [("/healthz", "healthz check passed"), ("/readyz", "all shards are ready")]
)
def test_cloud_serves_health_paths_with_the_key(cloud, path, text):
    response = httpx.get(f"{cloud.url}{path}", headers={"api-key": KEY})
    assert (response.status_code, response.text) == (200, text)


def test_the_mode_is_one_of_two():
    with pytest.raises(ValueError, match="mode is 'cloud' or 'self_hosted'"):
        QdrantStandIn(api_key=KEY, mode="cluod")  # type: ignore[arg-type]


def test_a_starting_cluster_answers_the_given_statuses_first(cloud):
    cloud.starting = [503, 429]
    statuses = [httpx.get(f"{cloud.url}/readyz", headers={"api-key": KEY}).status_code for _ in range(3)]
    assert statuses == [503, 429, 200]


def test_cloud_gives_new_collections_the_clusters_replication_factor_unless_sent():
    with QdrantStandIn(api_key=KEY, mode="cloud", cluster_replication_factor=2) as cloud:
        headers = {"api-key": KEY}
        vectors = {"size": 3, "distance": "Cosine"}
        httpx.put(f"{cloud.url}/collections/unsent", headers=headers, json={"vectors": vectors})
        httpx.put(
            f"{cloud.url}/collections/sent",
            headers=headers,
            json={"vectors": vectors, "replication_factor": 1, "shard_number": 3},
        )
        unsent = cloud.collection_info("unsent")["config"]["params"]
        sent = cloud.collection_info("sent")["config"]["params"]
    assert (unsent["replication_factor"], unsent["shard_number"]) == (2, 1)
    assert (sent["replication_factor"], sent["shard_number"]) == (1, 3)


@pytest.mark.parametrize("mode", ["cloud", "self_hosted"])
def test_a_read_only_key_may_read_but_not_write(mode):
    with QdrantStandIn(api_key=KEY, read_only_api_key="read-only-key", mode=mode) as qdrant:
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
def test_self_hosted_health_endpoints_need_no_key(self_hosted, path, text):
    response = httpx.get(f"{self_hosted.url}{path}")
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
    httpx.get(f"{qdrant.url}/healthz", headers={"api-key": KEY})
    assert time.monotonic() - started >= 0.3


def test_a_stopped_stand_in_refuses_connections(qdrant, client):
    qdrant.stop()
    with pytest.raises(ResponseHandlingException) as raised:
        client.get_collections()
    assert isinstance(raised.value.source, httpx.ConnectError)
