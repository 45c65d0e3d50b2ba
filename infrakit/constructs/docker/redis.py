"""Redis in a container: the local backend of the cache/queue service."""

from __future__ import annotations

from constructs import Construct

from infrakit.config.models import DockerRedis
from infrakit.constructs.docker.network import LocalNetwork
from infrakit.constructs.docker.service_container import (
    LOOPBACK,
    ContainerSpec,
    PublishedPort,
    ServiceContainer,
)
from infrakit.constructs.secret_value import SecretValue
from infrakit.contract import Endpoint

ALIAS = "redis"
PORT = 6379
# `requirepass` sets the password of this built-in user.
DEFAULT_USER = "default"


def server_arguments(config: DockerRedis) -> list[str]:
    """redis-server flags. The worker's BullMQ queues need noeviction: evicting a job key
    silently loses work. AOF keeps queued jobs across restarts."""
    return [
        "--maxmemory", f"{config.maxmemory_mb}mb",
        "--maxmemory-policy", "noeviction",
        "--appendonly", "yes",
        "--appendfsync", "everysec",
    ]  # fmt: skip


class RedisContainer(Construct):
    def __init__(self, scope: Construct, id_: str, *, network: LocalNetwork, config: DockerRedis):
        super().__init__(scope, id_)
        password = SecretValue(
            self, "password", source=config.password, description="Redis AUTH password"
        ).value
        # The password reaches redis-server through the environment, not argv: arguments are
        # visible to every user of the host in `ps`.
        start = " ".join(['exec redis-server --requirepass "$REDIS_PASSWORD"', *server_arguments(config)])
        self.docker_service = ServiceContainer(
            self,
            "service",
            network=network,
            spec=ContainerSpec(
                alias=ALIAS,
                sizing=config,
                user="redis",
                command=["sh", "-c", start],
                environment={"REDIS_PASSWORD": password},
                healthcheck=[
                    "CMD-SHELL",
                    'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG',
                ],
                ports=[PublishedPort(container=PORT, host=config.host_port)],
                data_path="/data",
            ),
        )
        # The user name is spelled out: since Redis 6.2, redis-cli reads `redis://:PW@` as user ""
        # and is refused (WRONGPASS), while redis-py and ioredis accept either form.
        self.redis_url = Endpoint(
            in_network=f"redis://{DEFAULT_USER}:{password}@{ALIAS}:{PORT}/0",
            from_operator=f"redis://{DEFAULT_USER}:{password}@{LOOPBACK}:{config.host_port}/0",
        )
        # The local network is the only boundary: no security group to admit clients through.
        self.security_group_id: str | None = None

    def admit(self, client_id: str, security_group_id: str) -> None:
        """Nothing to do: every container on the local network reaches Redis."""
