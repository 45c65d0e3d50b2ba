"""The roles of the topology, what every backend of a role hands the rest of the stack, and the one
table from (role, backend name) to the construct that builds it.

EnvironmentStack asks for a role, never a backend's class, so a new backend is one construct module
and one row in `BUILDERS`; mypy checks that the row's construct fills the role. Each builder imports
its backend when called: a local synth never loads the AWS, Supabase or Qdrant Cloud bindings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from constructs import Construct

from infrakit.config.models import (
    ApiConfig,
    CacheConfig,
    DatabaseConfig,
    GraphConfig,
    VectorStoreConfig,
    WorkerConfig,
)
from infrakit.constructs.key_rotation import KeyRotation
from infrakit.contract import ConnectionContract, Endpoint
from infrakit.stacks.names import APP_SERVICES
from infrakit.stacks.platforms import Platforms

if TYPE_CHECKING:
    from infrakit.constructs.aws.load_balancer import PublicLoadBalancer
    from infrakit.constructs.docker.service_container import ServiceContainer
    from infrakit.constructs.supabase.database import SupabaseEndpoints

# ----------------------------------------------------------------------------- roles


class Database(Protocol):
    @property
    def database_url(self) -> Endpoint: ...
    @property
    def migration_url(self) -> Endpoint | None:
        """Where migrations connect, where it differs from `database_url` (a session pooler)."""

    @property
    def supabase(self) -> SupabaseEndpoints | None: ...
    @property
    def service_keys(self) -> Mapping[str, Endpoint]:
        """Each app service's own secret key, by service name, where the backend issues them."""

    @property
    def docker_service(self) -> ServiceContainer | None:
        """The container a local app container waits for."""


class Cache(Protocol):
    @property
    def redis_url(self) -> Endpoint: ...
    @property
    def security_group_id(self) -> str | None:
        """The security group a client's tasks reach the cache through, where it sits in a VPC."""

    @property
    def docker_service(self) -> ServiceContainer | None: ...
    def admit(self, client_id: str, security_group_id: str) -> None:
        """Let a client's security group in; nothing to do where no security group guards the cache."""


class VectorStore(Protocol):
    @property
    def qdrant_url(self) -> Endpoint: ...
    @property
    def api_key(self) -> Endpoint:
        """The operator's key (the post-apply bootstrap)."""

    @property
    def service_keys(self) -> Mapping[str, Endpoint]: ...
    @property
    def docker_service(self) -> ServiceContainer | None: ...


class GraphStore(Protocol):
    @property
    def neo4j_uri(self) -> Endpoint: ...
    @property
    def username(self) -> Endpoint: ...
    @property
    def password(self) -> Endpoint: ...
    @property
    def docker_service(self) -> ServiceContainer | None: ...


class AppService(Protocol):
    @property
    def repository_url(self) -> str | None:
        """The image registry the service runs from; None where the image is built on the machine."""


# ----------------------------------------------------------------------------- builders


@dataclass(frozen=True)
class Site:
    """What every builder may draw on: the stack to build in and the environment's shared parts."""

    scope: Construct
    platforms: Platforms
    rotation: KeyRotation
    protect_data: bool


@dataclass(frozen=True)
class Stores:
    """The datastores and the load balancer, as an app service is wired to them."""

    database: Database
    cache: Cache
    vector_store: VectorStore
    graph_store: GraphStore | None
    load_balancer: PublicLoadBalancer | None


AppConfig = ApiConfig | WorkerConfig


def _postgres_container(site: Site, config: DatabaseConfig) -> Database:
    from infrakit.config.models import DockerPostgres
    from infrakit.constructs.docker.postgres import PostgresContainer

    assert isinstance(config, DockerPostgres)
    return PostgresContainer(site.scope, "database", network=site.platforms.docker, config=config)


def _supabase_database(site: Site, config: DatabaseConfig) -> Database:
    from infrakit.config.supabase import SupabasePostgres
    from infrakit.constructs.supabase.database import SupabaseDatabase

    assert isinstance(config, SupabasePostgres)
    return SupabaseDatabase(
        site.scope,
        "database",
        name=site.platforms.prefix,
        config=config,
        services=list(APP_SERVICES),
        rotation=site.rotation,
        protect=site.protect_data,
    )


def _redis_container(site: Site, config: CacheConfig) -> Cache:
    from infrakit.config.models import DockerRedis
    from infrakit.constructs.docker.redis import RedisContainer

    assert isinstance(config, DockerRedis)
    return RedisContainer(site.scope, "cache", network=site.platforms.docker, config=config)


