"""Fully qualified provider sources, so OpenTofu works as well as Terraform."""

from __future__ import annotations

from infrakit.cdk import TerraformProvider, TerraformStack


def qualify_provider_sources(stack: TerraformStack) -> None:
    """Rewrite short sources such as "aws" to "hashicorp/aws".

    Prebuilt providers emit a bare name. Terraform assumes the hashicorp namespace, but
    OpenTofu re-initialises on every run (opentofu/opentofu#2402).
    """
    for construct in stack.node.find_all():
        if not isinstance(construct, TerraformProvider):
            continue
        source = construct.terraform_provider_source or construct.terraform_resource_type
        if "/" not in source:
            stack.add_override(
                f"terraform.required_providers.{construct.terraform_resource_type}.source",
                f"hashicorp/{source}",
            )
