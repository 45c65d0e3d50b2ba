"""AWS details that decide whether an apply, or a re-apply after a destroy, can succeed at all.

What these cannot prove without an AWS account: that ALB log delivery succeeds with the principal
chosen (AWS documents the ELB account for regions launched before August 2022 and the log delivery
service principal for later ones), and Secrets Manager's recovery-window behaviour itself.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from infrakit.config import Environment, EnvironmentConfig
from infrakit.constructs.aws.access_log_bucket import LOG_DELIVERY_SERVICE
from infrakit.constructs.aws.stored_secret import RECOVERY_WINDOW_DAYS
from tests.conftest import ENVIRONMENTS, synth


def stack(synthesized: Path, env: str) -> dict[str, Any]:
    return json.loads((synthesized / "stacks" / env / "cdk.tf.json").read_text())


@pytest.mark.parametrize(
    ("env", "window"), [("dev", 0), ("staging", RECOVERY_WINDOW_DAYS), ("prod", RECOVERY_WINDOW_DAYS)]
)
def test_secrets_of_disposable_environments_are_deleted_at_once(synthesized: Path, env: str, window: int):
    """dev (deletion_protection = false) can be destroyed and re-created the same day; a secret kept
    for a 7-day recovery window would block the re-apply ("already scheduled for deletion")."""
    secrets = stack(synthesized, env)["resource"]["aws_secretsmanager_secret"]
    assert secrets
    assert {name: s["recovery_window_in_days"] for name, s in secrets.items()} == dict.fromkeys(
        secrets, window
    )


def _log_writer(document: dict[str, Any]) -> list[dict[str, Any]]:
    (policy,) = [
        p
        for p in document["data"]["aws_iam_policy_document"].values()
        if any(s.get("sid") == "LoadBalancerWritesLogs" for s in p["statement"])
    ]
    (statement,) = [s for s in policy["statement"] if s.get("sid") == "LoadBalancerWritesLogs"]
    return list(statement["principals"])


def dev_in(region: str) -> Environment:
    data = tomllib.loads((ENVIRONMENTS / "dev.toml").read_text())
    data["aws"] |= {"region": region, "availability_zones": [f"{region}a", f"{region}b"]}
    data["api"]["load_balancer"].pop("certificate_arn", None)
    return Environment(name="dev", file="dev.toml", config=EnvironmentConfig.model_validate(data))


def test_older_regions_grant_the_elb_account(synthesized: Path):
    document = stack(synthesized, "dev")  # eu-west-1
    assert "aws_elb_service_account" in document["data"]
    (writer,) = _log_writer(document)
    assert writer["type"] == "AWS" and "data.aws_elb_service_account." in writer["identifiers"][0]


def test_regions_since_august_2022_grant_the_log_delivery_service():
    document = json.loads(synth(dev_in("eu-central-2")))  # Zurich, November 2022
    assert "aws_elb_service_account" not in document["data"]  # it fails in regions it does not know
    assert _log_writer(document) == [{"type": "Service", "identifiers": [LOG_DELIVERY_SERVICE]}]
