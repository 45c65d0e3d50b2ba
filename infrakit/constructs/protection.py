"""Protection of the resources that hold data: what a config edit or a destroy must never take.

With `lifecycle.prevent_destroy`, Terraform refuses any plan that would destroy or replace the
resource, whatever the change that asks for it. Protected environments (`deletion_protection =
true`) carry it on every resource listed here; disposable ones (dev) stay easy to tear down. To
retire a protected environment on purpose, see the README ("Retiring an environment").
"""

from __future__ import annotations

from cdktf import TerraformResource

# Resource types whose loss loses data or makes it unreadable. The plan summary
# (infrakit/deploy/plan.py) marks the same types.
STATEFUL_TYPES = {
    "supabase_project": "the Postgres database; deleting the project deletes its backups too",
    "qdrant-cloud_accounts_cluster": "the vector store and its collections",
    "aws_elasticache_replication_group": "the queue: jobs waiting in Redis",
    "aws_kms_key": "everything encrypted with it becomes unreadable once the key is deleted",
    "aws_s3_bucket": "the access logs it holds",
    "aws_ecr_repository": "the images the services run; deleting the repository deletes them",
}


def prevent_destroy(resource: TerraformResource, *, when: bool) -> None:
    assert resource.terraform_resource_type in STATEFUL_TYPES, resource.terraform_resource_type
    if when:
        resource.add_override("lifecycle.prevent_destroy", True)