def _elasticache_redis(site: Site, config: CacheConfig) -> Cache:
    from infrakit.config.aws import ElastiCacheRedis
    from infrakit.constructs.aws.elasticache import ElastiCacheRedisGroup

    assert isinstance(config, ElastiCacheRedis)
    aws = site.platforms.aws
    return ElastiCacheRedisGroup(
        site.scope,
        "cache",
        name=site.platforms.prefix,
        config=config,
        network=aws.network,
        key=aws.key,
        protect=aws.settings.deletion_protection,
        log_retention_days=aws.settings.log_retention_days,
    )


def _qdrant_container(site: Site, config: VectorStoreConfig) -> VectorStore:
    from infrakit.config.models import DockerQdrant
    from infrakit.constructs.docker.qdrant import QdrantContainer

    assert isinstance(config, DockerQdrant)
    return QdrantContainer(site.scope, "vector-store", network=site.platforms.docker, config=config)


def _qdrant_cloud_cluster(site: Site, config: VectorStoreConfig) -> VectorStore:
    from infrakit.config.qdrant_cloud import QdrantCloud
    from infrakit.constructs.qdrant_cloud.cluster import QdrantCloudCluster

    assert isinstance(config, QdrantCloud)
    return QdrantCloudCluster(
        site.scope,
        "vector-store",
        name=site.platforms.prefix,
        config=config,
        services=list(APP_SERVICES),
        rotation=site.rotation,
        protect=site.protect_data,
    )


def _aura_instance(site: Site, config: GraphConfig) -> GraphStore:
    from infrakit.config.neo4j_aura import AuraNeo4j
    from infrakit.constructs.neo4j_aura.instance import AuraInstance

    assert isinstance(config, AuraNeo4j)
    return AuraInstance(
        site.scope, "graph-store", name=site.platforms.prefix, config=config, protect=site.protect_data
    )


def _neo4j_container(site: Site, config: GraphConfig) -> GraphStore:
    from infrakit.config.models import DockerNeo4j
    from infrakit.constructs.docker.neo4j import Neo4jContainer

    assert isinstance(config, DockerNeo4j)
    return Neo4jContainer(site.scope, "graph-store", network=site.platforms.docker, config=config)


def _app_container(
    site: Site, name: str, config: AppConfig, contract: ConnectionContract, stores: Stores
) -> AppService:
    from infrakit.config.models import DockerApi, DockerWorker
    from infrakit.constructs.docker.app_container import AppContainer

    assert isinstance(config, DockerApi | DockerWorker)
    waits_for = (
        stores.database.docker_service,
        stores.cache.docker_service,
        stores.vector_store.docker_service,
        stores.graph_store.docker_service if stores.graph_store else None,
    )
    return AppContainer(
        site.scope,
        name,
        network=site.platforms.docker,
        config=config,
        contract=contract,
        depends_on=[service for service in waits_for if service is not None],
    )


def _fargate_service(
    site: Site, name: str, config: AppConfig, contract: ConnectionContract, stores: Stores
) -> AppService:
    from infrakit.config.models import FargateApi, FargateWorker
    from infrakit.stacks.fargate_wiring import fargate_app_service

    assert isinstance(config, FargateApi | FargateWorker)
    return fargate_app_service(
        site.scope,
        name,
        config=config,
        contract=contract,
        platforms=site.platforms,
        cache=stores.cache,
        load_balancer=stores.load_balancer if name == "api" else None,
    )


@dataclass(frozen=True)
class Builders:
    """One table per role, each from backend name (the config's `backend = "..."`) to its builder."""

    database: Mapping[str, Callable[[Site, DatabaseConfig], Database]]
    cache: Mapping[str, Callable[[Site, CacheConfig], Cache]]
    vector_store: Mapping[str, Callable[[Site, VectorStoreConfig], VectorStore]]
    graph_store: Mapping[str, Callable[[Site, GraphConfig], GraphStore]]
    app_service: Mapping[str, Callable[[Site, str, AppConfig, ConnectionContract, Stores], AppService]]


BUILDERS = Builders(
    database={"docker": _postgres_container, "supabase": _supabase_database},
    cache={"docker": _redis_container, "elasticache": _elasticache_redis},
    vector_store={"docker": _qdrant_container, "qdrant_cloud": _qdrant_cloud_cluster},
    graph_store={"docker": _neo4j_container, "aura": _aura_instance},
    app_service={"docker": _app_container, "fargate": _fargate_service},
)
