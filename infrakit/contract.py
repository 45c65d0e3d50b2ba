"""The connection contract: the one shape every backend of every service exposes.

It wires the api and worker containers (as upper-case environment variables) and becomes the
stack outputs that the post-apply bootstrap reads. Values are Terraform expressions (tokens),
never literal secrets.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Endpoint:
    """One contract value, as seen from the two places that use it.

    `in_network` is what the api and worker containers receive, read by the product's own clients
    (node-postgres, ioredis, ...). `from_operator` is the stack output, read on the operator's
    machine by the bootstrap and migrations (psycopg, redis-py, ...). They differ where the two
    places reach a service differently (local Docker: network alias versus 127.0.0.1) or where the
    clients read the same URL differently (Supabase's pooler: node-postgres needs
    `uselibpqcompat=true`, which libpq refuses; see infrakit/constructs/supabase/database.py).
    Otherwise both are the same value.
    """

    in_network: str
    from_operator: str

    @classmethod
    def everywhere(cls, value: str) -> Endpoint:
        return cls(in_network=value, from_operator=value)


# Contract names whose value carries a credential: always sensitive outputs and secret env.
SENSITIVE = frozenset(
    {
        "database_url",
        "redis_url",
        "qdrant_api_key",
        "supabase_secret_key",
        "neo4j_password",
    }
)

# Environment names kept for one release after the names they stand for were renamed, so the
# product can move to the new names while both are set. Each points at the same value (the same
# secret, for a secret). Removed in the first release after 2027-01-31: see docs/cloud.md,
# "Supabase API keys".
ALIASES = {
    "SUPABASE_SERVICE_ROLE_KEY": "supabase_secret_key",
    "SUPABASE_ANON_KEY": "supabase_publishable_key",
}


@dataclass(frozen=True)
class ConnectionContract:
    database_url: Endpoint
    redis_url: Endpoint
    qdrant_url: Endpoint
    qdrant_api_key: Endpoint
    api_url: Endpoint
    supabase_url: Endpoint | None = None
    # Safe in browsers; the provider marks it sensitive, the stack does not.
    supabase_publishable_key: Endpoint | None = None
    # Each service gets its own secret key; the stack output is the operator's.
    supabase_secret_key: Endpoint | None = None
    # Where [graph] is present: neo4j:// locally, neo4j+s:// on Aura.
    neo4j_uri: Endpoint | None = None
    neo4j_username: Endpoint | None = None
    neo4j_password: Endpoint | None = None

    def values(self) -> list[tuple[str, Endpoint]]:
        """(name, endpoint) for every value this environment provides, in a stable order."""
        return [(f.name, value) for f in fields(self) if (value := getattr(self, f.name)) is not None]

    def container_environment(self) -> dict[str, str]:
        """What api and worker receive: the contract names upper-cased, in-network values, and
        each alias whose name it stands for is set."""
        environment = {name.upper(): endpoint.in_network for name, endpoint in self.values()}
        return environment | {
            alias: environment[name.upper()] for alias, name in ALIASES.items() if name.upper() in environment
        }
