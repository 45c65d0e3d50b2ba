"""Where Terraform keeps each environment's state."""

from __future__ import annotations

from infrakit.cdk import LocalBackend, S3Backend, TerraformStack
from infrakit.config import Environment
from infrakit.state_key import state_key_alias

# S3-native locking (use_lockfile) arrived in Terraform 1.10 and OpenTofu 1.10.
MINIMUM_TERRAFORM = "1.10"
REQUIRED_TERRAFORM = f">= {MINIMUM_TERRAFORM}"
# The same floor as the App context that cdktn checks features against (npm semver ranges).
# Without it cdktn assumes Terraform >= 1.5.7 and refuses use_lockfile at synth.
TARGET_VERSIONS = {product: f">={MINIMUM_TERRAFORM}.0" for product in ("terraform", "opentofu")}


def configure_state(
    stack: TerraformStack, environment: Environment, *, stack_name: str | None = None
) -> None:
    """State for the environment's stack, or for one of its supporting stacks (`stack_name`)."""
    name = stack_name or environment.name
    stack.add_override("terraform.required_version", REQUIRED_TERRAFORM)
    remote = environment.config.state
    if remote is None:
        # Terraform runs in cdktf.out/stacks/<env>; a relative path keeps state at the project
        # root and keeps absolute paths out of the synthesized output.
        LocalBackend(stack, path=f"../../../terraform.{name}.tfstate")
        return
    # S3-native state locking (Terraform and OpenTofu >= 1.10); dynamodb_table locking is deprecated.
    S3Backend(
        stack,
        bucket=remote.bucket,
        key=f"{remote.key_prefix}/{name}.tfstate",
        region=remote.region,
        encrypt=True,
        # Without it the backend sends `x-amz-server-side-encryption: AES256` on every write
        # (hashicorp/terraform internal/backend/remote-state/s3/client.go), and the bucket policy that
        # scripts/create-state-bucket.sh writes refuses such writes: state is kept under the
        # customer-managed key only. Terraform takes an alias here (its validate.go allows alias/...).
        kms_key_id=state_key_alias(remote.bucket),
        use_lockfile=True,
    )
