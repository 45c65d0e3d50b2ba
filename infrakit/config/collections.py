"""Qdrant collections an environment declares. The post-apply bootstrap creates them, and Qdrant
Cloud service keys are scoped to them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from infrakit.config.types import Model, named_once

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"
CollectionName = Annotated[str, Field(pattern=NAME_PATTERN)]
PayloadSchema = Literal["keyword", "integer", "float", "bool", "geo", "text", "datetime", "uuid"]


class CollectionSpec(Model):
    name: CollectionName
    vector_size: int = Field(ge=1, le=65536)
    distance: Literal["Cosine", "Dot", "Euclid", "Manhattan"] = "Cosine"
    # Qdrant's defaults. m = 0 disables the HNSW graph (for collections filtered to small sets).
    hnsw_m: int = Field(default=16, ge=0, le=128)
    hnsw_ef_construct: int = Field(default=100, ge=4, le=1000)
    # Sent when the collection is created, and compared afterwards: a collection keeps the values
    # it was created with, whatever the cluster's defaults become. Qdrant Cloud environments
    # default them to the cluster's `replication_factor` and `number_of_nodes` (one shard per
    # node, Qdrant's own default); a single self-hosted node takes 1 and 1.
    shard_number: int = Field(default=1, ge=1, le=1024)  # the cap only catches typos
    replication_factor: int = Field(default=1, ge=1)
    # field name -> payload schema, e.g. { tenant_id = "keyword" }
    payload_indexes: dict[Annotated[str, Field(min_length=1)], PayloadSchema] = {}


unique_names = named_once("collections")
