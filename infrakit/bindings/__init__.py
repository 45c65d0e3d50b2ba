"""Hand-written CDK bindings for providers that have no prebuilt package.

`cdktf get` needs the network and neither HashiCorp nor CDK Terrain publishes prebuilt Supabase or
Qdrant Cloud providers, so each module here binds exactly the arguments infrakit uses, no more. Keyword-only
constructor arguments make an unknown or missing argument a TypeError at construction, and each
class checks the obvious value constraints itself, so mistakes surface at synth, not at apply.

The classes below are the shared plumbing. jsii only sees a Python override of
`synthesizeAttributes` when it is declared with `@jsii.member`; a plain method is ignored and the
block would synthesize empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsii
from constructs import Construct

from infrakit.cdk import (
    TerraformDataSource,
    TerraformProvider,
    TerraformProviderGeneratorMetadata,
    TerraformResource,
    TerraformResourceLifecycle,
)
from infrakit.tokens import is_unresolved


def compact(value: Any) -> Any:
    """Drop unset (None) arguments at every depth, so Terraform applies its own defaults.

    False, 0 and empty lists are kept: they are choices, not omissions.
    """
    if isinstance(value, Mapping):
        return {key: compact(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [compact(item) for item in value]
    return value


def is_token(value: object) -> bool:
    """True for a Terraform reference, whose value is known only at apply time."""
    return isinstance(value, str | int | float) and is_unresolved(value)


def require_text(block: str, argument: str, value: str) -> None:
    if not is_token(value) and not value.strip():
        raise ValueError(f"{block}: {argument} must not be empty")


class _CollectedArguments:
    """Synthesizes exactly the arguments a binding collected in `_arguments`.

    jsii looks for overrides on every class before the jsii class in the MRO, so this one
    declaration serves providers, resources and data sources alike.
    """

    _arguments: dict[str, Any]

    @jsii.member(jsii_name="synthesizeAttributes")
    def _synthesize_attributes(self) -> Mapping[str, Any]:
        attributes: Mapping[str, Any] = compact(self._arguments)
        return attributes


class BoundProvider(_CollectedArguments, TerraformProvider):
    """A provider block whose credentials come only from the environment at apply time."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        source: str,
        metadata: TerraformProviderGeneratorMetadata,
        arguments: Mapping[str, Any],
    ):
        super().__init__(
            scope,
            id_,
            terraform_resource_type=name,
            terraform_provider_source=source,
            terraform_generator_metadata=metadata,
        )
        self._arguments = dict(arguments)


class BoundResource(_CollectedArguments, TerraformResource):
    """A resource block that synthesizes exactly the arguments its subclass collected."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        resource_type: str,
        metadata: TerraformProviderGeneratorMetadata,
        arguments: Mapping[str, Any],
        lifecycle: TerraformResourceLifecycle | None = None,
    ):
        super().__init__(
            scope,
            id_,
            terraform_resource_type=resource_type,
            terraform_generator_metadata=metadata,
            lifecycle=lifecycle,
        )
        self._arguments = dict(arguments)


class BoundDataSource(_CollectedArguments, TerraformDataSource):
    """A data block that synthesizes exactly the arguments its subclass collected."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        data_type: str,
        metadata: TerraformProviderGeneratorMetadata,
        arguments: Mapping[str, Any],
    ):
        super().__init__(
            scope,
            id_,
            terraform_resource_type=data_type,
            terraform_generator_metadata=metadata,
        )
        self._arguments = dict(arguments)
