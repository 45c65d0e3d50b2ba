"""[graph] with backend = "aura": Neo4j AuraDB through the Neo4j Labs provider neo4j-labs/neo4jaura."""

from __future__ import annotations

from typing import Literal

from infrakit.config.graph import GraphSchema


class AuraNeo4j(GraphSchema):
    backend: Literal["aura"]
    project_id: str
    region: str
    cloud_provider: Literal["aws", "gcp", "azure"] = "aws"
    memory: str = "1GB"
    type: str = "professional-db"
