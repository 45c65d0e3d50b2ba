"""Read resource attributes in the shape checkov hands them to a check.

For terraform_json (and HCL) checkov wraps each attribute in a one-element list: `"user": "101"`
arrives as `["101"]`, a list of strings as `[["CMD", "true"]]`, one nested block as `[{...}]`
and repeated blocks as a list of dicts. Reading through these helpers keeps every policy from
re-learning that shape, and from crashing when a hand-written file differs from cdktf's output.
"""

from __future__ import annotations

from typing import Any


def attribute(conf: dict[str, Any], key: str) -> Any:
    """The attribute's value without checkov's one-element list, or None when it is not set."""
    value = conf.get(key)
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def nested_blocks(conf: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Every `key { ... }` block of a resource, whether it was written once or repeated."""
    value = conf.get(key)
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [block for block in value if isinstance(block, dict)]
    return []


def is_expression(value: Any) -> bool:
    """True for a Terraform interpolation such as `${docker_image.api.image_id}`: only known at apply."""
    return isinstance(value, str) and "${" in value
