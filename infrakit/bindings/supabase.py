"""Bindings for the Supabase provider (supabase/supabase), pinned to one exact version.

Only the arguments infrakit uses are bound; see ../shared/reference.md "Supabase provider". The
provider reads its token from SUPABASE_ACCESS_TOKEN at apply time, so no credential is ever an
argument here and none can reach cdk.tf.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from constructs import Construct

from infrakit.bindings import BoundDataSource, BoundProvider, BoundResource, is_token, require_text
from infrakit.cdk import Fn, TerraformProviderGeneratorMetadata, TerraformResourceLifecycle, Token
from infrakit.config.supabase import InstanceSize

SOURCE = "supabase/supabase"
VERSION = "1.10.1"
METADATA = TerraformProviderGeneratorMetadata(provider_name="supabase", provider_version_constraint=VERSION)

# The sizes the Management API accepts for a new project (desired_instance_size).
INSTANCE_SIZES: tuple[str, ...] = get_args(InstanceSize)

PoolMode = Literal["transaction", "session"]
POOL_MODES: tuple[PoolMode, ...] = ("transaction", "session")
# Supavisor serves both modes on one host: transaction mode on 6543, session mode on 5432.
TRANSACTION_POOLER_PORT = 6543
SESSION_POOLER_PORT = 5432

SettingsJson = Mapping[str, Any] | str


class SupabaseProvider(BoundProvider):
    """The provider block. The token comes from SUPABASE_ACCESS_TOKEN, never from code."""

    TF_RESOURCE_TYPE = "supabase"

    def __init__(self, scope: Construct, id_: str, *, endpoint: str | None = None):
        super().__init__(
            scope,
            id_,
            name=self.TF_RESOURCE_TYPE,
            source=SOURCE,
            metadata=METADATA,
            arguments={"endpoint": endpoint},
        )


# Arguments of supabase_project that provider 1.10.1 can neither update ("Update is not supported
# for this attribute", project_resource.go Update) nor replace (no RequiresReplace): a plan that
# changes one in place fails at apply. Replacing would destroy the database, so the deploy refuses
# such a plan instead.
FIXED_PROJECT_ARGUMENTS: tuple[str, ...] = ("organization_id", "region")


@dataclass(frozen=True)
class ProjectTimeouts:
    """How long Terraform waits for a project to become active after a create or a resize, as a
    Go duration ("20m", "1h30m"). Unset, provider 1.10.1 waits 5 minutes (utils.go)."""

    create: str | None = None
    update: str | None = None


class SupabaseProject(BoundResource):
    """A hosted Supabase project: Postgres plus the API, auth and storage services in front of it."""

    TF_RESOURCE_TYPE = "supabase_project"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        organization_id: str,
        name: str,
        database_password: str,
        region: str,
        instance_size: str | None = None,
        timeouts: ProjectTimeouts | None = None,
    ):
        block = self.TF_RESOURCE_TYPE
        require_text(block, "organization_id (the organization slug)", organization_id)
        require_text(block, "name", name)
        require_text(block, "region", region)
        # A token is generated at apply time; only a literal can be checked here.
        if not is_token(database_password) and len(database_password) < 4:
            raise ValueError(f"{block}: database_password must be at least 4 characters")
        if instance_size is not None and instance_size not in INSTANCE_SIZES:
            raise ValueError(
                f"{block}: instance_size '{instance_size}' is not one of {', '.join(INSTANCE_SIZES)}"
            )
        super().__init__(
            scope,
            id_,
            resource_type=block,
            metadata=METADATA,
            arguments={
                "organization_id": organization_id,
                "name": name,
                "database_password": database_password,
                "region": region,
                "instance_size": instance_size,
                "timeouts": {"create": timeouts.create, "update": timeouts.update} if timeouts else None,
            },
        )

    @property
    def project_ref(self) -> str:
        """The project ref (the resource id), e.g. the <ref> in https://<ref>.supabase.co."""
        return self.get_string_attribute("id")


class SupabaseSettings(BoundResource):
    """Project settings, each group a JSON document. Only the groups given are managed.

    Deleting this resource changes nothing in Supabase: the provider has no way to reset settings.
    `pooler` is accepted by provider 1.10.1 but never sent to Supabase, so setting it has no effect.
    """

    TF_RESOURCE_TYPE = "supabase_settings"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        project_ref: str,
        api: SettingsJson | None = None,
        auth: SettingsJson | None = None,
        database: SettingsJson | None = None,
        network: SettingsJson | None = None,
        pooler: SettingsJson | None = None,
        storage: SettingsJson | None = None,
    ):
        block = self.TF_RESOURCE_TYPE
        require_text(block, "project_ref", project_ref)
        groups = {
            "api": api,
            "auth": auth,
            "database": database,
            "network": network,
            "pooler": pooler,
            "storage": storage,
        }
        super().__init__(
            scope,
            id_,
            resource_type=block,
            metadata=METADATA,
            arguments={"project_ref": project_ref}
            | {name: _settings_json(block, name, value) for name, value in groups.items()},
        )


