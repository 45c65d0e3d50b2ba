"""Qdrant Cloud: the managed backend of the vector store."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from constructs import Construct

from infrakit.bindings import qdrant_cloud as qc
from infrakit.cdk import Fn, Precondition, TerraformResourceLifecycle
from infrakit.config.qdrant_cloud import QdrantCloud
from infrakit.constructs.key_rotation import KeyRotation
from infrakit.constructs.protection import prevent_destroy
from infrakit.contract import Endpoint

OPERATOR = "operator"
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


class QdrantCloudCluster(Construct):
    """A managed Qdrant cluster and one database API key per caller, each scoped as narrowly as
    Qdrant Cloud allows.

    - The operator key (the post-apply bootstrap) creates collections and payload indexes, which
      only the global MANAGE access type permits.
    - Each service key gets READ_WRITE on the configured collections only. Qdrant Cloud has no
      global read-write type, and global MANAGE would also let a service drop collections.

    Every key rotates without an outage (infrakit/constructs/key_rotation.py).

    The provider reads QDRANT_CLOUD_API_KEY and QDRANT_CLOUD_ACCOUNT_ID at apply time.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        config: QdrantCloud,
        services: Sequence[str],
        rotation: KeyRotation,
        protect: bool = True,  # refuse destroy; an environment that is disposable says so
    ):
        super().__init__(scope, id_)
        _check_services(services)
        assert config.collections, "QdrantCloud validation guarantees at least one collection"
        qc.QdrantCloudProvider(self, "provider")
        package_id, lifecycle = self._package(config)
        self.cluster = qc.QdrantCloudCluster(
            self,
            "cluster",
            name=name,
            cloud_provider=config.cloud_provider,
            cloud_region=config.cloud_region,
            configuration=qc.ClusterConfiguration(
                number_of_nodes=config.number_of_nodes,
                package_id=package_id,
                collection=qc.CollectionDefaults(
                    replication_factor=config.replication_factor,
                    write_consistency_factor=config.write_consistency_factor,
                ),
                allowed_ip_source_ranges=config.allowed_ip_source_ranges or None,
                version=config.version,
            ),
            delete_backups_on_destroy=config.delete_backups_on_destroy,
            lifecycle=lifecycle,
        )
        prevent_destroy(self.cluster, when=protect)
        if config.backups:
            # The one switch covers the cluster's backups and the schedule's: both outlive their
            # resource unless the environment says otherwise. The schedule carries no
            # prevent_destroy: destroying it then loses no backup, the plan gate still refuses it
            # (infrakit/deploy/stateful.py), and `--allow-replace` can let a schedule change through.
            qc.QdrantCloudBackupSchedule(
                self,
                "backups",
                cluster_id=self.cluster.cluster_id,
                cron_expression=config.backups.cron,
                retention_period=f"{config.backups.retention_days * 24}h",
                delete_backups_on_destroy=config.delete_backups_on_destroy,
            )
        operator = qc.QdrantCloudDatabaseApiKey(
            self,
            f"{OPERATOR}-key",
            cluster_id=self.cluster.cluster_id,
            name=f"{name}-{OPERATOR}",
            global_access_rule=qc.GlobalAccessRule(qc.GLOBAL_MANAGE),
            lifecycle=rotation.lifecycle(OPERATOR),
        )
        read_write = [qc.CollectionAccessRule(c.name, qc.COLLECTION_READ_WRITE) for c in config.collections]
        service_keys = {
            service: qc.QdrantCloudDatabaseApiKey(
                self,
                f"{service}-key",
                cluster_id=self.cluster.cluster_id,
                name=f"{name}-{service}",
                collection_access_rules=read_write,
                # A new collection replaces the key (its rules force it): new key first, old revoked
                # after the tasks roll onto the new one.
                lifecycle=rotation.lifecycle(service),
            )
            for service in services
        }

        self.qdrant_url = Endpoint.everywhere(self.cluster.rest_url)
        self.api_key = Endpoint.everywhere(operator.key)
        self.service_keys: Mapping[str, Endpoint] = {
            service: Endpoint.everywhere(key.key) for service, key in service_keys.items()
        }
        self.docker_service = None

    def _package(self, config: QdrantCloud) -> tuple[str, TerraformResourceLifecycle | None]:
        """The package id, looked up by name at plan time when the environment names a package."""
        if config.package_id is not None:
            return config.package_id, None
        assert config.package_name is not None
        packages = qc.DataQdrantCloudBookingPackages(
            self, "packages", cloud_provider=config.cloud_provider, cloud_region=config.cloud_region
        )
        # Without this check a misspelt name fails deep inside Terraform's lookup with no hint.
        known = Precondition(
            condition=Fn.contains(packages.package_names, config.package_name),
            error_message=(
                f"Qdrant Cloud offers no package named '{config.package_name}' in "
                f"{config.cloud_provider}/{config.cloud_region}; pick a name from the "
                "qdrant-cloud_booking_packages data source, or set package_id instead"
            ),
        )
        lifecycle = TerraformResourceLifecycle(precondition=[known])
        return packages.package_id_named(config.package_name), lifecycle


def _check_services(services: Sequence[str]) -> None:
    if isinstance(services, str):
        raise TypeError("services is a list of service names, e.g. ['api', 'worker'], not one string")
    for service in services:
        if not _SERVICE_NAME.match(service):
            raise ValueError(
                f"service name '{service}' must be lowercase letters, digits and '-', starting with a letter"
            )
    if OPERATOR in services:
        raise ValueError(f"'{OPERATOR}' is the bootstrap's own key; pick another service name")
    if len(set(services)) != len(services):
        raise ValueError(f"services lists a name twice: {list(services)}")
