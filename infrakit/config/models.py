"""The typed shape of an environment file, `environments/<name>.toml`.

Every model forbids unknown keys and is frozen: a typo is an error, and constructs receive
values they cannot change. Each service table picks its backend with `backend = "..."`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from infrakit.config.alarms import AlarmSettings
from infrakit.config.aws import (
    AwsSettings,
    ElastiCacheRedis,
    FargateSizing,
    LoadBalancerSettings,
    RemoteState,
)
from infrakit.config.collections import CollectionSpec, unique_names
from infrakit.config.graph import GraphConstraint, GraphSchema, only_unique_constraints, unique_schema_names
from infrakit.config.neo4j_aura import AuraNeo4j
from infrakit.config.qdrant_cloud import QdrantCloud
from infrakit.config.supabase import SupabasePostgres
from infrakit.config.types import (
    GENERATED,
    ContainerSizing,
    Identifier,
    Model,
    Port,
    SecretRef,
)

# `graph` is optional: an environment without [graph] has no Neo4j.
SERVICES = ("database", "cache", "vector_store", "graph", "api", "worker")
AWS_BACKENDS = frozenset({"elasticache", "fargate"})

# The connection contract's names. api and worker receive them, upper-cased, as environment.
CONTRACT_VARIABLES = frozenset(
    {
        "DATABASE_URL",
        "REDIS_URL",
        "QDRANT_URL",
        "QDRANT_API_KEY",
        "API_URL",
        "SUPABASE_URL",
        "SUPABASE_PUBLISHABLE_KEY",
        "SUPABASE_SECRET_KEY",
        "NEO4J_URI",
        "NEO4J_USERNAME",
        "NEO4J_PASSWORD",
        # Aliases kept for one release (infrakit/contract.py ALIASES).
        "SUPABASE_ANON_KEY",
        "SUPABASE_SERVICE_ROLE_KEY",
    }
)

# Names that suggest a value is a credential; such a value must be a secret reference.
_SECRET_LOOKING_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.I)


# ----------------------------------------------------------------------------- datastores


class DockerPostgres(ContainerSizing):
    backend: Literal["docker"]
    host_port: Port = 5432
    database: Identifier = "app"
    user: Identifier = "app"
    password: SecretRef = GENERATED


class DockerRedis(ContainerSizing):
    backend: Literal["docker"]
    host_port: Port = 6379
    password: SecretRef = GENERATED
    maxmemory_mb: int = Field(gt=0)

    @model_validator(mode="after")
    def _maxmemory_fits(self) -> DockerRedis:
        # Redis needs headroom above maxmemory for buffers and AOF rewrites.
        if self.maxmemory_mb >= self.memory_mb:
            raise PydanticCustomError(
                "maxmemory", "maxmemory_mb must be below memory_mb, leaving headroom for Redis itself"
            )
        return self


class DockerQdrant(ContainerSizing):
    backend: Literal["docker"]
    host_port: Port = 6333
    api_key: SecretRef = GENERATED
    collections: Annotated[list[CollectionSpec], AfterValidator(unique_names)] = []


# What a Neo4j JVM needs beyond its heap and page cache, inside the container's memory limit:
# metaspace, thread stacks, Netty's direct buffers for Bolt and HTTP, and the GC's own structures.
NEO4J_NATIVE_HEADROOM_MB = 256


class DockerNeo4j(ContainerSizing, GraphSchema):
    """Neo4j 5 community in local Docker."""

    backend: Literal["docker"]
    bolt_host_port: Port = 7687
    http_host_port: Port = 7474
    password: SecretRef = GENERATED
    heap_mb: int = Field(gt=0)
    page_cache_mb: int = Field(gt=0)
    # Neo4j community refuses NODE KEY and NOT NULL constraints.
    constraints: Annotated[
        list[GraphConstraint], AfterValidator(unique_schema_names), AfterValidator(only_unique_constraints)
    ] = []

    @model_validator(mode="after")
    def _memory_fits(self) -> DockerNeo4j:
        # Past memory_mb the kernel kills the JVM (OOM), which Docker then restarts in a loop.
        needed = self.heap_mb + self.page_cache_mb + NEO4J_NATIVE_HEADROOM_MB
        if needed > self.memory_mb:
            raise PydanticCustomError(
                "neo4j_memory",
                "heap_mb ({heap}) + page_cache_mb ({cache}) must leave at least {headroom} MB of memory_mb "
                "({memory}) for the JVM's own memory (metaspace, threads, network buffers): lower heap_mb "
                "or page_cache_mb, or raise memory_mb to at least {needed}",
                {
                    "heap": self.heap_mb,
                    "cache": self.page_cache_mb,
                    "headroom": NEO4J_NATIVE_HEADROOM_MB,
                    "memory": self.memory_mb,
                    "needed": needed,
                },
            )
        return self


DatabaseConfig = Annotated[DockerPostgres | SupabasePostgres, Field(discriminator="backend")]
CacheConfig = Annotated[DockerRedis | ElastiCacheRedis, Field(discriminator="backend")]
VectorStoreConfig = Annotated[DockerQdrant | QdrantCloud, Field(discriminator="backend")]
GraphConfig = Annotated[DockerNeo4j | AuraNeo4j, Field(discriminator="backend")]


# ----------------------------------------------------------------------------- app services


def _healthcheck(test: list[str]) -> list[str]:
    if len(test) < 2 or test[0] not in ("CMD", "CMD-SHELL"):
        raise PydanticCustomError(
            "healthcheck",
            'expected ["CMD", "<program>", ...] or ["CMD-SHELL", "<shell command>"]',
        )
    return test


class AppSettings(Model):
    """What api and worker share on every backend: how the product's image runs."""

    command: list[str] | None = None
    user: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$")
    healthcheck: Annotated[list[str], AfterValidator(_healthcheck)]
    environment: dict[str, str] = {}
    secrets: dict[str, SecretRef] = {}

    @field_validator("user")
    @classmethod
    def _not_root(cls, user: str) -> str:
        if user.split(":")[0] in ("root", "0"):
            raise PydanticCustomError(
                "root_user", "containers run as a non-root user; pick a uid such as 10001"
            )
        return user

    @field_validator("environment")
    @classmethod
    def _environment_is_plain(cls, environment: dict[str, str]) -> dict[str, str]:
        _reject_contract_names(environment)
        for name in environment:
            if _SECRET_LOOKING_NAME.search(name):
                raise PydanticCustomError(
                    "literal_secret",
                    "{name} looks like a secret written as a literal; move it to "
                    'secrets.{name} = { env = "TF_VAR_<name>" }',
                    {"name": name},
                )
        return environment

    @field_validator("secrets")
    @classmethod
    def _secrets_not_contract(cls, secrets: dict[str, SecretRef]) -> dict[str, SecretRef]:
        _reject_contract_names(secrets)
        return secrets


