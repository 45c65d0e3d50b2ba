"""Example values in environment files are refused before a deploy starts, each named with its file
and key and what to put there. Without this, each failed only after the VPC, NAT and ALB existed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infrakit.config.loader import load_environment
from infrakit.placeholders import find_placeholders
from tests.conftest import ENVIRONMENTS, ROOT

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIA-dummy-for-preflight",  # checkov:skip=CKV_SECRET_2: test value
    "AWS_SECRET_ACCESS_KEY": "dummy-secret-for-preflight",  # checkov:skip=CKV_SECRET_6: test value
    "SUPABASE_ACCESS_TOKEN": "dummy-supabase-token",  # checkov:skip=CKV_SECRET_6: test value
    "QDRANT_CLOUD_API_KEY": "dummy-qdrant-key",  # checkov:skip=CKV_SECRET_6: test value
    "QDRANT_CLOUD_ACCOUNT_ID": "dummy-account",
    "TF_VAR_neo4j_aura_client_id": "dummy-aura-client",
    "TF_VAR_neo4j_aura_client_secret": "dummy-aura-secret",  # checkov:skip=CKV_SECRET_6: test value
}


@pytest.mark.parametrize(
    ("env", "keys"),
    [
        (
            "dev",
            [
                "state.bucket",
                "database.organization_id",
                "graph.project_id",
                "api.load_balancer.domain_name",
                "api.load_balancer.hosted_zone_id",
                "alarms.emails[0]",
            ],
        ),
        (
            "prod",
            [
                "state.bucket",
                "database.organization_id",
                "vector_store.package_id",
                "graph.project_id",
                "api.load_balancer.domain_name",
                "api.load_balancer.hosted_zone_id",
                "alarms.emails[0]",
            ],
        ),
    ],
)
def test_every_shipped_placeholder_is_found(env: str, keys: list[str]) -> None:
    config = load_environment(ENVIRONMENTS / f"{env}.toml").config
    assert [p.key for p in find_placeholders(config)] == keys


def test_preflight_refuses_the_shipped_dev_file_naming_each_placeholder(tmp_path: Path) -> None:
    """The issue's acceptance, through the real command: every credential set to a dummy value."""
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SUPABASE_", "QDRANT_", "TF_VAR_"))
    }
    result = subprocess.run(
        [sys.executable, "-m", "infrakit", "preflight", "--env", "dev"],
        cwd=ROOT,
        env={**environ, **DUMMY_CREDENTIALS, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3, result.stderr
    for key in (
        "state.bucket",
        "database.organization_id",
        "graph.project_id",
        "api.load_balancer.domain_name",
        "api.load_balancer.hosted_zone_id",
        "alarms.emails[0]",
    ):
        assert f"environments/dev.toml: {key} is still the example value" in result.stderr, key
    assert "replace it with your Supabase organization slug" in result.stderr
    assert "replace it with the id of your Aura project" in result.stderr
    assert "AWS credentials" not in result.stderr  # the dummies count: only placeholders are missing


def test_real_values_pass(tmp_path: Path) -> None:
    text = (ENVIRONMENTS / "prod.toml").read_text()
    for example, real in (
        ('"acme-infrakit-terraform-state"', '"northwind-terraform-state"'),
        ('organization_id = "acme"', 'organization_id = "northwind"'),
        ('"00000000-0000-0000-0000-000000000000"', '"7c1e9a52-3f4b-4d8e-9a61-2b5c8d0e4f17"'),
        ("api.prod.example.com", "api.northwind.io"),
        ('"Z0000000000000000000"', '"Z08412341ABCDEFGHIJK"'),
        ('"oncall@example.com"', '"oncall@northwind.io"'),
    ):
        assert example in text, example
        text = text.replace(example, real)
    (tmp_path / "prod.toml").write_text(text)
    assert find_placeholders(load_environment(tmp_path / "prod.toml").config) == []


@pytest.mark.parametrize(
    "certificate",
    [
        "arn:aws:acm:eu-west-1:111111111111:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        "arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        "arn:aws:acm:eu-west-1:480937561234:certificate/00000000-0000-0000-0000-000000000000",
    ],
)
def test_example_certificate_arns_are_placeholders(tmp_path: Path, certificate: str) -> None:
    text = (ENVIRONMENTS / "staging.toml").read_text()
    text = text.replace('hosted_zone_id = "Z0000000000000000000"', f'certificate_arn = "{certificate}"')
    (tmp_path / "staging.toml").write_text(text)
    found = find_placeholders(load_environment(tmp_path / "staging.toml").config)
    assert "api.load_balancer.certificate_arn" in [p.key for p in found]
