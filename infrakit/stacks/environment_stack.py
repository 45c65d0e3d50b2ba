"""EnvironmentStack: database, vector store, cache/queue, api and worker, for one environment.

The topology is written once; each service's backend comes from the environment's config.
Backend modules are imported only when used, so that a local synth never loads AWS bindings.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from constructs import Construct

from infrakit.cdk import RandomProvider, TerraformOutput, TerraformStack
from infrakit.config import Environment
from infrakit.constructs.key_rotation import KeyRotation
from infrakit.contract import ConnectionContract, Endpoint
from infrakit.stacks.names import APP_SERVICES
from infrakit.stacks.outputs import publish_contract
from infrakit.stacks.platforms import Platforms
from infrakit.stacks.provider_sources import qualify_provider_sources
from infrakit.stacks.state import configure_state


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
        database = self._database()
        cache = self._cache()
        vector_store = self._vector_store()
        load_balancer = self._load_balancer()
        contract = ConnectionContract(
            database_url=database.database_url,
            redis_url=cache.redis_url,
            qdrant_url=vector_store.qdrant_url,
            qdrant_api_key=vector_store.api_key,
            api_url=load_balancer.api_url if load_balancer else self._docker_api_url(),
            supabase_url=getattr(database, "supabase_url", None),
            supabase_publishable_key=getattr(database, "supabase_publishable_key", None),
            supabase_secret_key=getattr(database, "supabase_secret_key", None),
        )
        services = self._app_services(contract, database, cache, vector_store, load_balancer)
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
        if hasattr(database, "database_migration_url"):
            TerraformOutput(
                self,
                "database_migration_url",
                value=database.database_migration_url.from_operator,
                sensitive=True,
            )
        qualify_provider_sources(self)

    # ------------------------------------------------------------------------- datastores

    def _database(self) -> Any:
        config = self.environment.config.database
        if config.backend == "docker":
            from infrakit.constructs.docker.postgres import PostgresContainer

            return PostgresContainer(self, "database", network=self.platforms.docker, config=config)
        from infrakit.constructs.supabase.database import SupabaseDatabase

        return SupabaseDatabase(
            self,
            "database",
            name=self.platforms.prefix,
            config=config,
            services=list(APP_SERVICES),
            rotation=self.key_rotation,
            protect=self._protect_data,
        )

    def _cache(self) -> Any:
        config = self.environment.config.cache
        if config.backend == "docker":
            from infrakit.constructs.docker.redis import RedisContainer

            return RedisContainer(self, "cache", network=self.platforms.docker, config=config)
        from infrakit.constructs.aws.elasticache import ElastiCacheRedisGroup

        aws = self.platforms.aws
        return ElastiCacheRedisGroup(
            self,
            "cache",
            name=self.platforms.prefix,
            config=config,
            network=aws.network,
            key=aws.key,
            protect=aws.settings.deletion_protection,
            log_retention_days=aws.settings.log_retention_days,
        )

    def _vector_store(self) -> Any:
        config = self.environment.config.vector_store
        if config.backend == "docker":
            from infrakit.constructs.docker.qdrant import QdrantContainer

            return QdrantContainer(self, "vector-store", network=self.platforms.docker, config=config)
        from infrakit.constructs.qdrant_cloud.cluster import QdrantCloudCluster

        return QdrantCloudCluster(
            self,
            "vector-store",
            name=self.platforms.prefix,
            config=config,
            services=list(APP_SERVICES),
            rotation=self.key_rotation,
            protect=self._protect_data,
        )

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

    def _load_balancer(self) -> Any:
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
        self,
        contract: ConnectionContract,
        database: Any,
        cache: Any,
        vector_store: Any,
        load_balancer: Any,
    ) -> dict[str, Any]:
        """The services that run on Fargate, by name (alarms watch them)."""
        on_fargate = {}
        for name in APP_SERVICES:
            config = getattr(self.environment.config, name)
            # Each service gets its own keys where a backend issues per-service keys.
            own_contract = contract
            qdrant_keys = getattr(vector_store, "service_api_keys", {})
            if name in qdrant_keys:
                own_contract = replace(own_contract, qdrant_api_key=qdrant_keys[name])
            supabase_keys = getattr(database, "service_secret_keys", {})
            if name in supabase_keys:
                own_contract = replace(own_contract, supabase_secret_key=supabase_keys[name])
            if config.backend == "docker":
                from infrakit.constructs.docker.app_container import AppContainer

                AppContainer(
                    self,
                    name,
                    network=self.platforms.docker,
                    config=config,
                    contract=own_contract,
                    depends_on=[d.service for d in (database, cache, vector_store) if hasattr(d, "service")],
                )
            else:
                from infrakit.stacks.fargate_wiring import fargate_app_service

                service = fargate_app_service(
                    self,
                    name,
                    config=config,
                    contract=own_contract,
                    platforms=self.platforms,
                    cache=cache,
                    load_balancer=load_balancer if name == "api" else None,
                )
                TerraformOutput(self, f"{name}_image_repository", value=service.repository_url)
                on_fargate[name] = service
        return on_fargate
