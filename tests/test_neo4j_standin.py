"""The Neo4j stand-in (tests/standins/neo4j.py) answers the real `neo4j` driver as the Neo4j 5
behaviours it cites do. What this cannot prove: that Neo4j itself still answers so (no server runs
here), nor anything over TLS, which the stand-in does not speak.
"""

from __future__ import annotations

import json
import urllib.request

import neo4j
import pytest
from neo4j.exceptions import AuthError, ClientError, DatabaseError

from tests.standins.neo4j import Neo4jStandIn

PASSWORD = "standin-test-password"  # checkov:skip=CKV_SECRET_6: test value


def driver(stand_in: Neo4jStandIn, password: str = PASSWORD, url: str | None = None) -> neo4j.Driver:
    return neo4j.GraphDatabase.driver(
        url or stand_in.bolt_url, auth=("neo4j", password), connection_timeout=3
    )


def test_the_driver_negotiates_bolt_5_4_and_runs_queries() -> None:
    with Neo4jStandIn(password=PASSWORD) as stand_in, driver(stand_in) as client:
        records, _, keys = client.execute_query("RETURN 1")
        components, summary, _ = client.execute_query("CALL dbms.components() YIELD name, versions, edition")
    assert (records[0][0], keys) == (1, ["1"])
    assert [dict(r) for r in components] == [
        {"name": "Neo4j Kernel", "versions": ["5.26.0"], "edition": "community"}
    ]
    assert summary.server.protocol_version == (5, 4)
    assert stand_in.messages[:3] == ["HELLO", "LOGON", "ROUTE"]


def test_a_wrong_password_is_unauthorized() -> None:
    with (
        Neo4jStandIn(password=PASSWORD) as stand_in,
        driver(stand_in, "wrong") as client,
        pytest.raises(AuthError) as refused,
    ):
        client.verify_connectivity()
    assert refused.value.code == "Neo.ClientError.Security.Unauthorized"


def test_route_answers_the_address_the_client_used() -> None:
    """Neo4j 5 standalone: the routing context's address wins over the advertised one."""
    with (
        Neo4jStandIn(password=PASSWORD, advertised_address="neo4j:7687") as stand_in,
        driver(stand_in) as client,
    ):
        _, summary, _ = client.execute_query("RETURN 1")
    assert stand_in.routing_contexts[0]["address"] == f"127.0.0.1:{stand_in.bolt_port}"
    assert summary.server.address == ("127.0.0.1", stand_in.bolt_port)


def test_a_server_that_routes_to_its_advertised_address_strands_the_client() -> None:
    """routing="advertised": an unreachable advertised address fails the routing driver, while a
    direct bolt:// connection still works."""
    with Neo4jStandIn(password=PASSWORD, advertised_address="127.0.0.1:1", routing="advertised") as stand_in:
        with (
            driver(stand_in) as client,
            pytest.raises((neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired)),
        ):
            client.verify_connectivity()
        with driver(stand_in, url=f"bolt://127.0.0.1:{stand_in.bolt_port}") as direct:
            direct.verify_connectivity()


def test_if_not_exists_keeps_a_same_named_constraint_whatever_its_definition() -> None:
    with Neo4jStandIn(password=PASSWORD) as stand_in, driver(stand_in) as client:
        first = client.execute_query("CREATE CONSTRAINT doc IF NOT EXISTS FOR (n:Doc) REQUIRE n.id IS UNIQUE")
        other = client.execute_query(
            "CREATE CONSTRAINT doc IF NOT EXISTS FOR (n:Page) REQUIRE n.url IS UNIQUE"
        )
        rows, _, _ = client.execute_query("SHOW CONSTRAINTS")
        indexes, _, _ = client.execute_query("SHOW INDEXES")
    assert first.summary.counters.constraints_added == 1
    assert other.summary.counters.constraints_added == 0  # no error either: Neo4j says nothing
    assert [(r["name"], r["type"], r["labelsOrTypes"], r["properties"]) for r in rows] == [
        ("doc", "UNIQUENESS", ["Doc"], ["id"])
    ]
    assert {(r["name"], r["type"], r["owningConstraint"]) for r in indexes} == {
        ("doc", "RANGE", "doc"),
        ("index_343aff4e", "LOOKUP", None),
        ("index_f7700477", "LOOKUP", None),
    }


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "CREATE CONSTRAINT k IF NOT EXISTS FOR (n:Doc) REQUIRE (n.id) IS NODE KEY",
            "Node Key constraint requires",
        ),
        (
            "CREATE CONSTRAINT k IF NOT EXISTS FOR (n:Doc) REQUIRE n.id IS NOT NULL",
            "Property existence constraint",
        ),
    ],
)
def test_community_refuses_enterprise_constraints(statement: str, message: str) -> None:
    with (
        Neo4jStandIn(password=PASSWORD) as stand_in,
        driver(stand_in) as client,
        pytest.raises(DatabaseError) as refused,
    ):
        client.execute_query(statement)
    assert refused.value.code == "Neo.DatabaseError.Schema.ConstraintCreationFailed"
    assert message in str(refused.value.message)
    with Neo4jStandIn(password=PASSWORD, edition="enterprise") as stand_in, driver(stand_in) as client:
        assert client.execute_query(statement).summary.counters.constraints_added == 1


def test_a_schema_change_rolled_back_is_not_kept() -> None:
    with Neo4jStandIn(password=PASSWORD) as stand_in, driver(stand_in) as client, client.session() as session:
        tx = session.begin_transaction()
        tx.run("CREATE INDEX i IF NOT EXISTS FOR (n:Doc) ON (n.at)").consume()
        tx.rollback()
        with pytest.raises(ClientError):
            session.run("MATCH (n) RETURN n").consume()
    assert stand_in.index_names() == []


def test_http_discovery_answers_like_neo4j_5() -> None:
    with Neo4jStandIn(password=PASSWORD, http_port=0, version="5.26.0") as stand_in:
        assert stand_in.http_port
        with urllib.request.urlopen(f"http://127.0.0.1:{stand_in.http_port}/", timeout=3) as response:
            body = json.load(response)
    assert body["neo4j_version"] == "5.26.0" and body["neo4j_edition"] == "community"
    assert body["bolt_routing"] == f"neo4j://localhost:{stand_in.bolt_port}"
    assert body["bolt_direct"] == f"bolt://localhost:{stand_in.bolt_port}"
