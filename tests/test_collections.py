"""Qdrant collections: created as declared, re-runs change nothing, and nothing is dropped unasked.

These run against tests/standins/qdrant.py, a stand-in for the Qdrant REST endpoints infrakit
calls, because no Qdrant server exists on this machine. qdrant-client's local mode would prove
nothing: it ignores HNSW settings and payload indexes. The stand-in answers with exactly what each
create request sent, so these tests fail when the code sends the wrong values.
"""

from __future__ import annotations

import time
import warnings

import pytest
from qdrant_client import QdrantClient, models

from infrakit.bootstrap.collections import (
    CollectionReport,
    CollectionsError,
    connect,
    inspect_collections,
    sync_collections,
)
from infrakit.config.collections import CollectionSpec
from tests.servers import free_port
from tests.standins.qdrant import QdrantStandIn

KEY = "test-only-qdrant-key-5f1c"
# Values unlike Qdrant's defaults (m=16, ef_construct=100), so code that sends nothing fails.
DOCUMENTS = CollectionSpec(
    name="documents",
    vector_size=1536,
    distance="Cosine",
    hnsw_m=24,
    hnsw_ef_construct=256,
    payload_indexes={"tenant_id": "keyword", "created_at": "datetime"},
)
IMAGES = CollectionSpec(name="images", vector_size=512, distance="Dot", hnsw_m=0, hnsw_ef_construct=64)
SPECS = [DOCUMENTS, IMAGES]


@pytest.fixture
def qdrant():
    with QdrantStandIn(api_key=KEY, mode="self_hosted") as stand_in:
        yield stand_in


@pytest.fixture
def client(qdrant):
    client = connect(qdrant.url, KEY, timeout=5)
    yield client
    client.close()


