"""Bindings for the Qdrant Cloud provider (qdrant/qdrant-cloud), pinned to one exact version.

Only the arguments infrakit uses are bound; see ../shared/reference.md "Qdrant Cloud provider".
The provider reads QDRANT_CLOUD_API_KEY and QDRANT_CLOUD_ACCOUNT_ID at apply time, so no
credential is ever an argument here and none can reach cdk.tf.json.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from constructs import Construct

from infrakit.bindings import BoundDataSource, BoundProvider, BoundResource, is_token, require_text
from infrakit.cdk import Fn, TerraformProviderGeneratorMetadata, TerraformResourceLifecycle, Token

SOURCE = "qdrant/qdrant-cloud"
VERSION = "1.28.0"
METADATA = TerraformProviderGeneratorMetadata(
    provider_name="qdrant-cloud", provider_version_constraint=VERSION
)

# Database API key (v2) access types, exactly as the provider spells them. There is no global
# read-write type: read-write access is granted per collection.
GLOBAL_READ_ONLY = "GLOBAL_ACCESS_RULE_ACCESS_TYPE_READ_ONLY"
GLOBAL_MANAGE = "GLOBAL_ACCESS_RULE_ACCESS_TYPE_MANAGE"
COLLECTION_READ_ONLY = "COLLECTION_ACCESS_RULE_ACCESS_TYPE_READ_ONLY"
COLLECTION_READ_WRITE = "COLLECTION_ACCESS_RULE_ACCESS_TYPE_READ_WRITE"
MAX_COLLECTION_RULES = 20

REST_PORT = 6333

# Package names go into a Terraform expression; plain names keep that expression well formed.
_PACKAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class QdrantCloudProvider(BoundProvider):
    """The provider block. The API key and account id come from the environment, never from code."""

    TF_RESOURCE_TYPE = "qdrant-cloud"

    def __init__(self, scope: Construct, id_: str, *, api_url: str | None = None):
        super().__init__(
            scope,
            id_,
            name=self.TF_RESOURCE_TYPE,
            source=SOURCE,
            metadata=METADATA,
            arguments={"api_url": api_url},
        )


# ----------------------------------------------------------------------------- cluster


@dataclass(frozen=True)
class CollectionDefaults:
    """Defaults for new collections (database_configuration.collection)."""

    replication_factor: int | None = None
    write_consistency_factor: int | None = None


@dataclass(frozen=True)
class ClusterConfiguration:
    """The cluster's `configuration` block."""

    number_of_nodes: int
    package_id: str
    collection: CollectionDefaults | None = None
    allowed_ip_source_ranges: Sequence[str] | None = None
    version: str | None = None

    def check(self, block: str) -> None:
        require_text(block, "configuration.node_configuration.package_id", self.package_id)
        defaults = self.collection or CollectionDefaults()
        replication, consistency = defaults.replication_factor, defaults.write_consistency_factor
        if any(is_token(value) for value in (self.number_of_nodes, replication, consistency)):
            return  # known only at apply time
        if self.number_of_nodes < 1:
            raise ValueError(f"{block}: configuration.number_of_nodes must be at least 1")
        if replication is not None and not 1 <= replication <= self.number_of_nodes:
            raise ValueError(
                f"{block}: replication_factor {replication} must be between 1 and "
                f"number_of_nodes ({self.number_of_nodes})"
            )
        if consistency is not None and not 1 <= consistency <= (replication or 1):
            raise ValueError(
                f"{block}: write_consistency_factor {consistency} must be between 1 and "
                f"replication_factor ({replication or 1})"
            )

    def to_block(self) -> dict[str, object]:
        collection = self.collection
        return {
            "number_of_nodes": self.number_of_nodes,
            "node_configuration": {"package_id": self.package_id},
            "database_configuration": (
                {
                    "collection": {
                        "replication_factor": collection.replication_factor,
                        "write_consistency_factor": collection.write_consistency_factor,
                    }
                }
                if collection
                else None
            ),
            "allowed_ip_source_ranges": (
                list(self.allowed_ip_source_ranges) if self.allowed_ip_source_ranges is not None else None
            ),
            "version": self.version,
        }


