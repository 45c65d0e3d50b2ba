"""EnvironmentStack: database, vector store, cache/queue, graph store, api and worker, for one environment.

The topology is written once; each service's backend comes from the environment's config, built by
its row in infrakit/stacks/roles.py. Backend modules are imported only when used, so that a local
synth never loads AWS bindings.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from constructs import Construct

from infrakit.cdk import RandomProvider, TerraformOutput, TerraformStack
from infrakit.config import Environment
from infrakit.constructs.key_rotation import KeyRotation
from infrakit.contract import ConnectionContract, Endpoint
from infrakit.stacks.outputs import publish_contract
from infrakit.stacks.platforms import Platforms
from infrakit.stacks.provider_sources import qualify_provider_sources
from infrakit.stacks.roles import BUILDERS, AppService, Site, Stores
from infrakit.stacks.state import configure_state

if TYPE_CHECKING:
    from infrakit.constructs.aws.load_balancer import PublicLoadBalancer


class EnvironmentStack(TerraformStack):
    def __init__(self, scope: Construct, environment: Environment):
        super().__init__(scope, environment.name)
        self.environment = environment
        self.platforms = Platforms(self, environment)
        configure_state(self, environment)
        RandomProvider(self, "random")

        self.key_rotation = KeyRotation(
            self, "key-rotation", generations=environment.config.key_rotation.model_dump()
        )
        config = environment.config
        site = Site(self, self.platforms, self.key_rotation, self._protect_data)
        database = BUILDERS.database[config.database.backend](site, config.database)
        cache = BUILDERS.cache[config.cache.backend](site, config.cache)
        vector_store = BUILDERS.vector_store[config.vector_store.backend](site, config.vector_store)
        graph_store = BUILDERS.graph_store[config.graph.backend](site, config.graph) if config.graph else None
        load_balancer = self._load_balancer()
        supabase = database.supabase
        contract = ConnectionContract(
            database_url=database.database_url,
            redis_url=cache.redis_url,
            qdrant_url=vector_store.qdrant_url,
            qdrant_api_key=vector_store.api_key,
            api_url=load_balancer.api_url if load_balancer else self._docker_api_url(),
            supabase_url=supabase.url if supabase else None,
            supabase_publishable_key=supabase.publishable_key if supabase else None,
            supabase_secret_key=supabase.secret_key if supabase else None,
            neo4j_uri=graph_store.neo4j_uri if graph_store else None,
            neo4j_username=graph_store.username if graph_store else None,
            neo4j_password=graph_store.password if graph_store else None,
        )
        stores = Stores(database, cache, vector_store, graph_store, load_balancer)
        services = self._app_services(site, contract, stores)
        if self.environment.config.uses_aws:
            from infrakit.stacks.fargate_wiring import watch_environment

            watch_environment(
                self,
                self.environment.config,
                self.platforms,
                services,
                cache=cache,
                load_balancer=load_balancer,
            )

        publish_contract(self, contract)
        if database.migration_url is not None:
            TerraformOutput(
                self,
                "database_migration_url",
                value=database.migration_url.from_operator,
                sensitive=True,
            )
        qualify_provider_sources(self)

    @property
    def _protect_data(self) -> bool:
        """Whether stateful resources refuse to be destroyed: [aws] deletion_protection, and on for a
        cloud environment without [aws], where nothing says it is disposable."""
        aws = self.environment.config.aws
        return aws.deletion_protection if aws else True

    # ------------------------------------------------------------------------- api and worker

    def _docker_api_url(self) -> Endpoint:
        from infrakit.constructs.docker.app_container import api_endpoint

        config = self.environment.config.api
        assert config.backend == "docker"
        return api_endpoint(config)

    def _load_balancer(self) -> PublicLoadBalancer | None:
        config = self.environment.config.api
        if config.backend != "fargate":
            return None
        from infrakit.constructs.aws.load_balancer import PublicLoadBalancer

        aws = self.platforms.aws
        return PublicLoadBalancer(
            self,
            "load-balancer",
            name=self.platforms.prefix,
            settings=config.load_balancer,
            target_port=config.port,
            network=aws.network,
            key=aws.key,
            aws=aws.settings,
        )

    def _app_services(
        self, site: Site, contract: ConnectionContract, stores: Stores
    ) -> dict[str, AppService]:
        """Every app service, by name (alarms watch those that run on AWS)."""
        built: dict[str, AppService] = {}
        app_configs = (("api", self.environment.config.api), ("worker", self.environment.config.worker))
        for name, config in app_configs:
            # Each service gets its own keys where a backend issues per-service keys.
            own_contract = contract
            if name in stores.vector_store.service_keys:
                own_contract = replace(own_contract, qdrant_api_key=stores.vector_store.service_keys[name])
            if name in stores.database.service_keys:
                own_contract = replace(own_contract, supabase_secret_key=stores.database.service_keys[name])
            service = BUILDERS.app_service[config.backend](site, name, config, own_contract, stores)
            if service.repository_url is not None:
                TerraformOutput(self, f"{name}_image_repository", value=service.repository_url)
            built[name] = service
        return built
