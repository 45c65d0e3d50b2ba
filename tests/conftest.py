from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infrakit.config import Environment, EnvironmentConfig
from infrakit.config.loader import load_environment

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS = ROOT / "environments"
PYTHON = sys.executable


def local_toml() -> dict[str, Any]:
    return tomllib.loads((ENVIRONMENTS / "local.toml").read_text())


def environment_with(name: str = "local", **changes: dict[str, Any]) -> Environment:
    """The local environment with some service tables updated, validated like a file would be."""
    data = local_toml()
    for service, values in changes.items():
        data[service] = {**data[service], **values}
    return Environment(name=name, file=f"{name}.toml", config=EnvironmentConfig.model_validate(data))


def synth(environment: Environment) -> str:
    """Synthesize one environment stack with cdktf's Testing API; returns cdk.tf.json text."""
    from cdktf import Testing

    from infrakit.stacks.environment_stack import EnvironmentStack

    app = Testing.app(stack_traces=False)
    return str(Testing.synth(EnvironmentStack(app, environment)))


@pytest.fixture(scope="session")
def local_environment() -> Environment:
    return load_environment(ENVIRONMENTS / "local.toml")


@pytest.fixture(scope="session")
def local_synth(local_environment: Environment) -> str:
    return synth(local_environment)


@pytest.fixture(scope="session")
def local_json(local_synth: str) -> dict[str, Any]:
    return json.loads(local_synth)


@pytest.fixture
def resources() -> Callable[[dict[str, Any], str], dict[str, Any]]:
    def of_type(document: dict[str, Any], resource_type: str) -> dict[str, Any]:
        found = document.get("resource", {}).get(resource_type, {})
        assert isinstance(found, dict)
        return found

    return of_type
