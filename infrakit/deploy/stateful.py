"""The resource types whose replacement or destruction loses data, or changes a live credential.

The plan gate (infrakit/deploy/plan.py) refuses to replace or destroy a resource of one of these
types unless `--allow-replace ADDRESS` names it. Each value says what the resource holds, for the
summary table and the refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

STATEFUL_TYPES: Mapping[str, str] = MappingProxyType(
    {
        # Deleting a Supabase project deletes its database and the project's backups with it.
        "supabase_project": "the Postgres database and its backups",
        # The cluster's nodes hold the collections; a new cluster starts empty, at a new URL.
        "qdrant-cloud_accounts_cluster": "the vector collections",
        # Qdrant Cloud deletes the backups a schedule took with the schedule when its state says
        # delete_backups_on_destroy = true, the provider's default (1.28.0,
        # schemas_accounts_backup_schedules.go). A new cluster replaces its schedule.
        "qdrant-cloud_accounts_backup_schedule": "the vector store's backups",
        # Deleting an AuraDB instance deletes the graph; a new one starts empty, at a new URI, with
        # a new password (neo4j-labs/neo4jaura 0.0.2-beta keeps no copy).
        "neo4jaura_instance": "the graph database (Neo4j)",
        # Redis holds the worker's BullMQ queues: jobs waiting, delayed and in flight.
        "aws_elasticache_replication_group": "the queued jobs (Redis)",
        # A key scheduled for deletion takes with it everything encrypted under it: Redis at rest
        # and its snapshots, log groups, secrets, images. A new key cannot decrypt any of it.
        "aws_kms_key": "the key to encrypted data",
        # A bucket must be emptied to be deleted; its objects (the ALB access logs) go with it.
        "aws_s3_bucket": "its objects (access logs)",
        # Tags are immutable and a new repository starts empty: every pushed image is gone.
        "aws_ecr_repository": "the pushed images",
        # Its value is the database password or the Redis AUTH token (see REPLACEMENT_NOTES).
        "random_password": "a live password",
        # `local`: a named volume holds a local service's data (Postgres, Redis, Qdrant).
        "docker_volume": "a local service's data",
    }
)
# The API keys the services hold (infrakit/deploy/credentials.py) are not here on purpose: a
# replaced key is created before the old one is deleted, a rotation that the summary announces
# ("credential rotation: tasks will restart") and that the gate never refuses.

# Said in the refusal, where what is lost is not plain from what the resource holds.
REPLACEMENT_NOTES: Mapping[str, str] = MappingProxyType(
    {
        "random_password": "replacing it changes the live database password or Redis AUTH token, "
        "and running services keep using the old one until they restart",
        "qdrant-cloud_accounts_backup_schedule": "Qdrant Cloud deletes them with it unless its state "
        "holds delete_backups_on_destroy = false: the provider defaults to true, and a schedule "
        "deployed before infrakit wrote false holds false only once a deploy has updated it in place",
    }
)


# Attributes that a provider can neither update in place nor replace for: Terraform plans an
# in-place update, and the apply fails part way. Supabase provider 1.10.1 answers "Update is not
# supported" for these, and its schema forces no replacement. Each with what to do instead.
IMMOVABLE_ATTRIBUTES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "supabase_project": ("region", "organization_id"),
        # neo4j-labs/neo4jaura 0.0.2-beta (internal/resource/instance.go, Update) sends only name and
        # memory, and no attribute forces a replacement.
        "neo4jaura_instance": ("project_id", "region", "cloud_provider", "type", "version", "storage"),
    }
)
# What the apply would do instead, where it is not failing part way (the Supabase provider's case).
IMMOVABLE_OUTCOMES: Mapping[str, str] = MappingProxyType(
    {
        "neo4jaura_instance": "which its provider never sends to Aura and which forces no replacement, "
        "so the apply would report success, change nothing, and plan the same update again",
    }
)
IMMOVABLE_FIXES: Mapping[str, str] = MappingProxyType(
    {
        "supabase_project": "a Supabase project cannot move to another region or organization. "
        "Put the deployed value back in the environment file; or, to move the database, create a new "
        "environment (a new Supabase project) in the new region or organization, migrate the data to it "
        "(pg_dump, then pg_restore into the new project), point the services at it, and only then "
        "retire this one (docs/operations.md, Retiring an environment)",
        "neo4jaura_instance": "an AuraDB instance keeps its project, cloud, region, tier, version and "
        "storage: only memory changes in place. Put the deployed value back in the environment file; "
        "or, to move the graph, create a new environment in the new place, restore a snapshot of this "
        "instance into it, point the services at it, and only then retire this one "
        "(docs/cloud.md, Neo4j AuraDB)",
    }
)


def what_it_holds(resource_type: str) -> str | None:
    """What a resource of this type holds that replacing or destroying it loses; None: nothing."""
    return STATEFUL_TYPES.get(resource_type)
