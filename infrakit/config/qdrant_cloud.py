"""Config for Qdrant Cloud: the managed backend of the vector store."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from infrakit.config.collections import CollectionName, CollectionSpec, unique_names
from infrakit.config.cron import CronSchedule
from infrakit.config.types import Model

# Qdrant Cloud's API takes at most 20 source ranges, IPv4 only.
MAX_SOURCE_RANGES = 20
# A database API key takes at most 20 collection rules.
MAX_COLLECTIONS = 20
# What the provider accepts (qdrant/terraform-provider-qdrant-cloud): names in a key's collection
# rules, and the cluster's `version`. Checked here, because apply would fail after the cluster exists.
KEY_RULE_NAME_LENGTH = (4, 64)
CLUSTER_VERSION = r"^(v\d+\.\d+\.\d+|latest)$"

_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _ipv4_cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        raise PydanticCustomError("cidr", "not a CIDR block: {error}", {"error": str(error)}) from None
    if network.version != 4:
        raise PydanticCustomError("cidr_ipv6", "Qdrant Cloud takes IPv4 source ranges only")
    return value


Ipv4Cidr = Annotated[str, AfterValidator(_ipv4_cidr)]


def _key_rule_name(name: str) -> str:
    low, high = KEY_RULE_NAME_LENGTH
    if not low <= len(name) <= high:
        raise PydanticCustomError(
            "key_rule_name",
            "{name} is {length} characters; Qdrant Cloud API key rules take collection names of "
            "{low} to {high} characters: rename the collection",
            {"name": name, "length": len(name), "low": low, "high": high},
        )
    return name


def _cluster_version(version: str) -> str:
    if not re.fullmatch(CLUSTER_VERSION, version):
        raise PydanticCustomError(
            "cluster_version",
            'Qdrant Cloud takes "latest" or an exact release with a leading v, such as "v1.13.4"; '
            "got {version}",
            {"version": version},
        )
    return version


class CloudCollectionSpec(CollectionSpec):
    """A collection on Qdrant Cloud: its name also goes into each service key's access rules."""

    name: Annotated[CollectionName, AfterValidator(_key_rule_name)]


class QdrantBackups(Model):
    """`[vector_store.backups]`: when Qdrant Cloud backs the cluster up, and how long it keeps each."""

    # Five cron fields, in UTC: minute hour day-of-month month day-of-week.
    cron: CronSchedule
    retention_days: int = Field(ge=1, le=365)

    @property
    def runs_daily_or_more(self) -> bool:
        """True when the schedule fires every day: day-of-month, month and day-of-week are all `*`."""
        return self.cron.split()[2:] == ["*", "*", "*"]


class QdrantCloud(Model):
    """A managed Qdrant cluster, with one database API key per app service."""

    backend: Literal["qdrant_cloud"]
    cloud_provider: Literal["aws", "gcp", "azure"] = "aws"
    cloud_region: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")
    number_of_nodes: int = Field(ge=1, le=100)
    # The node size: an id from `qdrant-cloud_booking_packages`, or a package name (such as
    # "free2") that Terraform looks up in that list when it plans.
    package_id: str | None = Field(default=None, pattern=_UUID)
    package_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    replication_factor: int = Field(default=1, ge=1)
    write_consistency_factor: int = Field(default=1, ge=1)
    # "latest" or an exact release such as "v1.13.4" (the provider's pattern).
    version: Annotated[str, AfterValidator(_cluster_version)] | None = None
    # Who may reach the cluster. Empty leaves it reachable from anywhere, behind its API keys.
    allowed_ip_source_ranges: list[Ipv4Cidr] = Field(default=[], max_length=MAX_SOURCE_RANGES)
    # The collections api and worker read and write. Their keys are scoped to exactly these,
    # because Qdrant Cloud has no global read-write access type (infrakit/constructs/qdrant_cloud).
    collections: Annotated[list[CloudCollectionSpec], AfterValidator(unique_names)] | None = None
    # Backups outlive the cluster unless this is set, so a mistaken destroy stays recoverable.
    delete_backups_on_destroy: bool = False
    # Scheduled backups (Qdrant Cloud keeps them apart from the cluster's disks).
    backups: QdrantBackups | None = None

    @field_validator("collections")
    @classmethod
    def _cluster_defaults(
        cls, collections: list[CloudCollectionSpec] | None, info: ValidationInfo
    ) -> list[CloudCollectionSpec] | None:
        """A collection's unset shard_number and replication_factor come from the cluster: one
        shard per node, and the cluster's replication_factor. Both are sent when the collection
        is created, so the collection keeps them if the cluster's defaults change."""
        nodes, factor = info.data.get("number_of_nodes"), info.data.get("replication_factor")
        if collections is None or nodes is None or factor is None:
            return collections  # their own errors are reported
        resolved = []
        for collection in collections:
            update: dict[str, int] = {}
            if "shard_number" not in collection.model_fields_set:
                update["shard_number"] = nodes
            if "replication_factor" not in collection.model_fields_set:
                update["replication_factor"] = factor
            collection = collection.model_copy(update=update)
            if collection.replication_factor > nodes:
                raise PydanticCustomError(
                    "replication_factor",
                    "collection {name}: replication_factor {rf} exceeds number_of_nodes {nodes}: each "
                    "replica needs its own node; lower it or add nodes",
                    {"name": collection.name, "rf": collection.replication_factor, "nodes": nodes},
                )
            resolved.append(collection)
        return resolved

    @model_validator(mode="after")
    def _consistent(self) -> QdrantCloud:
        if (self.package_id is None) == (self.package_name is None):
            raise PydanticCustomError(
                "package",
                "set exactly one of package_id (a UUID from qdrant-cloud_booking_packages) or "
                'package_name (for example "free2")',
            )
        if self.replication_factor > self.number_of_nodes:
            raise PydanticCustomError(
                "replication_factor",
                "replication_factor {rf} exceeds number_of_nodes {nodes}: each replica needs its "
                "own node; lower replication_factor or add nodes",
                {"rf": self.replication_factor, "nodes": self.number_of_nodes},
            )
        if self.write_consistency_factor > self.replication_factor:
            raise PydanticCustomError(
                "write_consistency_factor",
                "write_consistency_factor {wcf} exceeds replication_factor {rf}: a write cannot "
                "wait for more replicas than exist",
                {"wcf": self.write_consistency_factor, "rf": self.replication_factor},
            )
        if not self.collections:
            raise PydanticCustomError(
                "collections",
                "collections is required: declare the collections api and worker use as "
                "[[vector_store.collections]] tables; each service's API key gets read-write access "
                "to exactly these",
            )
        if len(self.collections) > MAX_COLLECTIONS:
            raise PydanticCustomError(
                "collections",
                "at most {max} collections: one API key takes 20 rules",
                {"max": MAX_COLLECTIONS},
            )
        return self
