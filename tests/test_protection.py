"""No deploy can destroy data in a protected environment: each property stated as a policy over the
synthesized stacks, and the expressions Terraform will run evaluated by `terraform console`.

What this cannot prove without the providers: that Terraform refuses the plan (prevent_destroy is
Terraform's own documented behaviour), and that Qdrant Cloud runs the schedule it is given.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from infrakit.config import ConfigError, Environment, EnvironmentConfig
from infrakit.config.loader import load_environment
from infrakit.config.qdrant_cloud import QdrantBackups
from infrakit.constructs.protection import PROTECTED_TYPES
from tests.conftest import ENVIRONMENTS, synth
from tests.terraform_console import evaluate


def stack(synthesized: Path, name: str) -> dict[str, Any]:
    return json.loads((synthesized / "stacks" / name / "cdk.tf.json").read_text())


def stateful(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{kind}.{name}": resource
        for kind, resources in document.get("resource", {}).items()
        if kind in PROTECTED_TYPES
        for name, resource in resources.items()
    }


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_every_stateful_resource_of_a_protected_environment_refuses_destroy(synthesized: Path, env: str):
    found = {**stateful(stack(synthesized, env)), **stateful(stack(synthesized, f"{env}-images"))}
    assert {address.split(".")[0] for address in found} == set(PROTECTED_TYPES)  # each kind is there
    unprotected = [a for a, r in found.items() if r.get("lifecycle", {}).get("prevent_destroy") is not True]
    assert not unprotected


def test_dev_stays_disposable(synthesized: Path):
    found = {**stateful(stack(synthesized, "dev")), **stateful(stack(synthesized, "dev-images"))}
    assert found
    assert not [a for a, r in found.items() if r.get("lifecycle", {}).get("prevent_destroy")]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_redis_takes_a_final_snapshot_with_a_fresh_valid_name(synthesized: Path, env: str):
    document = stack(synthesized, env)
    (group,) = document["resource"]["aws_elasticache_replication_group"].values()
    template = group["final_snapshot_identifier"]
    (reference,) = set(re.findall(r"random_id\.[\w-]+\.hex", template))
    name = evaluate({"name": template}, {reference: "9f3a1c07"})["name"]
    assert name == f"infrakit-{env}-redis-final-9f3a1c07"
    # ElastiCache's rules for snapshot names.
    assert re.fullmatch(r"[A-Za-z](?!.*--)[A-Za-z0-9-]{0,253}[A-Za-z0-9]", name)
    (suffix,) = document["resource"]["random_id"].values()
    assert suffix["keepers"] == {"group": group["replication_group_id"]}


@pytest.mark.parametrize(("env", "min_days"), [("prod", 7), ("staging", 1)])
def test_protected_vector_stores_are_backed_up_daily(synthesized: Path, env: str, min_days: int):
    document = stack(synthesized, env)
    (schedule,) = document["resource"]["qdrant-cloud_accounts_backup_schedule"].values()
    assert QdrantBackups(cron=schedule["cron_expression"], retention_days=1).runs_daily_or_more
    hours = int(schedule["retention_period"].removesuffix("h"))
    assert hours >= min_days * 24
    assert schedule["cluster_id"].startswith("${qdrant-cloud_accounts_cluster.")


def test_prevent_destroy_joins_the_package_precondition():
    data = tomllib.loads((ENVIRONMENTS / "staging.toml").read_text())
    data["vector_store"].pop("package_id")
    data["vector_store"]["package_name"] = "free2"
    document = json.loads(
        synth(Environment(name="staging", file="staging.toml", config=EnvironmentConfig.model_validate(data)))
    )
    (cluster,) = document["resource"]["qdrant-cloud_accounts_cluster"].values()
    assert cluster["lifecycle"]["prevent_destroy"] is True
    assert cluster["lifecycle"]["precondition"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: re.sub(r"\[vector_store\.backups\]\ncron = .*\nretention_days = .*\n", "", t),
            "vector_store.backups is required",
        ),
        (lambda t: t.replace('cron = "0 3 * * *"', 'cron = "every day"'), "vector_store.backups.cron"),
        (
            lambda t: re.sub(r"retention_days = \d+", "retention_days = 0", t),
            "vector_store.backups.retention_days",
        ),
    ],
)
def test_backup_config_errors_name_the_key(tmp_path: Path, edit, message: str):
    path = tmp_path / "prod.toml"
    path.write_text(edit((ENVIRONMENTS / "prod.toml").read_text()))
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    assert message in raised.value.report()
