"""Wire a Fargate app service to the connection contract and the backends it talks to, and wire
the environment's monitoring to what runs on AWS."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from constructs import Construct

from infrakit.cdk import VpcSecurityGroupIngressRule
from infrakit.config.aws import ElastiCacheRedis
from infrakit.config.models import EnvironmentConfig, FargateApi, FargateWorker
from infrakit.constructs.aws.fargate_service import Egress, FargateService
from infrakit.constructs.aws.stored_secret import StoredSecret
from infrakit.constructs.secret_value import SecretValue
from infrakit.contract import ALIASES, SENSITIVE, ConnectionContract
from infrakit.stacks.platforms import Platforms

if TYPE_CHECKING:
    from infrakit.constructs.aws.load_balancer import PublicLoadBalancer
    from infrakit.stacks.roles import AppService, Cache

# Outbound ports each managed backend needs from the tasks (all over TLS).
EGRESS_BY_BACKEND = {
    "supabase": [
        (6543, "Supabase Postgres, transaction pooler"),
        (5432, "Supabase Postgres, session pooler"),
    ],
    "qdrant_cloud": [(6333, "Qdrant Cloud REST")],
    # neo4j+s:// is Bolt over TLS on 7687.
    "aura": [(7687, "Neo4j AuraDB Bolt")],
}


def fargate_app_service(
    scope: Construct,
    name: str,
    *,
    config: FargateApi | FargateWorker,
    contract: ConnectionContract,
    platforms: Platforms,
    cache: Cache,
    load_balancer: PublicLoadBalancer | None,
) -> FargateService:
    aws = platforms.aws
    service_name = f"{platforms.prefix}-{name}"
    wiring = Construct(scope, f"{name}-wiring")

    environment = dict(config.environment)
    secret_values: dict[str, str] = {}
    for contract_name, endpoint in contract.values():
        if contract_name in SENSITIVE:
            secret_values[contract_name.upper()] = endpoint.in_network
        else:
            environment[contract_name.upper()] = endpoint.in_network
    for variable, ref in sorted(config.secrets.items()):
        secret_values[variable] = SecretValue(
            wiring, f"value-{variable}", source=ref, description=f"{name} {variable}"
        ).value
    # One secret per service and variable: each execution role can read only its own copies.
    secrets = {
        variable: StoredSecret(
            wiring,
            f"secret-{variable}",
            name=f"{service_name}/{variable}",
            value=value,
            key=aws.key,
            protect=aws.settings.deletion_protection,
        )
        for variable, value in sorted(secret_values.items())
    }
    # An alias reads the very secret (or value) of the name it stands for: no second copy.
    for alias, contract_name in ALIASES.items():
        if (target := contract_name.upper()) in secrets:
            secrets[alias] = secrets[target]
        elif target in environment:
            environment[alias] = environment[target]

    egress = [Egress(443, "HTTPS: images, logs, secrets and managed APIs")]
    backends = platforms.environment_backends()
    for backend in backends:
        egress += [Egress(port, description) for port, description in EGRESS_BY_BACKEND.get(backend, [])]
    if cache.security_group_id is not None:
        egress.append(Egress(6379, "Redis", cidr=None, security_group_id=cache.security_group_id))

    service = FargateService(
        scope,
        name,
        name=service_name,
        config=config,
        cluster=platforms.ecs_cluster,
        network=aws.network,
        key=aws.key,
        aws=aws.settings,
        environment=environment,
        secrets=secrets,
        egress=egress,
        # Blue/green and canary add the second target group, the listener rules and ECS's role.
        route=load_balancer.route_for(config.deployment) if load_balancer else None,
    )
    cache.admit(name, service.security_group_id)
    if load_balancer is not None and isinstance(config, FargateApi):
        load_balancer.forward_to(service.security_group_id, config.port)
        VpcSecurityGroupIngressRule(
            wiring,
            "from-load-balancer",
            security_group_id=service.security_group_id,
            referenced_security_group_id=load_balancer.security_group_id,
            ip_protocol="tcp",
            from_port=config.port,
            to_port=config.port,
            description="from the load balancer",
        )
    return service


def watch_environment(
    scope: Construct,
    config: EnvironmentConfig,
    platforms: Platforms,
    services: Mapping[str, AppService],
    *,
    cache: Cache,
    load_balancer: PublicLoadBalancer | None,
) -> None:
    """Alarms, their topic and the dashboard, over whichever services run on AWS; each Fargate
    service gets its deployment alarms here."""
    from infrakit.constructs.aws.elasticache import ElastiCacheRedisGroup
    from infrakit.constructs.aws.monitoring import EnvironmentMonitoring

    assert config.alarms is not None, "validated: an environment on AWS has [alarms]"
    aws = platforms.aws
    elasticache = config.cache if isinstance(config.cache, ElastiCacheRedis) else None
    fronted = config.api.load_balancer if isinstance(config.api, FargateApi) else None
    on_fargate = {name: service for name, service in services.items() if isinstance(service, FargateService)}
    EnvironmentMonitoring(
        scope,
        "monitoring",
        name=platforms.prefix,
        settings=config.alarms,
        key=aws.key,
        region=aws.settings.region,
        cluster=platforms.ecs_cluster if on_fargate else None,
        services=on_fargate,
        load_balancer=load_balancer,
        health_check_path=fronted.health_check_path if fronted else None,
        cache=cache if isinstance(cache, ElastiCacheRedisGroup) else None,
        cache_nodes=elasticache.num_cache_clusters if elasticache else 0,
    )
