"""Postgres in a container: the local backend of the database service."""

from __future__ import annotations

from collections.abc import Mapping

from constructs import Construct

from infrakit.config.models import DockerPostgres
from infrakit.constructs.docker.network import LocalNetwork
from infrakit.constructs.docker.service_container import (
    LOOPBACK,
    ContainerSpec,
    PublishedPort,
    ServiceContainer,
)
from infrakit.constructs.secret_value import SecretValue
from infrakit.contract import Endpoint

ALIAS = "postgres"
PORT = 5432


class PostgresContainer(Construct):
    def __init__(self, scope: Construct, id_: str, *, network: LocalNetwork, config: DockerPostgres):
        super().__init__(scope, id_)
        password = SecretValue(
            self, "password", source=config.password, description="Postgres password"
        ).value
        self.docker_service = ServiceContainer(
            self,
            "service",
            network=network,
            spec=ContainerSpec(
                alias=ALIAS,
                sizing=config,
                user="postgres",
                environment={
                    "POSTGRES_DB": config.database,
                    "POSTGRES_USER": config.user,
                    "POSTGRES_PASSWORD": password,
                },
                healthcheck=[
                    "CMD-SHELL",
                    f"pg_isready -h 127.0.0.1 -U {config.user} -d {config.database}",
                ],
                ports=[PublishedPort(container=PORT, host=config.host_port)],
                data_path="/var/lib/postgresql/data",
            ),
        )
        credentials = f"{config.user}:{password}"
        # Local traffic never leaves the machine; cloud backends require TLS.
        self.database_url = Endpoint(
            in_network=f"postgresql://{credentials}@{ALIAS}:{PORT}/{config.database}?sslmode=disable",
            from_operator=(
                f"postgresql://{credentials}@{LOOPBACK}:{config.host_port}/{config.database}?sslmode=disable"
            ),
        )
        # No pooler in front: migrations connect where the services do.
        self.migration_url: Endpoint | None = None
        self.supabase = None
        self.service_keys: Mapping[str, Endpoint] = {}