class QdrantCloudCluster(BoundResource):
    """A managed Qdrant cluster.

    `delete_backups_on_destroy` defaults to true in the provider; this binding always writes it,
    so destroying a cluster never silently takes its backups along.
    """

    TF_RESOURCE_TYPE = "qdrant-cloud_accounts_cluster"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        cloud_provider: str,
        cloud_region: str,
        configuration: ClusterConfiguration,
        delete_backups_on_destroy: bool = False,
        account_id: str | None = None,
        labels: Mapping[str, str] | None = None,
        lifecycle: TerraformResourceLifecycle | None = None,
    ):
        block = self.TF_RESOURCE_TYPE
        require_text(block, "name", name)
        require_text(block, "cloud_provider", cloud_provider)
        require_text(block, "cloud_region", cloud_region)
        configuration.check(block)
        super().__init__(
            scope,
            id_,
            resource_type=block,
            metadata=METADATA,
            lifecycle=lifecycle,
            arguments={
                "name": name,
                "cloud_provider": cloud_provider,
                "cloud_region": cloud_region,
                "configuration": configuration.to_block(),
                "delete_backups_on_destroy": delete_backups_on_destroy,
                "account_id": account_id,
                "labels": (
                    [{"key": key, "value": value} for key, value in sorted(labels.items())]
                    if labels
                    else None
                ),
            },
        )

    @property
    def cluster_id(self) -> str:
        return self.get_string_attribute("id")

    @property
    def url(self) -> str:
        """The cluster endpoint, without a port."""
        return self.get_string_attribute("url")

    @property
    def rest_url(self) -> str:
        """`https://<host>:6333`, whether or not the provider's `url` already carries a scheme."""
        host = Fn.trimprefix(Fn.trimprefix(Fn.trimsuffix(self.url, "/"), "https://"), "http://")
        return f"https://{host}:{REST_PORT}"


# ----------------------------------------------------------------------------- database API keys


@dataclass(frozen=True)
class GlobalAccessRule:
    access_type: str

    def to_block(self, block: str) -> dict[str, str]:
        _one_of(block, "global_access_rule.access_type", self.access_type, (GLOBAL_READ_ONLY, GLOBAL_MANAGE))
        return {"access_type": self.access_type}


@dataclass(frozen=True)
class CollectionAccessRule:
    collection_name: str
    access_type: str

    def to_block(self, block: str) -> dict[str, str]:
        require_text(block, "collection_access_rules.collection_name", self.collection_name)
        _one_of(
            block,
            "collection_access_rules.access_type",
            self.access_type,
            (COLLECTION_READ_ONLY, COLLECTION_READ_WRITE),
        )
        return {"collection_name": self.collection_name, "access_type": self.access_type}


def _one_of(block: str, argument: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{block}: {argument} '{value}' is not one of {', '.join(allowed)}")


class QdrantCloudDatabaseApiKey(BoundResource):
    """An API key for one cluster's database, scoped by one global rule or by collection rules.

    The provider does not mark `key` sensitive: outputs carrying it must be marked sensitive.
    """

    TF_RESOURCE_TYPE = "qdrant-cloud_accounts_database_api_key_v2"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster_id: str,
        name: str,
        expires_at: str | None = None,
        global_access_rule: GlobalAccessRule | None = None,
        collection_access_rules: Sequence[CollectionAccessRule] | None = None,
        lifecycle: TerraformResourceLifecycle | None = None,
    ):
        block = self.TF_RESOURCE_TYPE
        require_text(block, "cluster_id", cluster_id)
        require_text(block, "name", name)
        if global_access_rule is not None and collection_access_rules is not None:
            raise ValueError(f"{block}: give either global_access_rule or collection_access_rules, not both")
        if (
            collection_access_rules is not None
            and not 1 <= len(collection_access_rules) <= MAX_COLLECTION_RULES
        ):
            raise ValueError(
                f"{block}: collection_access_rules takes 1 to {MAX_COLLECTION_RULES} rules, "
                f"got {len(collection_access_rules)}"
            )
        super().__init__(
            scope,
            id_,
            resource_type=block,
            metadata=METADATA,
            arguments={
                "cluster_id": cluster_id,
                "name": name,
                "expires_at": expires_at,
                "global_access_rule": global_access_rule.to_block(block) if global_access_rule else None,
                "collection_access_rules": (
                    [rule.to_block(block) for rule in collection_access_rules]
                    if collection_access_rules is not None
                    else None
                ),
            },
            lifecycle=lifecycle,
        )

    @property
    def key(self) -> str:
        return self.get_string_attribute("key")


