"""[graph]: the product's graph database, Neo4j 5, and the schema the post-apply bootstrap keeps.

Optional: an environment without [graph] has no Neo4j. `backend = "docker"` runs Neo4j community
in local Docker (infrakit/constructs/docker/neo4j.py); `backend = "aura"` runs Neo4j AuraDB through
the Neo4j Labs provider (infrakit/constructs/neo4j_aura/instance.py).
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from infrakit.config.types import Model

# Neo4j names (constraints, indexes, labels, property keys) as infrakit accepts them: plain
# identifiers, so that the bootstrap writes them into Cypher without quoting.
GraphName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]


class GraphConstraint(Model):
    """[[graph.constraints]]: one node constraint, created with CREATE CONSTRAINT ... IF NOT EXISTS."""

    name: GraphName
    label: GraphName
    properties: Annotated[list[GraphName], Field(min_length=1)]
    # unique: IS UNIQUE (every edition); node_key: IS NODE KEY and not_null: IS NOT NULL are
    # Enterprise features (Aura has them, Neo4j community does not).
    type: Literal["unique", "node_key", "not_null"] = "unique"


class GraphIndex(Model):
    """[[graph.indexes]]: one node index, created with CREATE ... INDEX ... IF NOT EXISTS."""

    name: GraphName
    label: GraphName
    properties: Annotated[list[GraphName], Field(min_length=1)]
    type: Literal["range", "text", "fulltext", "vector"] = "range"
    # Vector indexes only: the embedding's length and how vectors are compared.
    dimensions: int | None = Field(default=None, ge=1, le=4096)
    similarity: Literal["cosine", "euclidean"] | None = None


_Named = TypeVar("_Named", "GraphConstraint", "GraphIndex")


def _unique_schema_names(items: list[_Named]) -> list[_Named]:
    names = [item.name for item in items]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise PydanticCustomError(
            "graph_name_twice", "declares {names} more than once", {"names": ", ".join(twice)}
        )
    return items


class GraphSchema(Model):
    """What every graph backend shares: the constraints and indexes the bootstrap creates."""

    constraints: Annotated[list[GraphConstraint], AfterValidator(_unique_schema_names)] = []
    indexes: Annotated[list[GraphIndex], AfterValidator(_unique_schema_names)] = []
