"""The resource types that are API keys the services hold: replacing one rotates a credential.

Each key belongs to a holder (the api, the worker, or the operator's post-apply bootstrap) and
carries `create_before_destroy` (infrakit/constructs/key_rotation.py): a replaced key is created
first, a service's new key value goes to a new version of its Secrets Manager secret, its task
definition gets a new revision pinned to that version, ECS rolls its tasks, and only then is the
old key deleted. So a replacement is a rotation, not a loss: the plan gate (infrakit/deploy/plan.py)
never refuses one, and these types stay out of STATEFUL_TYPES (infrakit/deploy/stateful.py). It
says ROTATION for each instead. Each value says which kind of key it is, for that line.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# What the plan summary says, word for word, for each replaced key of CREDENTIAL_TYPES, when the
# same plan gives the tasks new task definitions (a service's key: its secret is pinned to a version).
ROTATION = "credential rotation: tasks will restart"
# When it gives them none: the key is the operator's, which only the post-apply bootstrap reads.
ROTATION_WITHOUT_TASKS = "credential rotation: no task reads this key; take the new one from the outputs"
# A replaced resource of this type is a new task definition revision, which ECS rolls out.
TASK_DEFINITION_TYPE = "aws_ecs_task_definition"

CREDENTIAL_TYPES: Mapping[str, str] = MappingProxyType(
    {
        # A Qdrant Cloud database key: the api and worker tasks read theirs as QDRANT_API_KEY from
        # Secrets Manager. The provider has no update for it: a change of name, expires_at or the
        # access rules replaces it (../shared/reference.md, "Replacement and deletion"), and so
        # does a new generation in the environment's [key_rotation].
        "qdrant-cloud_accounts_database_api_key_v2": "a Qdrant Cloud database API key",
        # A Supabase secret key (sb_secret_..., provider 1.10.1 apikey_resource.go): the api and
        # worker tasks read theirs from Secrets Manager. No argument forces a replacement, so only
        # a new generation in [key_rotation] (replace_triggered_by) or `-replace` rotates it.
        "supabase_apikey": "a Supabase secret key",
    }
)


def what_it_grants(resource_type: str) -> str | None:
    """Which kind of API key a resource of this type is; None: it is not one."""
    return CREDENTIAL_TYPES.get(resource_type)
