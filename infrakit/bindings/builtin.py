"""Terraform's built-in `terraform_data` resource (Terraform >= 1.4), from the provider
`terraform.io/builtin/terraform`, which ships inside Terraform: nothing to install or pin.

Bound here instead of cdktn's `DataResource`, whose construct validation runs `terraform version`
at synth time: one process per resource, and a synth that fails on a machine without Terraform on
PATH, where synth needs none (tests/test_cdktf_without_venv_path.py found it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from constructs import Construct

from infrakit.bindings import BoundResource
from infrakit.cdk import TerraformProviderGeneratorMetadata

METADATA = TerraformProviderGeneratorMetadata(provider_name="terraform")


class TerraformData(BoundResource):
    """A value kept in state; any change to `input` is a planned update of this resource, which
    `replace_triggered_by` elsewhere can turn into a replacement."""

    TF_RESOURCE_TYPE = "terraform_data"

    def __init__(self, scope: Construct, id_: str, *, input_: Mapping[str, Any]):
        super().__init__(
            scope,
            id_,
            resource_type=self.TF_RESOURCE_TYPE,
            metadata=METADATA,
            arguments={"input": dict(input_)},
        )