def _settings_json(block: str, name: str, value: SettingsJson | None) -> str | None:
    """Serialise one settings group. Keys are sorted so that synth output is stable."""
    if value is None or is_token(value):
        return value  # type: ignore[return-value]
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError(f"{block}: {name} is not valid JSON: {error}") from None
    else:
        parsed = value
    if not isinstance(parsed, Mapping):
        raise ValueError(f'{block}: {name} must be a JSON object, e.g. {{"max_rows": 1000}}')
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"))


# supabase_apikey names (apikey_resource.go, Schema): lower case, digits and '_'.
API_KEY_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class SupabaseApikey(BoundResource):
    """One secret API key (`sb_secret_...`) of a project.

    Provider 1.10.1 (apikey_resource.go) always creates a *secret* key, with the JWT template role
    `service_role`; `type` is read-only. Before the first one it creates a publishable key named
    `default` if the project has none. No argument forces a replacement (a new `name` is an
    in-place update), so a new key value takes a replacement (`replace_triggered_by`). Names need
    not be unique: two keys may share one, which lets a replacement create its key first.
    `description` is left out on purpose: create never sends it, so it would read back null and
    Terraform would report an inconsistent result.
    """

    TF_RESOURCE_TYPE = "supabase_apikey"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        project_ref: str,
        name: str,
        lifecycle: TerraformResourceLifecycle | None = None,
    ):
        block = self.TF_RESOURCE_TYPE
        require_text(block, "project_ref", project_ref)
        if not API_KEY_NAME.match(name):
            raise ValueError(
                f"{block}: name '{name}' must be lower-case letters, digits and '_', "
                "not starting with a digit"
            )
        super().__init__(
            scope,
            id_,
            resource_type=block,
            metadata=METADATA,
            arguments={"project_ref": project_ref, "name": name},
            lifecycle=lifecycle,
        )

    @property
    def api_key(self) -> str:
        """The key itself (sensitive in the provider's schema)."""
        return self.get_string_attribute("api_key")

    @property
    def key_id(self) -> str:
        """The key's UUID: not a secret, and new whenever the key is."""
        return self.get_string_attribute("id")


class DataSupabaseApikeys(BoundDataSource):
    """The project's API keys. All are sensitive in the provider's schema.

    Only the new kinds are bound: the legacy `anon_key` and `service_role_key` are being retired
    (reference.md, "Legacy keys are being retired"), and nothing here may read them.
    """

    TF_RESOURCE_TYPE = "supabase_apikeys"

    def __init__(self, scope: Construct, id_: str, *, project_ref: str):
        require_text(self.TF_RESOURCE_TYPE, "project_ref", project_ref)
        super().__init__(
            scope,
            id_,
            data_type=self.TF_RESOURCE_TYPE,
            metadata=METADATA,
            arguments={"project_ref": project_ref},
        )

    @property
    def publishable_key(self) -> str:
        return self.get_string_attribute("publishable_key")

    @property
    def secret_keys(self) -> Any:
        """A list of {name, api_key} objects, as a Terraform reference."""
        return self.interpolation_for_attribute("secret_keys")


class DataSupabasePooler(BoundDataSource):
    """The project's connection pooler (Supavisor): a connection string per pool mode.

    The Management API writes the literal placeholder `[YOUR-PASSWORD]` where the password goes.
    """

    TF_RESOURCE_TYPE = "supabase_pooler"

    def __init__(self, scope: Construct, id_: str, *, project_ref: str):
        require_text(self.TF_RESOURCE_TYPE, "project_ref", project_ref)
        super().__init__(
            scope,
            id_,
            data_type=self.TF_RESOURCE_TYPE,
            metadata=METADATA,
            arguments={"project_ref": project_ref},
        )

    @property
    def url(self) -> Mapping[str, str]:
        """The whole map from pool mode to connection string, as a Terraform reference."""
        return self.get_string_map_attribute("url")

    def connection_string(self, mode: PoolMode) -> str:
        """The connection string for one pool mode. Terraform fails if the project lacks that mode."""
        if mode not in POOL_MODES:
            raise ValueError(f"{self.TF_RESOURCE_TYPE}: pool mode '{mode}' is not one of {POOL_MODES}")
        return Token.as_string(Fn.lookup(self.interpolation_for_attribute("url"), mode))

    def session_connection_string(self) -> str:
        """The session-mode connection string, which every project has even when `url` lacks it.

        The provider keys `url` by the pool mode of the Management API's PRIMARY entries, and the
        API returns one: transaction mode, on port 6543. Session mode is the same pooler on port
        5432, which is how the Supabase CLI derives it too. A real `session` entry wins.
        """
        url = self.interpolation_for_attribute("url")
        derived = Fn.replace(
            Fn.lookup(url, "transaction"), f":{TRANSACTION_POOLER_PORT}/", f":{SESSION_POOLER_PORT}/"
        )
        return Token.as_string(Fn.lookup(url, "session", derived))