def create_directly(
    qdrant: QdrantStandIn, name: str, *, size: int, distance: str, m: int, ef: int, indexes=None
):
    """A collection made by someone else, before infrakit runs."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Api key is used with an insecure connection")
        other = QdrantClient(url=qdrant.url, api_key=KEY, check_compatibility=False)
    other.create_collection(
        name,
        vectors_config=models.VectorParams(size=size, distance=models.Distance(distance)),
        hnsw_config=models.HnswConfigDiff(m=m, ef_construct=ef),
    )
    for field, schema in (indexes or {}).items():
        other.create_payload_index(name, field, field_schema=models.PayloadSchemaType(schema))
    other.close()
    qdrant.requests.clear()


# ----------------------------------------------------------------------------- creating


def test_missing_collections_are_created_with_the_declared_settings(client, qdrant):
    reports = sync_collections(client, SPECS)

    assert reports == [CollectionReport("documents", "created"), CollectionReport("images", "created")]
    create = next(r for r in qdrant.writes() if r.path == "/collections/documents")
    assert create.body["vectors"] == {"size": 1536, "distance": "Cosine"}
    assert (create.body["hnsw_config"]["m"], create.body["hnsw_config"]["ef_construct"]) == (24, 256)
    info = qdrant.collection_info("images")
    assert info["config"]["params"]["vectors"] == {"size": 512, "distance": "Dot"}
    assert (info["config"]["hnsw_config"]["m"], info["config"]["hnsw_config"]["ef_construct"]) == (0, 64)


def test_payload_indexes_are_created_and_waited_for(client, qdrant):
    sync_collections(client, [DOCUMENTS])

    schema = qdrant.collection_info("documents")["payload_schema"]
    assert {field: entry["data_type"] for field, entry in schema.items()} == DOCUMENTS.payload_indexes
    index_requests = [r for r in qdrant.writes() if r.path == "/collections/documents/index"]
    assert index_requests and all(r.query.get("wait") == ["true"] for r in index_requests)


def test_progress_names_each_collection(client):
    lines: list[str] = []
    sync_collections(client, SPECS, progress=lines.append)
    assert [line.split(":")[0] for line in lines] == ["documents", "images"]
    assert "m=24" in lines[0] and "tenant_id (keyword)" in lines[0]


# ----------------------------------------------------------------------------- re-running


def test_a_second_run_changes_nothing(client, qdrant):
    sync_collections(client, SPECS)
    qdrant.requests.clear()

    reports = sync_collections(client, SPECS)

    assert [(r.name, r.state, r.changes) for r in reports] == [("documents", "ok", ()), ("images", "ok", ())]
    assert qdrant.writes() == []


def test_inspect_is_read_only(client, qdrant):
    create_directly(
        qdrant, "documents", size=1536, distance="Cosine", m=24, ef=256, indexes=DOCUMENTS.payload_indexes
    )

    reports = inspect_collections(client, SPECS)

    assert reports == [CollectionReport("documents", "ok"), CollectionReport("images", "missing")]
    assert qdrant.writes() == []


# ----------------------------------------------------------------------------- mismatches


def test_a_mismatch_is_reported_and_nothing_is_dropped(client, qdrant):
    create_directly(
        qdrant, "documents", size=768, distance="Cosine", m=16, ef=256, indexes=DOCUMENTS.payload_indexes
    )

    [report] = sync_collections(client, [DOCUMENTS])

    assert report.state == "mismatch"
    assert report.mismatches == ("vector size is 768, expected 1536", "hnsw m is 16, expected 24")
    assert qdrant.writes() == []
    assert qdrant.collection_info("documents")["config"]["params"]["vectors"]["size"] == 768


def test_inspect_reports_the_same_mismatch(client, qdrant):
    create_directly(qdrant, "images", size=512, distance="Euclid", m=0, ef=64)

    [report] = inspect_collections(client, [IMAGES])

    assert (report.state, report.mismatches) == ("mismatch", ("distance is Euclid, expected Dot",))


def test_recreate_mismatched_drops_and_recreates(client, qdrant):
    create_directly(qdrant, "documents", size=768, distance="Cosine", m=24, ef=256)

    [report] = sync_collections(client, [DOCUMENTS], recreate_mismatched=True)

    assert report.state == "recreated"
    assert report.mismatches == ("vector size is 768, expected 1536",)
    assert [(r.method, r.path) for r in qdrant.writes()][:2] == [
        ("DELETE", "/collections/documents"),
        ("PUT", "/collections/documents"),
    ]
    info = qdrant.collection_info("documents")
    assert info["config"]["params"]["vectors"]["size"] == 1536
    assert set(info["payload_schema"]) == {"tenant_id", "created_at"}


def test_recreate_leaves_matching_collections_alone(client, qdrant):
    create_directly(qdrant, "images", size=512, distance="Dot", m=0, ef=64)

    [report] = sync_collections(client, [IMAGES], recreate_mismatched=True)

    assert report.state == "ok"
    assert qdrant.writes() == []


def test_a_missing_payload_index_is_added(client, qdrant):
    create_directly(
        qdrant, "documents", size=1536, distance="Cosine", m=24, ef=256, indexes={"tenant_id": "keyword"}
    )

    [report] = sync_collections(client, [DOCUMENTS])

    assert (report.state, report.changes) == ("ok", ("added payload index created_at (datetime)",))
    assert [(r.method, r.path, r.body["field_name"]) for r in qdrant.writes()] == [
        ("PUT", "/collections/documents/index", "created_at")
    ]


def test_an_index_with_another_schema_is_a_mismatch(client, qdrant):
    create_directly(
        qdrant, "documents", size=1536, distance="Cosine", m=24, ef=256,
        indexes={"tenant_id": "integer", "created_at": "datetime"},
    )  # fmt: skip

    [report] = sync_collections(client, [DOCUMENTS])

    assert (report.state, report.mismatches) == (
        "mismatch",
        ("payload index tenant_id is integer, expected keyword",),
    )
    assert qdrant.writes() == []


def test_undeclared_collections_are_left_alone(client, qdrant):
    create_directly(qdrant, "legacy", size=8, distance="Cosine", m=16, ef=100)

    sync_collections(client, SPECS, recreate_mismatched=True)

    assert "legacy" in qdrant.collection_names()
    assert not [r for r in qdrant.writes() if r.path.startswith("/collections/legacy")]


def test_local_mode_is_refused():
    with pytest.raises(CollectionsError, match="local mode"):
        sync_collections(QdrantClient(":memory:"), SPECS)


# ----------------------------------------------------------------------------- failures


def test_a_wrong_key_is_reported_without_the_key(qdrant):
    wrong = "wrong-key-7d3e9a"
    with pytest.raises(CollectionsError) as raised:
        connect(qdrant.url, wrong)
    message = str(raised.value)
    assert "rejected the API key" in message and qdrant.url in message
    assert wrong not in message and KEY not in message
    assert raised.value.retryable is False


def test_a_missing_key_is_reported(qdrant):
    with pytest.raises(CollectionsError, match="requires an API key"):
        connect(qdrant.url, None)


def test_a_read_only_key_cannot_create():
    with QdrantStandIn(api_key=KEY, read_only_api_key="read-only-key-31ab", mode="self_hosted") as qdrant:
        client = connect(qdrant.url, "read-only-key-31ab")
        with pytest.raises(CollectionsError) as raised:
            sync_collections(client, [IMAGES])
    assert "HTTP 403" in str(raised.value) and "read-only" in str(raised.value)
    assert "read-only-key-31ab" not in str(raised.value)


def test_a_timeout_is_reported_within_the_timeout(qdrant):
    qdrant.delay_seconds = 5
    started = time.monotonic()
    with pytest.raises(CollectionsError) as raised:
        connect(qdrant.url, KEY, timeout=1)
    assert time.monotonic() - started < 2.5
    assert raised.value.retryable is True
    assert "did not answer within the 1 s timeout" in str(raised.value) and qdrant.url in str(raised.value)


def test_a_timeout_during_sync_is_reported(qdrant):
    client = connect(qdrant.url, KEY, timeout=1)
    qdrant.delay_seconds = 5
    with pytest.raises(CollectionsError, match="did not answer within the 1 s timeout while listing"):
        sync_collections(client, SPECS)
    client.close()


def test_an_unreachable_url_is_reported():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(CollectionsError) as raised:
        connect(url, KEY, timeout=3)
    assert time.monotonic() - started < 3
    assert raised.value.retryable is True
    assert f"cannot connect to Qdrant at {url}" in str(raised.value) and "timeout 3 s" in str(raised.value)


def test_a_server_that_stops_mid_run_is_reported(client, qdrant):
    qdrant.stop()
    with pytest.raises(CollectionsError, match="cannot connect to Qdrant"):
        sync_collections(client, SPECS)


@pytest.mark.parametrize("port", ["notaport", "70000"])
def test_a_url_with_a_bad_port_is_refused_in_our_words(port):
    """qdrant-client's own parser would raise its error, quoting the whole URL."""
    with pytest.raises(CollectionsError, match="the Qdrant URL has a port that is not a number") as raised:
        connect(f"http://user:url-secret-77a1@127.0.0.1:{port}", KEY)  # checkov:skip=CKV_SECRET_4: test value
    assert "url-secret-77a1" not in str(raised.value)


def test_a_url_without_scheme_is_refused():
    with pytest.raises(CollectionsError, match="not an http"):
        connect("127.0.0.1:6333", KEY)