def _reject_contract_names(names: Mapping[str, object]) -> None:
    for name in names:
        if name in CONTRACT_VARIABLES:
            raise PydanticCustomError(
                "contract_variable",
                "{name} is set by infrakit from the connection contract; remove it",
                {"name": name},
            )


class DockerApi(AppSettings, ContainerSizing):
    backend: Literal["docker"]
    port: Port = 8080
    host_port: Port = 8080


class DockerWorker(AppSettings, ContainerSizing):
    backend: Literal["docker"]


class ImageRetention(Model):
    """How many images the service's ECR repository keeps (its lifecycle policy,
    infrakit/constructs/aws/image_repository.py): the `keep_tagged_images` most recently pushed
    tagged images, and always the one `image_tag` names. At least 2, so that the image a rollback
    returns to survives one newer push; raise it where CI pushes images that are never deployed."""

    keep_tagged_images: int = Field(default=20, ge=2, le=1000)


def _tenths(percent: float | None) -> float | None:
    # CanaryConfiguration canaryPercent: "multiples of 0.1 from 0.1 to 100.0" (ECS API reference).
    if percent is not None and Decimal(str(percent)) % Decimal("0.1") != 0:
        raise PydanticCustomError("canary_percent", "canary_percent must be a multiple of 0.1, e.g. 10")
    return percent


