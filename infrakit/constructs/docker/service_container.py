"""One hardened container: the single place local containers get their safety defaults."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from constructs import Construct

from infrakit.cdk import (
    Container,
    ContainerCapabilities,
    ContainerHealthcheck,
    ContainerLabels,
    ContainerNetworksAdvanced,
    ContainerPorts,
    ContainerVolumes,
    Image,
    Volume,
)
from infrakit.config.types import ContainerSizing, docker_cpus
from infrakit.constructs.docker.network import LocalNetwork

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class PublishedPort:
    container: int
    host: int


@dataclass(frozen=True)
class ContainerSpec:
    alias: str  # the service's name on the private network
    sizing: ContainerSizing
    user: str
    healthcheck: Sequence[str]
    command: Sequence[str] | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    ports: Sequence[PublishedPort] = ()  # each published on 127.0.0.1 only
    data_path: str | None = None  # mount point of a named volume, for stateful services


class ServiceContainer(Construct):
    """A pinned image run with a healthcheck, restart policy, limits and no extra privileges.

    Published ports bind to 127.0.0.1 only. `wait` makes apply block until the healthcheck
    passes, so a service that never becomes healthy fails the deploy instead of hiding.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        network: LocalNetwork,
        spec: ContainerSpec,
        depends_on: Sequence[ServiceContainer] = (),
    ):
        super().__init__(scope, id_)
        name = f"{network.prefix}-{spec.alias}"
        image = Image(self, "image", name=spec.sizing.image_ref, keep_locally=True)
        volumes = []
        if spec.data_path:
            volume = Volume(self, "data", name=f"{name}-data")
            volumes.append(ContainerVolumes(volume_name=volume.name, container_path=spec.data_path))
        self.container: Container = Container(
            self,
            "container",
            name=name,
            image=image.image_id,
            user=spec.user,
            command=list(spec.command) if spec.command else None,
            env=[f"{k}={v}" for k, v in sorted(spec.environment.items())] or None,
            healthcheck=ContainerHealthcheck(
                test=list(spec.healthcheck),
                interval="10s",
                timeout="5s",
                retries=5,
                start_period="30s",
            ),
            restart="unless-stopped",
            wait=True,
            wait_timeout=120,
            memory=spec.sizing.memory_mb,
            memory_swap=spec.sizing.memory_mb,  # equal to memory: no swap beyond the limit
            cpus=_cpus(spec.sizing.cpus),
            privileged=False,
            capabilities=ContainerCapabilities(drop=["ALL"]),
            security_opts=["no-new-privileges:true"],
            log_driver="json-file",
            log_opts={"max-size": "10m", "max-file": "3"},
            networks_advanced=[ContainerNetworksAdvanced(name=network.network_name, aliases=[spec.alias])],
            ports=[
                ContainerPorts(internal=port.container, external=port.host, ip=LOOPBACK)
                for port in spec.ports
            ]
            or None,
            volumes=volumes or None,
            labels=[ContainerLabels(label=k, value=v) for k, v in sorted(network.labels.items())],
            # With wait=True, dependents start only once these are healthy.
            depends_on=[d.container for d in depends_on] or None,
        )


def _cpus(value: float) -> str:
    """The spelling the provider reads back, so that an unchanged config plans no replacement."""
    return docker_cpus(value)
