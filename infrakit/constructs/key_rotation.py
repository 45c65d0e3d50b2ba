"""Rotating the API keys infrakit issues, without an outage.

Every API key a stack issues (a Supabase secret key, a Qdrant Cloud database key) belongs to a
holder: a service (`api`, `worker`) or the operator (the post-apply bootstrap). Each holder has a
generation in the environment file (`[key_rotation]`, default 1); raising it issues that holder new
keys. A key's lifecycle is then:

- `replace_triggered_by` its holder's generation: a new number replaces the key, although nothing
  in the key's own arguments changed;
- `create_before_destroy`: the new key exists before the old one is revoked, and Terraform revokes
  the old one only after everything that depends on the key is applied. For a service that is its
  secret's new version, the task definition pinned to that version (a new revision), and the ECS
  service, which waits for the rollout to reach a steady state (infrakit/constructs/aws/
  fargate_service.py). So the old key is revoked after the tasks that hold it are gone.

The same lifecycle also protects a replacement that a configuration change forces (Qdrant Cloud
replaces a key whose collection rules change; reference.md, "Replacement and deletion").
"""

from __future__ import annotations

from collections.abc import Mapping

from constructs import Construct

from infrakit.bindings.builtin import TerraformData
from infrakit.cdk import TerraformResource, TerraformResourceLifecycle


def address(resource: TerraformResource) -> str:
    """`TYPE.NAME`, a plain reference. `depends_on` and `replace_triggered_by` take only static
    references: Terraform 1.11 refuses an interpolation such as `${terraform_data.x}` there ("A
    single static variable reference is required"; "Invalid expression"), which is what cdktn
    writes for a construct or its `fqn` (tests/test_key_rotation.py gives both forms to Terraform)."""
    return f"{resource.terraform_resource_type}.{resource.friendly_unique_id}"


class KeyRotation(Construct):
    """One `terraform_data` per holder that has keys, holding its generation."""

    def __init__(self, scope: Construct, id_: str, *, generations: Mapping[str, int]):
        super().__init__(scope, id_)
        self._generations = dict(generations)
        self._generation_addresses: dict[str, str] = {}  # by holder, once its terraform_data exists

    def lifecycle(self, holder: str) -> TerraformResourceLifecycle:
        """The lifecycle of a key that `holder` uses: see the module docstring."""
        if holder not in self._generations:
            raise ValueError(f"no key generation for '{holder}'; known: {sorted(self._generations)}")
        if holder not in self._generation_addresses:
            generation = TerraformData(self, holder, input_={"generation": self._generations[holder]})
            self._generation_addresses[holder] = address(generation)
        return TerraformResourceLifecycle(
            create_before_destroy=True, replace_triggered_by=[self._generation_addresses[holder]]
        )
