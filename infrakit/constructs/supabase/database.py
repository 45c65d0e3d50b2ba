"""Supabase: the hosted Postgres backend of the database service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from constructs import Construct

from infrakit.bindings.supabase import (
    DataSupabaseApikeys,
    DataSupabasePooler,
    ProjectTimeouts,
    SupabaseApikey,
    SupabaseProject,
    SupabaseProvider,
    SupabaseSettings,
)
from infrakit.cdk import Fn, Token
from infrakit.config.supabase import SupabasePostgres
from infrakit.config.types import GENERATED
from infrakit.constructs.key_rotation import KeyRotation, address
from infrakit.constructs.protection import prevent_destroy
from infrakit.constructs.secret_value import SecretValue
from infrakit.contract import Endpoint

# What the Management API writes where the password belongs in a pooler connection string.
PASSWORD_PLACEHOLDER = "[YOUR-PASSWORD]"
# The bootstrap's own secret key (validate, migrations' checks); the services get one each.
OPERATOR = "operator"
# Checked when the keys are read: the provider creates the `default` publishable key together with
# the first secret key (apikey_resource.go, createApiKey), so a null here means the project has
# none, and the apply stops with this message before any task receives an empty value.
PUBLISHABLE_KEY_PRESENT = {
    "condition": "${self.publishable_key != null}",
    "error_message": (
        "Supabase returned no publishable key for this project. Create one in the Supabase dashboard "
        "(Project Settings > API Keys > Publishable key), then apply again."
    ),
}


@dataclass(frozen=True)
class SupabaseEndpoints:
    """The project's API address and keys, for the contract's supabase_* values."""

    url: Endpoint
    publishable_key: Endpoint
    secret_key: Endpoint  # the operator's


class SupabaseDatabase(Construct):
    """A Supabase project: Postgres reached through its transaction pooler, plus its API keys.

    Keys are Supabase's new kind (reference.md, "Legacy keys are being retired"): one secret key
    (`sb_secret_...`) per service and one for the operator, each its own `supabase_apikey`, so a
    leaked key is revoked without touching the others; and the project's publishable key, which is
    safe in browsers. The legacy `anon` and `service_role` keys are neither enabled nor read. Each
    key rotates without an outage (infrakit/constructs/key_rotation.py).

    The provider reads SUPABASE_ACCESS_TOKEN at apply time. The database password is generated at
    apply time too, alphanumeric so it needs no escaping inside the connection URL.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        config: SupabasePostgres,
        services: Sequence[str],
        rotation: KeyRotation,
        protect: bool = True,
    ):
        super().__init__(scope, id_)
        SupabaseProvider(self, "provider")
        password = SecretValue(
            self, "database-password", source=GENERATED, description="Supabase database password"
        ).value
        self.project = SupabaseProject(
            self,
            "project",
            organization_id=config.organization_id,
            name=name,
            database_password=password,
            region=config.region,
            instance_size=config.instance_size,
            timeouts=ProjectTimeouts(create=config.create_timeout, update=config.update_timeout),
        )
        prevent_destroy(self.project, when=protect)
        ref = self.project.project_ref
        self._settings(ref, config)
        secret_keys = {
            holder: SupabaseApikey(
                self, f"{holder}-key", project_ref=ref, name=holder, lifecycle=rotation.lifecycle(holder)
            )
            for holder in [OPERATOR, *services]
        }
        # Read after the keys exist: creating the first one creates the publishable key.
        keys = DataSupabaseApikeys(self, "api-keys", project_ref=ref)
        keys.depends_on = [address(key) for key in secret_keys.values()]
        keys.add_override("lifecycle.postcondition", [PUBLISHABLE_KEY_PRESENT])
        pooler = DataSupabasePooler(self, "pooler", project_ref=ref)

        # Transaction mode suits many short-lived connections from autoscaled api and worker tasks.
        self.database_url = _pooler_endpoint(
            Fn.replace(pooler.connection_string("transaction"), PASSWORD_PLACEHOLDER, password)
        )
        # Migrations hold a session advisory lock, which the transaction pooler cannot keep.
        self.migration_url: Endpoint | None = _pooler_endpoint(
            Fn.replace(pooler.session_connection_string(), PASSWORD_PLACEHOLDER, password)
        )
        self.supabase: SupabaseEndpoints | None = SupabaseEndpoints(
            # Supabase has no URL attribute; every project's API lives at this address.
            url=Endpoint.everywhere(f"https://{ref}.supabase.co"),
            # The provider marks every key sensitive; a publishable key is meant for browsers.
            publishable_key=Endpoint.everywhere(Token.as_string(Fn.nonsensitive(keys.publishable_key))),
            secret_key=Endpoint.everywhere(secret_keys[OPERATOR].api_key),
        )
        self.service_keys: Mapping[str, Endpoint] = {
            service: Endpoint.everywhere(secret_keys[service].api_key) for service in services
        }
        self.docker_service = None

    def _settings(self, ref: str, config: SupabasePostgres) -> None:
        """Manage only the settings the environment names; Supabase keeps its defaults for the rest."""
        groups: dict[str, Any] = {
            "database": config.database_settings(),
            "api": config.api_settings(),
            "network": config.network_settings(),
        }
        configured = {group: values for group, values in groups.items() if values}
        if configured:
            SupabaseSettings(self, "settings", project_ref=ref, **configured)


# TLS without verification of the chain: libpq's `sslmode=require`. Supavisor's certificate chains
# to Supabase's own root CA, which is in no system trust store, so a client that verifies the chain
# against the system store cannot connect at all; the password and TLS still protect the session.
LIBPQ_TLS = "sslmode=require"
# node-postgres (pg-connection-string 2.x) reads `sslmode=require` as verify-full and fails on that
# chain with SELF_SIGNED_CERT_IN_CHAIN; `uselibpqcompat=true` gives it libpq's meaning (n8n-io/n8n#13517).
# libpq, and so psycopg, refuses the unknown parameter ("invalid URI query parameter"), so only the
# containers' value carries it.
NODE_POSTGRES_TLS = "sslmode=require&uselibpqcompat=true"


def _pooler_endpoint(url: str) -> Endpoint:
    """One pooler URL in each client's dialect: node-postgres in the api and worker containers
    (`in_network`, their DATABASE_URL), libpq/psycopg on the operator's machine (`from_operator`, the
    stack output the bootstrap and migrations read). Both refuse a server that does not offer TLS."""
    return Endpoint(in_network=_with_query(url, NODE_POSTGRES_TLS), from_operator=_with_query(url, LIBPQ_TLS))


def _with_query(url: str, parameters: str) -> str:
    """Append query parameters to a URL known only at apply time, whether or not it has a query."""
    separator = Fn.conditional(Fn.strcontains(url, "?"), "&", "?")
    return f"{url}{Token.as_string(separator)}{parameters}"
