"""Redis on ElastiCache: the cloud backend of the cache/queue service."""

from __future__ import annotations

from constructs import Construct

from infrakit.cdk import (
    ElasticacheParameterGroup,
    ElasticacheParameterGroupParameter,
    ElasticacheReplicationGroup,
    ElasticacheSubnetGroup,
    Id,
    Password,
    SecurityGroup,
    VpcSecurityGroupIngressRule,
)
from infrakit.config.aws import ElastiCacheRedis
from infrakit.constructs.aws.encryption_key import EnvironmentKey
from infrakit.constructs.aws.network import PrivateNetwork
from infrakit.constructs.aws.stored_secret import StoredSecret
from infrakit.constructs.protection import prevent_destroy
from infrakit.contract import Endpoint

PORT = 6379


class ElastiCacheRedisGroup(Construct):
    """A replication group in private subnets with TLS, an AUTH token and a customer-managed key.

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
    ):
        super().__init__(scope, id_)
        self._name = name
        self.security_group = SecurityGroup(
            self,
            "security-group",
            name=f"{name}-redis",
            description=f"{name} Redis: admits only the service tasks",
            vpc_id=network.vpc_id,
            tags={"Name": f"{name}-redis"},
        )
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
            security_group_ids=[self.security_group.id],
            transit_encryption_enabled=True,
            auth_token=token,
            at_rest_encryption_enabled="true",  # a string in provider 6.x
            kms_key_id=key.arn,
            snapshot_retention_limit=config.snapshot_retention_days,
            final_snapshot_identifier=f"{name}-redis-final-{suffix}",
            auto_minor_version_upgrade="true",
            apply_immediately=False,
        )
        prevent_destroy(group, when=protect)
        self.group = group  # for alarms on its metrics
        # rediss:// is TLS. Tasks use this; it is unreachable from outside the VPC. The AUTH token is
        # the password of the `default` user, named so that redis-cli accepts the URL too.
        self.redis_url = Endpoint.everywhere(
            f"rediss://default:{token}@{group.primary_endpoint_address}:{PORT}/0"
        )

    def admit(self, client_id: str, security_group_id: str) -> None:
        VpcSecurityGroupIngressRule(
            self,
            f"from-{client_id}",
            security_group_id=self.security_group.id,
            referenced_security_group_id=security_group_id,
            ip_protocol="tcp",
            from_port=PORT,
            to_port=PORT,
            description=f"Redis from {client_id} tasks",
        )
