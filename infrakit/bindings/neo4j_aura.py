"""Bindings for the Neo4j Aura provider (neo4j-labs/neo4jaura), pinned to one exact version.

A Neo4j Labs project in beta (docs/cloud.md, "Neo4j AuraDB"). Only the arguments infrakit uses are
bound. Checked against the provider's source at tag v0.0.2-beta
(github.com/neo4j-labs/terraform-provider-neo4jaura):

- internal/provider/provider.go: `client_id` and `client_secret` are required and sensitive, and
  the provider reads no environment variable for them; `instance_timeout` (seconds, default 900)
  and `snapshot_timeout` (default 300) are optional.
- internal/resource/instance.go: `neo4jaura_instance` requires `name`, `project_id` and `region`;
  `memory`, `type`, `cloud_provider`, `version` and `storage` are optional and validated with
  OneOf (infrakit/config/neo4j_aura.py holds the same lists). The provider's defaults are `type =
  "free-db"` and `cloud_provider = "gcp"`, so this binding always writes both. `connection_url`,
  `username`, `password` (sensitive) and `instance_id` are computed. No attribute forces a
  replacement, and Update sends only `name` and `memory` (plus pause and resume). Create sets the
  password from the create response only; an imported instance has none in its state.
- internal/client/aura_requests.go: what create and update send to the Aura API.

Credentials are arguments here, so they must be Terraform references (sensitive variables that
Terraform reads from TF_VAR_ at apply time): a literal is refused, and none can reach cdk.tf.json.
"""

from __future__ import annotations

from typing import get_args

from constructs import Construct

from infrakit.bindings import BoundProvider, BoundResource, is_token, require_text
from infrakit.cdk import TerraformProviderGeneratorMetadata, TerraformResourceLifecycle
from infrakit.config.neo4j_aura import AuraCloudProvider, AuraMemory, AuraStorage, AuraType, AuraVersion

# Fully qualified, host included: Terraform and OpenTofu then both fetch it from the registry its
# README documents (registry.terraform.io/providers/neo4j-labs/neo4jaura), and the lock file agrees.
SOURCE = "registry.terraform.io/neo4j-labs/neo4jaura"
# A pre-release is selected only by an exact version constraint.
VERSION = "0.0.2-beta"
METADATA = TerraformProviderGeneratorMetadata(provider_name="neo4jaura", provider_version_constraint=VERSION)

MEMORY: tuple[str, ...] = get_args(AuraMemory)
STORAGE: tuple[str, ...] = get_args(AuraStorage)
TYPES: tuple[str, ...] = get_args(AuraType)
CLOUD_PROVIDERS: tuple[str, ...] = get_args(AuraCloudProvider)
VERSIONS: tuple[str, ...] = get_args(AuraVersion)


def _reference_only(block: str, argument: str, value: str) -> None:
    if not is_token(value):
        raise ValueError(
            f"{block}: {argument} must be a Terraform reference (a sensitive variable read from "
            "TF_VAR_ at apply time), never a literal value"
        )


def _one_of(block: str, argument: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and not is_token(value) and value not in allowed:
        raise ValueError(f"{block}: {argument} '{value}' is not one of {', '.join(allowed)}")


class Neo4jAuraProvider(BoundProvider):
    """The provider block. Its credentials are references to sensitive variables, never values."""

    TF_RESOURCE_TYPE = "neo4jaura"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        client_id: str,
        client_secret: str,
        instance_timeout: int | None = None,
        snapshot_timeout: int | None = None,
    ):
        block = self.TF_RESOURCE_TYPE
        _reference_only(block, "client_id", client_id)
        _reference_only(block, "client_secret", client_secret)
        for argument, seconds in (
            ("instance_timeout", instance_timeout),
            ("snapshot_timeout", snapshot_timeout),
        ):
            if seconds is not None and not is_token(seconds) and seconds < 1:
                raise ValueError(f"{block}: {argument} is in seconds and must be at least 1")
        super().__init__(
            scope,
            id_,
            name=block,
            source=SOURCE,
            metadata=METADATA,
            arguments={
                "client_id": client_id,
                "client_secret": client_secret,
                "instance_timeout": instance_timeout,
                "snapshot_timeout": snapshot_timeout,
            },
        )


class Neo4jAuraInstance(BoundResource):
    """An AuraDB instance."""

    TF_RESOURCE_TYPE = "neo4jaura_instance"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        project_id: str,
        region: str,
        cloud_provider: str,
        type: str,  # noqa: A002 - the provider's own argument name
        memory: str,
        version: str,
        storage: str | None = None,
        lifecycle: TerraformResourceLifecycle | None = None,
    ):
        block = self.TF_RESOURCE_TYPE
        require_text(block, "name", name)
        require_text(block, "project_id", project_id)
        require_text(block, "region", region)
        _one_of(block, "cloud_provider", cloud_provider, CLOUD_PROVIDERS)
        _one_of(block, "type", type, TYPES)
        _one_of(block, "memory", memory, MEMORY)
        _one_of(block, "version", version, VERSIONS)
        _one_of(block, "storage", storage, STORAGE)
        super().__init__(
            scope,
            id_,
            resource_type=block,
            metadata=METADATA,
            lifecycle=lifecycle,
            arguments={
                "name": name,
                "project_id": project_id,
                "region": region,
                "cloud_provider": cloud_provider,
                "type": type,
                "memory": memory,
                "version": version,
                "storage": storage,
            },
        )

    @property
    def instance_id(self) -> str:
        return self.get_string_attribute("instance_id")

    @property
    def connection_url(self) -> str:
        """The URI Aura returns for drivers ("Bolt connection URL"), `neo4j+s://<id>.databases.neo4j.io`:
        Bolt over TLS on port 7687. The provider's own tests hand it to the Go driver unchanged."""
        return self.get_string_attribute("connection_url")

    @property
    def username(self) -> str:
        return self.get_string_attribute("username")

    @property
    def password(self) -> str:
        """Sensitive in the provider's schema; Terraform redacts it in plans."""
        return self.get_string_attribute("password")