# ----------------------------------------------------------------------------- backups


class QdrantCloudBackupSchedule(BoundResource):
    """Scheduled backups of one cluster, kept for `retention_period` (a Go duration, e.g. "168h").

    `delete_backups_on_destroy` defaults to true in the provider (1.28.0,
    qdrant-cloud/schemas_accounts_backup_schedules.go), and its delete passes the value on: Qdrant
    Cloud then deletes every backup the schedule took. A schedule is destroyed when
    `[vector_store.backups]` goes, and replaced with its cluster (`cluster_id` forces a new one), so
    this binding always writes the argument, false unless asked. Terraform deletes with the value in
    the state, not the configuration: a schedule deployed without it keeps `true` until a deploy
    updates it in place (the plan gate refuses its replacement meanwhile, infrakit/deploy/stateful.py).
    """

    TF_RESOURCE_TYPE = "qdrant-cloud_accounts_backup_schedule"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster_id: str,
        cron_expression: str,
        retention_period: str | None = None,
        delete_backups_on_destroy: bool = False,
    ):
        block = self.TF_RESOURCE_TYPE
        require_text(block, "cluster_id", cluster_id)
        require_text(block, "cron_expression", cron_expression)
        if retention_period is not None and not re.fullmatch(r"\d+h", retention_period):
            raise ValueError(f'{block}: retention_period is a Go duration in hours, e.g. "168h"')
        super().__init__(
            scope,
            id_,
            resource_type=block,
            metadata=METADATA,
            arguments={
                "cluster_id": cluster_id,
                "cron_expression": cron_expression,
                "retention_period": retention_period,
                "delete_backups_on_destroy": delete_backups_on_destroy,
            },
        )


# ----------------------------------------------------------------------------- booking packages


class DataQdrantCloudBookingPackages(BoundDataSource):
    """The packages (node sizes) on offer in one cloud region."""

    TF_RESOURCE_TYPE = "qdrant-cloud_booking_packages"

    def __init__(self, scope: Construct, id_: str, *, cloud_provider: str, cloud_region: str):
        require_text(self.TF_RESOURCE_TYPE, "cloud_provider", cloud_provider)
        require_text(self.TF_RESOURCE_TYPE, "cloud_region", cloud_region)
        super().__init__(
            scope,
            id_,
            data_type=self.TF_RESOURCE_TYPE,
            metadata=METADATA,
            arguments={"cloud_provider": cloud_provider, "cloud_region": cloud_region},
        )

    @property
    def package_names(self) -> list[str]:
        return Token.as_list(self.interpolation_for_attribute("packages[*].name"))

    def package_id_named(self, name: str) -> str:
        """The id of the package called `name`, looked up by Terraform when it reads the packages."""
        if not _PACKAGE_NAME.match(name):
            raise ValueError(
                f"{self.TF_RESOURCE_TYPE}: package name '{name}' must be letters, digits, '_', '.' or '-'"
            )
        ids = Token.as_list(self.interpolation_for_attribute("packages[*].id"))
        return Token.as_string(Fn.lookup(Fn.zipmap(self.package_names, ids), name))
