"""The Neo4j schema bootstrap: declared constraints and indexes are created, a second run changes
nothing, differences are reported, and nothing is dropped without --recreate-mismatched.

Against tests/standins/neo4j.py through the real `neo4j` driver, because no Neo4j server runs
here. What this cannot prove: Neo4j's own answers beyond those the stand-in cites (for instance
how a real server words a notification, or builds an index in the background).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest

from infrakit import cli
from infrakit.bootstrap.graph import SchemaReport, connect, sync_graph_schema
from infrakit.config.graph import GraphConstraint, GraphIndex, GraphSchema
from tests.graph_environments import write_environment
from tests.standins.neo4j import Neo4jStandIn

PASSWORD = "graph-schema-test-password"  # checkov:skip=CKV_SECRET_6: test value
SCHEMA = GraphSchema(
    constraints=[GraphConstraint(name="document_id", label="Document", properties=["id"])],
    indexes=[
        GraphIndex(name="document_tenant", label="Document", properties=["tenant_id", "created_at"]),
        GraphIndex(name="document_title", label="Document", properties=["title"], type="text"),
        GraphIndex(name="document_body", label="Document", properties=["title", "body"], type="fulltext"),
        GraphIndex(
            name="chunk_embedding",
            label="Chunk",
            properties=["embedding"],
            type="vector",
            dimensions=768,
            similarity="cosine",
        ),
    ],
)
GRAPH_TABLES = """
[[graph.constraints]]
name = "document_id"
label = "Document"
properties = ["id"]

