"""[graph]: the product's graph database, Neo4j 5, and the schema the post-apply bootstrap keeps.

Optional: an environment without [graph] has no Neo4j. `backend = "docker"` runs Neo4j community
in local Docker (infrakit/constructs/docker/neo4j.py); `backend = "aura"` runs Neo4j AuraDB through
the Neo4j Labs provider (infrakit/constructs/neo4j_aura/instance.py).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from infrakit.config.types import Model, named_once

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

    @model_validator(mode="after")
    def _one_property_when_not_null(self) -> GraphConstraint:
        # Neo4j 5: `REQUIRE n.p IS NOT NULL` takes one property; there is no composite form.
        if self.type == "not_null" and len(self.properties) != 1:
            raise PydanticCustomError(
                "graph_not_null_properties",
                'constraint {name}: type = "not_null" takes exactly one property, got {count}; '
                "declare one constraint per property",
                {"name": self.name, "count": len(self.properties)},
            )
        return self


class GraphIndex(Model):
    """[[graph.indexes]]: one node index, created with CREATE ... INDEX ... IF NOT EXISTS."""

    name: GraphName
    label: GraphName
    properties: Annotated[list[GraphName], Field(min_length=1)]
    type: Literal["range", "text", "fulltext", "vector"] = "range"
    # Vector indexes only: the embedding's length and how vectors are compared.
    dimensions: int | None = Field(default=None, ge=1, le=4096)
    similarity: Literal["cosine", "euclidean"] | None = None

    @model_validator(mode="after")
    def _settings_fit_the_type(self) -> GraphIndex:
        vector = self.type == "vector"
        if vector and (self.dimensions is None or self.similarity is None):
            missing = [key for key in ("dimensions", "similarity") if getattr(self, key) is None]
            raise PydanticCustomError(
                "graph_vector_settings",
                'index {name}: type = "vector" needs {missing} '
                '(e.g. dimensions = 1536, similarity = "cosine")',
                {"name": self.name, "missing": " and ".join(missing)},
            )
        if not vector and (self.dimensions is not None or self.similarity is not None):
            given = [key for key in ("dimensions", "similarity") if getattr(self, key) is not None]
            raise PydanticCustomError(
                "graph_vector_only",
                'index {name}: {given} apply to type = "vector" only, and this index is type = "{type}"',
                {"name": self.name, "given": " and ".join(given), "type": self.type},
            )
        # Neo4j 5 builds text and vector indexes on a single property; range and fulltext may be composite.
        if self.type in ("text", "vector") and len(self.properties) != 1:
            raise PydanticCustomError(
                "graph_single_property",
                'index {name}: type = "{type}" takes exactly one property, got {count}',
                {"name": self.name, "type": self.type, "count": len(self.properties)},
            )
        return self


unique_schema_names = named_once()


def only_unique_constraints(constraints: list[GraphConstraint]) -> list[GraphConstraint]:
    """For Neo4j community (the local Docker backend): it refuses NODE KEY and NOT NULL constraints
    ("... constraint requires Neo4j Enterprise Edition"). Use as AfterValidator on `constraints`."""
    refused = [c.name for c in constraints if c.type != "unique"]
    if refused:
        raise PydanticCustomError(
            "graph_enterprise_constraint",
            "declares {names} with a type Neo4j community refuses (node_key and not_null are Enterprise "
            'features; Aura has them): use type = "unique" here, or backend = "aura"',
            {"names": ", ".join(refused)},
        )
    return constraints


class GraphSchema(Model):
    """What every graph backend shares: the constraints and indexes the bootstrap creates."""

    constraints: Annotated[list[GraphConstraint], AfterValidator(unique_schema_names)] = []
    indexes: Annotated[list[GraphIndex], AfterValidator(unique_schema_names)] = []

    @model_validator(mode="after")
    def _no_clashes_between_constraints_and_indexes(self) -> GraphSchema:
        # Neo4j: a name "must be unique among both indexes and constraints".
        both = sorted({c.name for c in self.constraints} & {i.name for i in self.indexes})
        if both:
            raise PydanticCustomError(
                "graph_name_shared",
                "{names} names both a constraint and an index; Neo4j keeps one namespace for both",
                {"names": ", ".join(both)},
            )
        # A unique or node_key constraint brings its own range index over the same label and
        # properties, and Neo4j refuses a second one.
        owned = {(c.label, tuple(c.properties)): c.name for c in self.constraints if c.type != "not_null"}
        for index in self.indexes:
            if index.type == "range" and (index.label, tuple(index.properties)) in owned:
                raise PydanticCustomError(
                    "graph_index_of_constraint",
                    "index {index} repeats the range index constraint {constraint} already creates on "
                    "the same label and properties: remove the index",
                    {"index": index.name, "constraint": owned[(index.label, tuple(index.properties))]},
                )
        return self
