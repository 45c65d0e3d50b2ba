"""Provider lock files as `terraform init` writes them. Imports nothing heavy: the terraform
stand-ins of the plan and deploy tests run it in a fresh Python for every `init`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def pins(document: Mapping[str, Any]) -> dict[str, str]:
    """Each provider the stack requires, `namespace/type`, and the version it pins."""
    return {p["source"]: p["version"] for p in document["terraform"]["required_providers"].values()}


def lock_file(locked: Mapping[str, str], host: str = "registry.terraform.io") -> str:
    """.terraform.lock.hcl as `terraform init` writes it, each `namespace/type` at its version."""
    blocks = [
        f'provider "{host}/{source}" {{\n  version     = "{version}"\n  constraints = "{version}"\n'
        f'  hashes = [\n    "h1:{"A" * 43}=",\n    "zh:{"0" * 64}",\n  ]\n}}\n'
        for source, version in locked.items()
    ]
    return '# This file is maintained automatically by "terraform init".\n\n' + "\n".join(blocks)