class Deployment(Model):
    """[api.deployment], [worker.deployment]: how ECS replaces a service's tasks with a new revision.

    - `rolling`: new tasks replace old ones within the service's minimum healthy and maximum
      percents; the circuit breaker and the deployment alarms roll a bad release back.
    - `blue_green`: a full set of new (green) tasks starts in the load balancer's alternate target
      group while the old (blue) set serves; ECS then moves all production traffic to green through
      the listener rule, keeps blue running for `bake_time_minutes` while the deployment alarms
      watch, and stops it. A rollback within the bake moves the rule back to blue.
    - `canary`: as `blue_green`, but first `canary_percent` of production traffic goes to green for
      `canary_bake_time_minutes` (ECS default 10), then the rest.

    ECS developer guide: "Amazon ECS blue/green deployments", "Amazon ECS canary deployments"; the
    ranges are the API reference's (DeploymentConfiguration, CanaryConfiguration), which hashicorp/aws
    validates too. Both traffic-shifting strategies need a load balancer: the api has one.
    """

    strategy: Literal["rolling", "blue_green", "canary"] = "rolling"
    bake_time_minutes: int | None = Field(default=None, ge=0, le=1440)
    canary_percent: Annotated[float, Field(ge=0.1, le=100), AfterValidator(_tenths)] | None = None
    canary_bake_time_minutes: int | None = Field(default=None, ge=0, le=1440)
    # Requests carrying this header reach green once ECS shifts test traffic, before production
    # does (the test listener rule); an ALB header condition names at most 40 characters.
    test_header: str | None = Field(default=None, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$")

    @model_validator(mode="after")
    def _fits_the_strategy(self) -> Deployment:
        shifting = self.strategy != "rolling"
        if shifting and self.bake_time_minutes is None:
            raise PydanticCustomError(
                "bake_time_missing",
                'bake_time_minutes is required with strategy = "{strategy}": the minutes (0-1440) both '
                "revisions keep running after production traffic has moved, while the deployment "
                "alarms watch; e.g. bake_time_minutes = 10",
                {"strategy": self.strategy},
            )
        unused = [
            key
            for key, applies in (
                ("bake_time_minutes", shifting),
                ("test_header", shifting),
                ("canary_percent", self.strategy == "canary"),
                ("canary_bake_time_minutes", self.strategy == "canary"),
            )
            if getattr(self, key) is not None and not applies
        ]
        if unused:
            raise PydanticCustomError(
                "deployment_key_unused",
                '{keys} not used with strategy = "{strategy}": remove them, or pick the strategy they '
                "belong to (bake_time_minutes and test_header: blue_green or canary; canary_*: canary)",
                {"keys": ", ".join(unused), "strategy": self.strategy},
            )
        if self.strategy == "canary" and self.canary_percent is None:
            raise PydanticCustomError(
                "canary_percent_missing",
                'canary_percent is required with strategy = "canary": the share of production traffic '
                "(0.1-100) the new revision gets first; e.g. canary_percent = 10",
            )
        return self


class WorkerDeployment(Deployment):
    @field_validator("strategy")
    @classmethod
    def _rolling_only(cls, strategy: str) -> str:
        if strategy != "rolling":
            raise PydanticCustomError(
                "strategy_needs_load_balancer",
                '"{strategy}" shifts traffic between two target groups of a load balancer, and the worker '
                'has none: use strategy = "rolling" (the circuit breaker and the deployment alarms still '
                "roll a bad release back)",
                {"strategy": strategy},
            )
        return strategy


class FargateApi(AppSettings, FargateSizing, ImageRetention):
    backend: Literal["fargate"]
    port: Port = 8080
    load_balancer: LoadBalancerSettings  # required: it says how the api is reached (HTTPS or not)
    deployment: Deployment = Deployment()


class FargateWorker(AppSettings, FargateSizing, ImageRetention):
    backend: Literal["fargate"]
    deployment: WorkerDeployment = WorkerDeployment()


# The services that publish a port on this machine when they run in Docker.
DOCKER_SERVICES_WITH_HOST_PORT: dict[str, type[ContainerSizing]] = {
    "database": DockerPostgres,
    "cache": DockerRedis,
    "vector_store": DockerQdrant,
    "graph": DockerNeo4j,
    "api": DockerApi,
}


def host_port_keys(model: type[ContainerSizing]) -> list[str]:
    """The keys of a Docker service's table that each publish a host port: `host_port`, or one per
    protocol, such as Neo4j's `bolt_host_port` and `http_host_port`."""
    return [name for name in model.model_fields if name.endswith("host_port")]


ApiConfig = Annotated[DockerApi | FargateApi, Field(discriminator="backend")]
WorkerConfig = Annotated[DockerWorker | FargateWorker, Field(discriminator="backend")]
AppService = DockerApi | DockerWorker | FargateApi | FargateWorker


# ----------------------------------------------------------------------------- environment


class KeyRotation(Model):
    """[key_rotation]: the generation of each holder's API keys (the api, the worker, and the
    operator, whose keys the post-apply bootstrap uses). Raise a number to issue that holder new
    Supabase and Qdrant Cloud keys: the new keys are created, the tasks roll onto them, then the old
    ones are revoked (infrakit/constructs/key_rotation.py). Lowering a number rotates too."""

    api: int = Field(default=1, ge=1)
    worker: int = Field(default=1, ge=1)
    operator: int = Field(default=1, ge=1)


class EnvironmentConfig(Model):
    """One environment: a backend and sizes for each service of the topology."""

    project: str = Field(default="infrakit", pattern=r"^[a-z][a-z0-9-]{1,20}$")
    database: DatabaseConfig
    cache: CacheConfig
    vector_store: VectorStoreConfig
    # Optional: without it the environment has no graph database.
    graph: GraphConfig | None = None
    api: ApiConfig
    worker: WorkerConfig
    # Required when a service runs on AWS.
    aws: AwsSettings | None = None
    # Without it, state stays in a local file (fine for `local`, not for shared environments).
    state: RemoteState | None = None
    # Required where a service runs on AWS: who is told when an alarm fires, and the thresholds.
    alarms: AlarmSettings | None = None
    key_rotation: KeyRotation = KeyRotation()

    @property
    def services(self) -> dict[str, Any]:
        """Each service the environment has, by name (`graph` only where [graph] is present)."""
        return {name: service for name in SERVICES if (service := getattr(self, name)) is not None}

    @property
    def uses_aws(self) -> bool:
        return any(service.backend in AWS_BACKENDS for service in self.services.values())

    @model_validator(mode="after")
    def _aws_settings_when_needed(self) -> EnvironmentConfig:
        on_aws = [name for name, service in self.services.items() if service.backend in AWS_BACKENDS]
        if on_aws and self.aws is None:
            raise PydanticCustomError(
                "aws_missing",
                '{services} run on AWS: add an [aws] table with at least region = "..."',
                {"services": ", ".join(on_aws)},
            )
        on_fargate = [n for n in ("api", "worker") if self.services[n].backend == "fargate"]
        stores = ("database", "cache", "vector_store", "graph")
        on_docker = [n for n in stores if n in self.services and self.services[n].backend == "docker"]
        if on_fargate and on_docker:
            raise PydanticCustomError(
                "unreachable_backend",
                "{apps} on Fargate cannot reach {stores} running in local Docker; pick cloud backends",
                {"apps": " and ".join(on_fargate), "stores": ", ".join(on_docker)},
            )
        return self

    @model_validator(mode="after")
    def _api_entry_point_fits_the_environment(self) -> EnvironmentConfig:
        if self.api.backend != "fargate" or self.aws is None:
            return self
        entry = self.api.load_balancer
        if entry.allow_plain_http and self.aws.deletion_protection:
            raise PydanticCustomError(
                "plain_http_protected",
                "api.load_balancer.allow_plain_http is for disposable environments, and this one has "
                "aws.deletion_protection = true: set api.load_balancer.domain_name and hosted_zone_id",
            )
        if entry.certificate_region and entry.certificate_region != self.aws.region:
            raise PydanticCustomError(
                "certificate_region",
                "api.load_balancer.certificate_arn is in {cert}, but a load balancer can only use an ACM "
                "certificate from its own region, aws.region = {region}: request or import it there",
                {"cert": entry.certificate_region, "region": self.aws.region},
            )
        return self

    @model_validator(mode="after")
    def _protected_vectors_are_backed_up(self) -> EnvironmentConfig:
        protected = self.aws is not None and self.aws.deletion_protection
        if protected and self.vector_store.backend == "qdrant_cloud" and self.vector_store.backups is None:
            raise PydanticCustomError(
                "backups_missing",
                "vector_store.backups is required where aws.deletion_protection = true: add a "
                '[vector_store.backups] table, e.g. cron = "0 3 * * *" and retention_days = 7',
            )
        return self

    @model_validator(mode="after")
    def _alarms_reach_someone(self) -> EnvironmentConfig:
        if self.uses_aws and self.alarms is None:
            raise PydanticCustomError(
                "alarms_missing",
                "alarms is required where services run on AWS: every alarm needs someone to reach. "
                'Add an [alarms] table with emails = ["oncall@yourcompany.com"] or '
                'sns_topic_arn = "arn:aws:sns:..."',
            )
        if not self.uses_aws and self.alarms is not None:
            raise PydanticCustomError(
                "alarms_unused", "alarms watch AWS services, and this environment has none: remove [alarms]"
            )
        topic_region = self.alarms.topic_region if self.alarms else None
        if self.aws is not None and topic_region and topic_region != self.aws.region:
            raise PydanticCustomError(
                "alarm_topic_region",
                "alarms.sns_topic_arn is in {topic}, but CloudWatch alarms publish only to a topic in their "
                "own region, aws.region = {region}: create the topic there",
                {"topic": topic_region, "region": self.aws.region},
            )
        return self

    @model_validator(mode="after")
    def _host_ports_unique(self) -> EnvironmentConfig:
        seen: dict[int, str] = {}
        for service, model in DOCKER_SERVICES_WITH_HOST_PORT.items():
            config = getattr(self, service)
            if not isinstance(config, model):  # another backend, or no [graph]: nothing published
                continue
            for key in host_port_keys(model):
                port, where = getattr(config, key), f"{service}.{key}"
                if port in seen:
                    raise PydanticCustomError(
                        "host_port_clash",
                        "{a} and {b} are both {port}; give each its own port",
                        {"a": seen[port], "b": where, "port": port},
                    )
                seen[port] = where
        return self
