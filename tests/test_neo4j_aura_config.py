"""Mistakes in [graph] backend = "aura" fail at synth, each naming file and key, before Terraform
or the provider sees them.

What this cannot prove: which sizes, tiers and regions Aura itself offers a given project (the
provider validates only the lists below, read from its source at v0.0.2-beta, and Aura decides the
rest at apply).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infrakit.config import ConfigError
from infrakit.config.loader import load_environment
from tests.conftest import ENVIRONMENTS


def load_edited(tmp_path: Path, old: str, new: str) -> str:
    """The error report for prod.toml with one edit in its [graph] table; '' when it loads."""
    text = (ENVIRONMENTS / "prod.toml").read_text()
    graph = text.index("\n[graph]\n")
    assert old in text[graph:], old
    edited = text[:graph] + text[graph:].replace(old, new, 1)
    path = tmp_path / "prod.toml"
    path.write_text(edited)
    try:
        load_environment(path)
    except ConfigError as error:
        return str(error)
    return ""


MEMORY = 'memory = "8GB"'


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(MEMORY, 'memory = "3GB"', "graph.memory: Input should be '1GB', '2GB'", id="memory"),
        pytest.param(
            'type = "business-critical"',
            'type = "professional"',
            "graph.type: Input should be 'free-db', 'professional-db'",
            id="type",
        ),
        pytest.param(
            'cloud_provider = "aws"',
            'cloud_provider = "alibaba"',
            "graph.cloud_provider: Input should be 'aws', 'gcp' or 'azure'",
            id="cloud_provider",
        ),
        pytest.param(MEMORY, MEMORY + '\nversion = "4"', "graph.version: Input should be '5'", id="version"),
        pytest.param(
            MEMORY, MEMORY + '\nstorage = "10GB"', "graph.storage: Input should be '2GB', '4GB'", id="storage"
        ),
        pytest.param(
            'region = "eu-west-1"\n#',
            'region = "EU West 1"\n#',
            "graph.region: String should match",
            id="region",
        ),
        pytest.param(
            'project_id = "00000000-0000-0000-0000-000000000000"',
            'project_id = "my project"',
            "graph.project_id: String should match",
            id="project_id",
        ),
        pytest.param(
            'project_id = "00000000-0000-0000-0000-000000000000"',
            "",
            "graph.project_id: required key is missing",
            id="project_id-missing",
        ),
        pytest.param(
            MEMORY,
            MEMORY + '\nmemroy = "8GB"',
            "graph.memroy: unknown key; did you mean 'memory'? (allowed here: backend, cloud_provider, "
            "constraints, indexes, memory, project_id, region, storage, type, version)",
            id="unknown-key-hint-names-aura-keys",
        ),
    ],
)
def test_each_aura_mistake_names_the_file_and_key(tmp_path, old, new, expected):
    report = load_edited(tmp_path, old, new)
    assert f"prod.toml: {expected}" in report, report


def test_the_shipped_aura_tables_load_with_a_document_constraint():
    for env in ("dev", "staging", "prod"):
        graph = load_environment(ENVIRONMENTS / f"{env}.toml").config.graph
        assert graph is not None and graph.backend == "aura"
        assert [(c.label, c.properties, c.type) for c in graph.constraints] == [
            ("Document", ["id"], "unique")
        ]


def test_defaults_never_leave_the_tier_to_the_provider():
    """The provider's own defaults are free-db on gcp."""
    from infrakit.config.neo4j_aura import AuraNeo4j

    graph = AuraNeo4j.model_validate({"backend": "aura", "project_id": "p", "region": "eu-west-1"})
    chosen = (graph.type, graph.cloud_provider, graph.memory, graph.version)
    assert chosen == ("professional-db", "aws", "1GB", "5")
