"""Qdrant in a container: the local backend of the vector store."""

from __future__ import annotations

from collections.abc import Mapping

from constructs import Construct

from infrakit.config.models import DockerQdrant
from infrakit.constructs.docker.network import LocalNetwork
from infrakit.constructs.docker.service_container import (
    LOOPBACK,
    ContainerSpec,
    PublishedPort,
    ServiceContainer,
)
from infrakit.constructs.secret_value import SecretValue
from infrakit.contract import Endpoint

ALIAS = "qdrant"
PORT = 6333

# The Qdrant image ships neither curl nor wget; bash's /dev/tcp asks /readyz, which needs no key.
READYZ = (
    "exec 3<>/dev/tcp/127.0.0.1/6333 && "
    "printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && "
    "head -n 1 <&3 | grep -q ' 200 '"
)


class QdrantContainer(Construct):
    def __init__(self, scope: Construct, id_: str, *, network: LocalNetwork, config: DockerQdrant):
        super().__init__(scope, id_)
        api_key = SecretValue(self, "api-key", source=config.api_key, description="Qdrant API key").value
        self.docker_service = ServiceContainer(
            self,
            "service",
            network=network,
            spec=ContainerSpec(
                alias=ALIAS,
                sizing=config,
                user="1000:1000",  # the -unprivileged image's user
                environment={"QDRANT__SERVICE__API_KEY": api_key},
                healthcheck=["CMD", "bash", "-c", READYZ],
                ports=[PublishedPort(container=PORT, host=config.host_port)],
                data_path="/qdrant/storage",
            ),
        )
        self.qdrant_url = Endpoint(
            in_network=f"http://{ALIAS}:{PORT}",
            from_operator=f"http://{LOOPBACK}:{config.host_port}",
        )
        self.api_key = Endpoint.everywhere(api_key)
        # One key for every caller: the container's single static API key.
        self.service_keys: Mapping[str, Endpoint] = {}
