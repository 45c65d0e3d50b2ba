"""EnvironmentStack: database, vector store, cache/queue, api and worker, for one environment."""

from __future__ import annotations

from cdktf import LocalBackend, TerraformStack
from cdktf_cdktf_provider_docker.provider import DockerProvider
from cdktf_cdktf_provider_random.provider import RandomProvider
from constructs import Construct

from infrakit.config import Environment
from infrakit.constructs.docker.app_container import AppContainer, api_endpoint
from infrakit.constructs.docker.network import LocalNetwork
from infrakit.constructs.docker.postgres import PostgresContainer
from infrakit.constructs.docker.qdrant import QdrantContainer
from infrakit.constructs.docker.redis import RedisContainer
from infrakit.contract import ConnectionContract
from infrakit.stacks.outputs import publish_contract
from infrakit.stacks.provider_sources import qualify_provider_sources


class EnvironmentStack(TerraformStack):
    def __init__(self, scope: Construct, environment: Environment):
        super().__init__(scope, environment.name)
        config = environment.config
        prefix = f"{config.project}-{environment.name}"

        # Terraform runs in cdktf.out/stacks/<env>; a relative path keeps state at the
        # project root and keeps absolute paths out of the synthesized output.
        LocalBackend(self, path=f"../../../terraform.{environment.name}.tfstate")
        DockerProvider(self, "docker")
        RandomProvider(self, "random")

        network = LocalNetwork(
            self,
            "network",
            name=prefix,
            labels={"infrakit.project": config.project, "infrakit.environment": environment.name},
        )
        database = PostgresContainer(self, "database", network=network, config=config.database)
        cache = RedisContainer(self, "cache", network=network, config=config.cache)
        vector_store = QdrantContainer(self, "vector-store", network=network, config=config.vector_store)
        contract = ConnectionContract(
            database_url=database.database_url,
            redis_url=cache.redis_url,
            qdrant_url=vector_store.qdrant_url,
            qdrant_api_key=vector_store.api_key,
            api_url=api_endpoint(config.api),
        )
        datastores = [database.service, cache.service, vector_store.service]
        for name, service in (("api", config.api), ("worker", config.worker)):
            AppContainer(
                self,
                name,
                network=network,
                config=service,
                contract=contract,
                depends_on=datastores,
            )

        publish_contract(self, contract)
        qualify_provider_sources(self)
