"""Redis on ElastiCache: the cloud backend of the cache/queue service."""

from __future__ import annotations

from constructs import Construct

from infrakit.cdk import (
    ElasticacheParameterGroup,
    ElasticacheParameterGroupParameter,
    ElasticacheReplicationGroup,
    ElasticacheReplicationGroupLogDeliveryConfiguration,
    ElasticacheSubnetGroup,
    Id,
    Password,
    SecurityGroup,
    VpcSecurityGroupIngressRule,
)
from infrakit.config.aws import ElastiCacheRedis
from infrakit.constructs.aws.encryption_key import EnvironmentKey
from infrakit.constructs.aws.log_group import encrypted_log_group
from infrakit.constructs.aws.network import PrivateNetwork
from infrakit.constructs.aws.stored_secret import StoredSecret
from infrakit.constructs.protection import prevent_destroy
from infrakit.contract import Endpoint

PORT = 6379


class ElastiCacheRedisGroup(Construct):
    """A replication group in private subnets with TLS, an AUTH token and a customer-managed key.

    - Windows: maintenance and snapshots happen in the config's windows (validated apart), never
      in ones ElastiCache picks at random.
    - Logs: each of the config's log types (slow log, engine log) is delivered as JSON to a log
      group of its own, encrypted with the environment key and kept `log_retention_days`. The
      group names start with /aws/vendedlogs/, so the account's CloudWatch Logs resource policy,
      which ElastiCache extends to admit its log delivery, never outgrows its size limit ("Enabling
      logging from AWS services", CloudWatch Logs User Guide). The key policy already lets CloudWatch
      Logs use the key for every log group of the account (encryption_key.py). The group names each
      log group by reference, so Terraform creates the log groups first.
    - Events: to `notification_topic_arn` when the config names one.

    The security group admits nothing until `admit` is called for each client's security group.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        config: ElastiCacheRedis,
        network: PrivateNetwork,
        key: EnvironmentKey,
        protect: bool,
        log_retention_days: int,
    ):
        super().__init__(scope, id_)
        self._name = name
        self.security_group_id = SecurityGroup(
            self,
            "security-group",
            name=f"{name}-redis",
            description=f"{name} Redis: admits only the service tasks",
            vpc_id=network.vpc_id,
            tags={"Name": f"{name}-redis"},
        ).id
        subnets = ElasticacheSubnetGroup(
            self, "subnets", name=f"{name}-redis", subnet_ids=network.private_subnet_ids
        )
        parameters = ElasticacheParameterGroup(
            self,
            "parameters",
            name=f"{name}-redis",
            family=config.parameter_group_family,
            description="BullMQ queues need noeviction: an evicted job key is lost work",
            parameter=[ElasticacheParameterGroupParameter(name="maxmemory-policy", value="noeviction")],
        )
        # ElastiCache AUTH tokens allow 16-128 printable characters; alphanumerics avoid URL escaping.
        token = Password(self, "auth-token", length=64, special=False).result
        self.auth_token_secret = StoredSecret(
            self, "auth-token-secret", name=f"{name}/redis-auth-token", value=token, key=key, protect=protect
        )
        # A destroy keeps the data as a final snapshot. Its name must be new each time: a suffix that
        # changes whenever the group is created again keeps a second destroy from failing on it.
        suffix = Id(self, "final-snapshot-suffix", byte_length=4, keepers={"group": f"{name}-redis"}).hex
        self.log_groups = {
            log_type: encrypted_log_group(
                self,
                f"{log_type}s",
                name=f"/aws/vendedlogs/infrakit/{name}/redis/{log_type}",
                key=key,
                retention_days=log_retention_days,
            )
            for log_type in config.logs
        }
        deliveries = [
            ElasticacheReplicationGroupLogDeliveryConfiguration(
                destination=log_group.name,  # a reference: the log group is created first
                destination_type="cloudwatch-logs",
                log_format="json",
                log_type=log_type,
            )
            for log_type, log_group in self.log_groups.items()
        ]
        group = ElasticacheReplicationGroup(
            self,
            "group",
            replication_group_id=f"{name}-redis",
            description=f"{name} cache and queues",
            engine="redis",
            engine_version=config.engine_version,
            node_type=config.node_type,
            num_cache_clusters=config.num_cache_clusters,
            automatic_failover_enabled=config.automatic_failover,
            multi_az_enabled=config.multi_az,
            port=PORT,
            parameter_group_name=parameters.name,
            subnet_group_name=subnets.name,
            security_group_ids=[self.security_group_id],
            transit_encryption_enabled=True,
            auth_token=token,
            at_rest_encryption_enabled="true",  # a string in provider 6.x
            kms_key_id=key.arn,
            snapshot_retention_limit=config.snapshot_retention_days,
            final_snapshot_identifier=f"{name}-redis-final-{suffix}",
            auto_minor_version_upgrade="true",
            maintenance_window=config.maintenance_window,
            snapshot_window=config.snapshot_window,
            log_delivery_configuration=deliveries or None,
            notification_topic_arn=config.notification_topic_arn,
            # False: changes wait for maintenance_window. ElastiCache refuses a change to log
            # delivery unless it applies at once (hashicorp/terraform-provider-aws#49842), which is
            # what `apply_immediately = true` in the config is for.
            apply_immediately=config.apply_immediately,
        )
        prevent_destroy(group, when=protect)
        self.group = group  # for alarms on its metrics
        self.docker_service = None
        # rediss:// is TLS. Tasks use this; it is unreachable from outside the VPC. The AUTH token is
        # the password of the `default` user, named so that redis-cli accepts the URL too.
        self.redis_url = Endpoint.everywhere(
            f"rediss://default:{token}@{group.primary_endpoint_address}:{PORT}/0"
        )

    def admit(self, client_id: str, security_group_id: str) -> None:
        VpcSecurityGroupIngressRule(
            self,
            f"from-{client_id}",
            security_group_id=self.security_group_id,
            referenced_security_group_id=security_group_id,
            ip_protocol="tcp",
            from_port=PORT,
            to_port=PORT,
            description=f"Redis from {client_id} tasks",
        )
