"""Mistakes in [graph] are configuration errors that name the file and the key, before anything
connects. What this cannot prove: that Neo4j itself refuses each of them (the rules are Neo4j 5's,
as tests/standins/neo4j.py cites them).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import TypeAdapter

from infrakit.config import ConfigError, load_environments
from infrakit.config.graph import GraphConstraint, only_unique_constraints
from tests.graph_environments import write_environment


def problems(directory: Path, tables: str) -> str:
    write_environment(directory, tables)
    with pytest.raises(ConfigError) as error:
        load_environments(directory, ["local"])
    return error.value.report()


def constraint(name: str, body: str) -> str:
    return f'\n[[graph.constraints]]\nname = "{name}"\nlabel = "Doc"\n{body}\n'


def index(name: str, body: str) -> str:
    return f'\n[[graph.indexes]]\nname = "{name}"\nlabel = "Doc"\n{body}\n'


@pytest.mark.parametrize(
    ("tables", "expected"),
    [
        pytest.param(
            index("emb", 'properties = ["e"]\ntype = "vector"\nsimilarity = "cosine"'),
            'local.toml: graph.indexes[0]: index emb: type = "vector" needs dimensions',
            id="vector-without-dimensions",
        ),
        pytest.param(
            index("emb", 'properties = ["e"]\ntype = "vector"\ndimensions = 8'),
            'local.toml: graph.indexes[0]: index emb: type = "vector" needs similarity',
            id="vector-without-similarity",
        ),
        pytest.param(
            index("at", 'properties = ["at"]\ndimensions = 8'),
            'index at: dimensions apply to type = "vector" only, and this index is type = "range"',
            id="dimensions-on-range",
        ),
        pytest.param(
            index("t", 'properties = ["t"]\ntype = "fulltext"\nsimilarity = "cosine"'),
            'index t: similarity apply to type = "vector" only, and this index is type = "fulltext"',
            id="similarity-on-fulltext",
        ),
        pytest.param(
            index("t", 'properties = ["a", "b"]\ntype = "text"'),
            'local.toml: graph.indexes[0]: index t: type = "text" takes exactly one property, got 2',
            id="composite-text",
        ),
        pytest.param(
            index("v", 'properties = ["a", "b"]\ntype = "vector"\ndimensions = 8\nsimilarity = "cosine"'),
            'index v: type = "vector" takes exactly one property, got 2',
            id="composite-vector",
        ),
        pytest.param(
            index("v", 'properties = ["a"]\ntype = "vector"\ndimensions = 8\nsimilarity = "dot"'),
            "local.toml: graph.indexes[0].similarity: Input should be 'cosine' or 'euclidean'",
            id="unknown-similarity",
        ),
        pytest.param(
            index("v", 'properties = ["a"]\ntype = "vector"\ndimensions = 5000\nsimilarity = "cosine"'),
            "local.toml: graph.indexes[0].dimensions: Input should be less than or equal to 4096",
            id="too-many-dimensions",
        ),
        pytest.param(
            index("x", 'properties = ["a"]\ntype = "btree"'),
            "local.toml: graph.indexes[0].type: Input should be 'range', 'text', 'fulltext' or 'vector'",
            id="unknown-index-type",
        ),
        pytest.param(
            constraint("c", 'properties = ["a", "b"]\ntype = "not_null"'),
            'local.toml: graph.constraints[0]: constraint c: type = "not_null" takes exactly one property',
            id="composite-not-null",
        ),
        pytest.param(
            constraint("c", 'properties = ["a"]\ntype = "exists"'),
            "local.toml: graph.constraints[0].type: Input should be 'unique', 'node_key' or 'not_null'",
            id="unknown-constraint-type",
        ),
        pytest.param(
            constraint("c", 'properties = ["a-b"]'),
            "local.toml: graph.constraints[0].properties[0]: String should match pattern",
            id="property-not-an-identifier",
        ),
        pytest.param(
            constraint("c", "properties = []"),
            "local.toml: graph.constraints[0].properties: List should have at least 1 item",
            id="no-properties",
        ),
        pytest.param(
            constraint("same", 'properties = ["a"]') + index("same", 'properties = ["b"]'),
            "local.toml: graph: same names both a constraint and an index",
            id="name-shared",
        ),
        pytest.param(
            constraint("doc_id", 'properties = ["id"]') + index("doc_id_range", 'properties = ["id"]'),
            "index doc_id_range repeats the range index constraint doc_id already creates",
            id="index-repeats-constraint",
        ),
        pytest.param(
            index("i", 'properties = ["a"]') + index("i", 'properties = ["b"]'),
            "local.toml: graph.indexes: declares i more than once",
            id="name-twice",
        ),
        pytest.param(
            constraint("k", 'properties = ["id"]\ntype = "node_key"'),
            "local.toml: graph.constraints: declares k with a type Neo4j community refuses",
            id="enterprise-constraint-on-docker",
        ),
    ],
)
def test_each_graph_mistake_names_the_file_and_the_key(tmp_path: Path, tables: str, expected: str) -> None:
    report = problems(tmp_path / "environments", tables)
    assert expected in report, report


def test_community_accepts_only_unique_constraints() -> None:
    """The rule on its own, for several constraints at once (DockerNeo4j applies it to its
    `constraints`: the enterprise-constraint-on-docker case above)."""
    adapter = TypeAdapter(list[GraphConstraint])
    declared = adapter.validate_python(
        [
            {"name": "a", "label": "Doc", "properties": ["id"]},
            {"name": "k", "label": "Doc", "properties": ["x"], "type": "node_key"},
            {"name": "n", "label": "Doc", "properties": ["y"], "type": "not_null"},
        ]
    )
    with pytest.raises(Exception) as refused:
        only_unique_constraints(declared)
    assert "declares k, n with a type Neo4j community refuses" in str(refused.value)
    assert only_unique_constraints(declared[:1]) == declared[:1]
