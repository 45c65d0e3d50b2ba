"""Wire a Fargate app service to the connection contract and the backends it talks to."""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from infrakit.config.models import FargateApi, FargateWorker
from infrakit.constructs.aws.fargate_service import Egress, FargateService
from infrakit.constructs.aws.stored_secret import StoredSecret
from infrakit.constructs.secret_value import SecretValue
from infrakit.contract import SENSITIVE, ConnectionContract
from infrakit.stacks.platforms import Platforms

# Outbound ports each managed backend needs from the tasks (all over TLS).
EGRESS_BY_BACKEND = {
    "supabase": [
        (6543, "Supabase Postgres, transaction pooler"),
        (5432, "Supabase Postgres, session pooler"),
    ],
    "qdrant_cloud": [(6333, "Qdrant Cloud REST")],
}


def fargate_app_service(
    scope: Construct,
    name: str,
    *,
    config: FargateApi | FargateWorker,
    contract: ConnectionContract,
    platforms: Platforms,
    cache: Any,
    load_balancer: Any,
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
        ).arn
        for variable, value in sorted(secret_values.items())
    }

    egress = [Egress(443, "HTTPS: images, logs, secrets and managed APIs")]
    backends = platforms.environment_backends()
    for backend in backends:
        egress += [Egress(port, description) for port, description in EGRESS_BY_BACKEND.get(backend, [])]
    if hasattr(cache, "admit"):
        egress.append(Egress(6379, "Redis", cidr=None, security_group_id=cache.security_group.id))

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
        target_group_arn=load_balancer.target_group.arn if load_balancer else None,
    )
    if hasattr(cache, "admit"):
        cache.admit(name, service.security_group.id)
    if load_balancer is not None and isinstance(config, FargateApi):
        load_balancer.forward_to(service.security_group.id, config.port)
        VpcSecurityGroupIngressRule(
            wiring,
            "from-load-balancer",
            security_group_id=service.security_group.id,
            referenced_security_group_id=load_balancer.security_group.id,
            ip_protocol="tcp",
            from_port=config.port,
            to_port=config.port,
            description="from the load balancer",
        )
    return service
