"""The name of the customer-managed KMS key that encrypts an environment's Terraform state.

Shared by the state backend of every stack (infrakit/stacks/state.py), which names the key so that
Terraform's own writes use it, and by scripts/create-state-bucket.sh (infrakit/state_bucket.py),
which creates the key and finds it again by this alias. No AWS SDK here: synth imports it.
"""

from __future__ import annotations


def state_key_alias(bucket: str) -> str:
    """The alias by which the state key is found again: alias/terraform-state/<bucket>. KMS alias
    names allow no dot and bucket names no underscore, so dots become underscores one to one."""
    return f"alias/terraform-state/{bucket.replace('.', '_')}"
