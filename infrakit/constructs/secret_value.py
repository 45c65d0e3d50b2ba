"""Resolve a SecretRef to a Terraform expression, so no secret value is ever synthesized."""

from __future__ import annotations

from constructs import Construct

from infrakit.cdk import Password, TerraformStack, TerraformVariable
from infrakit.config.types import SecretRef


class SecretValue(Construct):
    """A secret known only to Terraform: generated at apply time, or read from TF_VAR_<name>.

    Generated secrets are alphanumeric so they can sit inside connection URLs without
    escaping; 40 characters from 62 symbols is about 238 bits.
    """

    def __init__(self, scope: Construct, id_: str, *, source: SecretRef, description: str):
        super().__init__(scope, id_)
        if source.generate:
            self.value: str = Password(self, "generated", length=40, special=False).result
        else:
            self.value = _variable(TerraformStack.of(self), source.variable_name, description)


def _variable(stack: TerraformStack, name: str, description: str) -> str:
    # Several services may share one TF_VAR_ secret: declare the variable once per stack.
    existing = stack.node.try_find_child(f"var-{name}")
    if isinstance(existing, TerraformVariable):
        return existing.string_value
    variable = TerraformVariable(
        stack, f"var-{name}", type="string", sensitive=True, nullable=False, description=description
    )
    variable.override_logical_id(name)
    return variable.string_value
