"""Helpers for the tests of the hand-written provider bindings (Supabase, Qdrant Cloud, Aura): an
empty stack to build in, its synthesized JSON, and what one block of it holds."""

from __future__ import annotations

import json
from typing import Any

from infrakit.cdk import TerraformStack, Testing
from tests.conftest import in_process_app


def new_stack() -> TerraformStack:
    return TerraformStack(in_process_app(), "t")


def synth(stack: TerraformStack) -> dict[str, Any]:
    return json.loads(Testing.synth(stack))


def only_block(document: dict[str, Any], section: str, block_type: str) -> dict[str, Any]:
    (block,) = document[section][block_type].values()
    return block


def argument_names(block: dict[str, Any]) -> set[str]:
    return {key for key in block if key != "//"}
