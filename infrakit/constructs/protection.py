"""Protection of the resources that hold data: what a config edit or a destroy must never take.

With `lifecycle.prevent_destroy`, Terraform refuses any plan that would destroy or replace the
resource, whatever the change that asks for it. Protected environments (`deletion_protection =
true`) carry it on every resource of PROTECTED_TYPES; disposable ones (dev) stay easy to tear down.
To retire a protected environment on purpose, see the README ("Retiring an environment").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from infrakit.deploy.stateful import STATEFUL_TYPES

if TYPE_CHECKING:
    from infrakit.cdk import TerraformResource

# The stateful types (what each holds: infrakit/deploy/stateful.py) that refuse destroy. The others
# there are guarded by the plan gate only: a generated password, a local Docker volume, and the
# Qdrant backup schedule (it keeps its backups when destroyed: delete_backups_on_destroy = false).
PROTECTED_TYPES = frozenset(
    {
        "supabase_project",
        "qdrant-cloud_accounts_cluster",
        "neo4jaura_instance",
        "aws_elasticache_replication_group",
        "aws_kms_key",
        "aws_s3_bucket",
        "aws_ecr_repository",
    }
)
assert STATEFUL_TYPES.keys() >= PROTECTED_TYPES


def prevent_destroy(resource: TerraformResource, *, when: bool) -> None:
    assert resource.terraform_resource_type in PROTECTED_TYPES, resource.terraform_resource_type
    if when:
        resource.add_override("lifecycle.prevent_destroy", True)
