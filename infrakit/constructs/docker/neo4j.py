"""Neo4j 5 community in a container: the local backend of the graph store.

Why `neo4j://` works for both clients. With the routing scheme the driver first asks the server
for a routing table (Bolt ROUTE) and then runs queries on the addresses it lists. A standalone
Neo4j 5 answers with the address the driver itself reports in the routing context's `address`
key, and falls back to `server.bolt.advertised_address` (default `localhost`) only without one:
neo4j/neo4j SingleAddressRoutingTableProvider.java, in community/dbms/.../dbms/routing/ (earlier
community/procedure/.../procedure/builtin/routing/): "It will prefer to return the address provided
by the client in the routingContext", for client- and server-side routing alike. Both clients send
it, as the host and port of the URI they were given: npm neo4j-driver 6.3.0
(neo4j-driver-bolt-connection lib/connection-provider/connection-provider-routing.js:
`{ ...routingContext, address: address.toString() }`) and the Python driver (`Neo4jPool.open`:
`routing_context["address"] = str(address)`). So the api and worker (neo4j://neo4j:7687) are routed
back to the network alias, and the operator (neo4j://127.0.0.1:<bolt_host_port>) back to the
published port, with no advertised address set. Setting one would not help: one address cannot be
right both inside the network and on the host, and the drivers' own address already wins.
"""

from __future__ import annotations

from constructs import Construct

from infrakit.config.models import DockerNeo4j
from infrakit.constructs.docker.network import LocalNetwork
from infrakit.constructs.docker.service_container import (
    LOOPBACK,
    ContainerSpec,
    PublishedPort,
    ServiceContainer,
)
from infrakit.constructs.secret_value import SecretValue
from infrakit.contract import Endpoint

ALIAS = "neo4j"
BOLT_PORT = 7687
HTTP_PORT = 7474
# The image's entrypoint takes NEO4J_AUTH=neo4j/<password> and refuses any other admin name.
USERNAME = "neo4j"

# The image's own user, created in neo4j/docker-neo4j-publish 5.26.x/*/community/Dockerfile by
# `groupadd --gid 7474 --system neo4j` and `useradd --uid 7474 ... --gid neo4j neo4j`. /data is
# theirs in the image, so a new named volume starts owned by them; started as them, the
# entrypoint skips its chown and su-exec steps, which need root's capabilities.
IMAGE_USER = "7474:7474"

# The same Dockerfile installs Debian's GNU wget and purges curl after the build. GET / is the HTTP
# connector's discovery document: it needs no credentials, so no password sits in the healthcheck's
# arguments, which every user of the host sees in `ps`. `-q -O /dev/null` means the same to GNU and
# busybox wget.
HEALTHCHECK = ["CMD", "wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{HTTP_PORT}/"]


def server_settings(config: DockerNeo4j) -> dict[str, str]:
    """neo4j.conf settings as the image's entrypoint reads them from the environment (`.` becomes
    `_`, `_` becomes `__`). The heap is fixed (initial = max) so the JVM never grows into the
    page cache's share of the container's memory."""
    heap = f"{config.heap_mb}m"
    return {
        "NEO4J_server_memory_heap_initial__size": heap,
        "NEO4J_server_memory_heap_max__size": heap,
        "NEO4J_server_memory_pagecache_size": f"{config.page_cache_mb}m",
    }


class Neo4jContainer(Construct):
    def __init__(self, scope: Construct, id_: str, *, network: LocalNetwork, config: DockerNeo4j):
        super().__init__(scope, id_)
        # Generated passwords are alphanumeric: the entrypoint splits NEO4J_AUTH on "/".
        password = SecretValue(self, "password", source=config.password, description="Neo4j password").value
        self.docker_service = ServiceContainer(
            self,
            "service",
            network=network,
            spec=ContainerSpec(
                alias=ALIAS,
                sizing=config,
                user=IMAGE_USER,
                environment={"NEO4J_AUTH": f"{USERNAME}/{password}", **server_settings(config)},
                healthcheck=HEALTHCHECK,
                ports=[
                    PublishedPort(container=BOLT_PORT, host=config.bolt_host_port),
                    PublishedPort(container=HTTP_PORT, host=config.http_host_port),
                ],
                data_path="/data",
            ),
        )
        # Plain Bolt: local traffic never leaves the machine.
        self.neo4j_uri = Endpoint(
            in_network=f"neo4j://{ALIAS}:{BOLT_PORT}",
            from_operator=f"neo4j://{LOOPBACK}:{config.bolt_host_port}",
        )
        self.username = Endpoint.everywhere(USERNAME)
        self.password = Endpoint.everywhere(password)
