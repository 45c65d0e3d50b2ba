"""The product's own services (api, worker) as containers wired by the connection contract."""

from __future__ import annotations

from collections.abc import Sequence

from constructs import Construct

from infrakit.config.models import DockerApi, DockerWorker
from infrakit.constructs.docker.network import LocalNetwork
from infrakit.constructs.docker.service_container import (
    LOOPBACK,
    ContainerSpec,
    PublishedPort,
    ServiceContainer,
)
from infrakit.constructs.secret_value import SecretValue
from infrakit.contract import ConnectionContract, Endpoint


class AppContainer(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        network: LocalNetwork,
        config: DockerApi | DockerWorker,
        contract: ConnectionContract,
        depends_on: Sequence[ServiceContainer] = (),
    ):
        super().__init__(scope, id_)
        # The image is built on this machine, not pulled from a registry.
        self.repository_url: str | None = None
        secrets = {
            name: SecretValue(self, f"secret-{name}", source=ref, description=f"{id_} {name}").value
            for name, ref in sorted(config.secrets.items())
        }
        ports = (
            [PublishedPort(container=config.port, host=config.host_port)]
            if isinstance(config, DockerApi)
            else []  # the worker takes no traffic
        )
        ServiceContainer(
            self,
            "service",
            network=network,
            spec=ContainerSpec(
                alias=id_,
                sizing=config,
                user=config.user,
                command=config.command,
                environment={**config.environment, **secrets, **contract.container_environment()},
                healthcheck=config.healthcheck,
                ports=ports,
            ),
            depends_on=depends_on,
        )


def api_endpoint(config: DockerApi) -> Endpoint:
    """Where the api listens; known before the container exists, so the api can receive it."""
    return Endpoint(
        in_network=f"http://api:{config.port}",
        from_operator=f"http://{LOOPBACK}:{config.host_port}",
    )