[[graph.indexes]]
name = "document_tenant"
label = "Document"
properties = ["tenant_id"]
"""


@pytest.fixture
def neo4j_server() -> Iterator[Neo4jStandIn]:
    with Neo4jStandIn(password=PASSWORD) as stand_in:
        yield stand_in


@pytest.fixture
def driver(neo4j_server: Neo4jStandIn) -> Iterator[neo4j.Driver]:
    client = connect(neo4j_server.bolt_url, "neo4j", PASSWORD, timeout=3)
    yield client
    client.close()


def sync(driver: neo4j.Driver, stand_in: Neo4jStandIn, **options: bool) -> list[SchemaReport]:
    return sync_graph_schema(driver, SCHEMA, uri=stand_in.bolt_url, password=PASSWORD, **options)


def states(reports: list[SchemaReport]) -> dict[str, str]:
    return {r.name: r.state for r in reports}


def test_declared_constraints_and_indexes_are_created_and_a_second_run_changes_nothing(
    driver, neo4j_server
) -> None:
    first = sync(driver, neo4j_server)
    writes = neo4j_server.schema_writes()
    second = sync(driver, neo4j_server)

    assert states(first) == {n: "created" for n in ("document_id", "document_tenant", "document_title",
                                                     "document_body", "chunk_embedding")}  # fmt: skip
    assert neo4j_server.constraint_names() == ["document_id"]
    assert neo4j_server.index_names() == sorted(
        ["document_id", "document_tenant", "document_title", "document_body", "chunk_embedding"]
    )
    vector = neo4j_server.schema.indexes["chunk_embedding"]
    assert vector.config == {"vector.dimensions": 768, "vector.similarity_function": "COSINE"}
    assert neo4j_server.schema.indexes["document_tenant"].properties == ["tenant_id", "created_at"]
    assert all("IF NOT EXISTS" in statement for statement in writes)
    assert states(second) == {name: "ok" for name in states(first)}
    assert neo4j_server.schema_writes() == writes  # the second run wrote nothing


def test_a_same_named_item_with_another_definition_is_reported_and_kept(driver, neo4j_server) -> None:
    neo4j_server.run("CREATE CONSTRAINT document_id FOR (n:Document) REQUIRE n.uuid IS UNIQUE")
    neo4j_server.run(
        "CREATE VECTOR INDEX chunk_embedding FOR (n:Chunk) ON (n.embedding) OPTIONS {indexConfig: "
        "{`vector.dimensions`: 1536, `vector.similarity_function`: 'euclidean'}}"
    )
    reports = {r.name: r for r in sync(driver, neo4j_server)}

    assert reports["document_id"].state == "mismatch"
    assert reports["document_id"].details == ("properties are (uuid), expected (id)",)
    assert reports["chunk_embedding"].details == (
        "dimensions is 1536, expected 768",
        "similarity is EUCLIDEAN, expected COSINE",
    )
    assert neo4j_server.schema.constraints["document_id"].properties == ["uuid"]  # kept as it was
    assert not [w for w in neo4j_server.schema_writes() if w.startswith("DROP")]


def test_the_same_definition_under_another_name_is_reported(driver, neo4j_server) -> None:
    neo4j_server.run("CREATE TEXT INDEX legacy_title FOR (n:Document) ON (n.title)")
    reports = {r.name: r for r in sync(driver, neo4j_server)}
    assert reports["document_title"].state == "mismatch"
    assert "exists as index legacy_title" in reports["document_title"].details[0]
    assert "document_title" not in neo4j_server.index_names()


def test_undeclared_items_are_reported_and_left_alone(driver, neo4j_server) -> None:
    neo4j_server.run("CREATE INDEX someone_elses FOR (n:Audit) ON (n.at)")
    reports = {r.name: r for r in sync(driver, neo4j_server)}
    assert reports["someone_elses"].state == "undeclared"
    assert reports["someone_elses"].details == ("RANGE on :Audit(at)",)
    assert "index_343aff4e" not in reports  # Neo4j's own lookup indexes are not reported
    assert "someone_elses" in neo4j_server.index_names()


def test_recreate_mismatched_drops_and_creates_the_declaration(driver, neo4j_server) -> None:
    neo4j_server.run("CREATE CONSTRAINT document_id FOR (n:Document) REQUIRE n.uuid IS UNIQUE")
    neo4j_server.run("CREATE INDEX someone_elses FOR (n:Audit) ON (n.at)")
    reports = {r.name: r for r in sync(driver, neo4j_server, recreate_mismatched=True)}
    assert reports["document_id"].state == "recreated"
    assert neo4j_server.schema.constraints["document_id"].properties == ["id"]
    assert "someone_elses" in neo4j_server.index_names()  # undeclared: never dropped, even then


# ----------------------------------------------------------------------------- the command


def graph_command(directory: Path, *options: str) -> int:
    return cli.main(
        ["--environments-dir", str(directory), "graph", "--env", "local", "--timeout", "3", *options]
    )


@pytest.fixture
def endpoint(elsewhere: Path, neo4j_server: Neo4jStandIn, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NEO4J_URI", neo4j_server.bolt_url)
    monkeypatch.setenv("NEO4J_USERNAME", "neo4j")
    monkeypatch.setenv("NEO4J_PASSWORD", PASSWORD)
    return write_environment(elsewhere / "environments", GRAPH_TABLES)


def test_the_graph_command_creates_then_reports_ok(endpoint: Path, neo4j_server, capsys) -> None:
    assert graph_command(endpoint) == 0
    assert "constraint document_id: created" in capsys.readouterr().err
    assert graph_command(endpoint) == 0
    err = capsys.readouterr().err
    assert "constraint document_id: ok" in err and "index document_tenant: ok" in err


def test_the_graph_command_fails_on_a_mismatch_and_names_the_flag(
    endpoint: Path, neo4j_server, capsys
) -> None:
    neo4j_server.run("CREATE INDEX document_tenant FOR (n:Document) ON (n.tenant)")
    assert graph_command(endpoint) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "index document_tenant: mismatch" in err and "nothing was dropped" in err
    assert "--recreate-mismatched" in err and PASSWORD not in err
    assert neo4j_server.schema.indexes["document_tenant"].properties == ["tenant"]
    assert graph_command(endpoint, "--recreate-mismatched") == 0
    assert neo4j_server.schema.indexes["document_tenant"].properties == ["tenant_id"]


def test_an_environment_without_graph_skips_in_one_line(elsewhere: Path, capsys) -> None:
    directory = write_environment(elsewhere / "environments", None)
    assert graph_command(directory) == 0
    assert capsys.readouterr().err.strip() == "graph: no [graph] in this environment"
