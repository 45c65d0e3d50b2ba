"""Destroying or replacing the Qdrant Cloud backup schedule keeps the backups, and the plan gate
refuses it unless `--allow-replace` names the schedule.

`qdrant-cloud_accounts_backup_schedule` defaults `delete_backups_on_destroy` to true (provider
1.28.0, schemas_accounts_backup_schedules.go) and its delete passes the value on, so a schedule
destroyed with the default takes every backup it took. The schedule goes when
`[vector_store.backups]` is removed, when its cluster is replaced (`cluster_id` forces a new
schedule), and when an environment is retired (docs/operations.md).

The plans are Terraform's JSON plan representation, built on the schedule's real address in the
synthesized stack as tests/test_plan.py builds them. What none of this can prove: that Qdrant Cloud
keeps the backups when told to (the provider's delete passes the flag; no provider runs here), which
actions a real plan has for a given edit, and that an existing schedule's state moves to false in
place rather than by replacement (the provider's schema decides; the gate refuses a replacement).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from infrakit.config import Environment, EnvironmentConfig
from infrakit.deploy.plan import Action, decide, parse_plan
from tests.conftest import ENVIRONMENTS, synth
from tests.test_plan import one, plan_json, printed, stack_document

SCHEDULE = "qdrant-cloud_accounts_backup_schedule"
CLUSTER = "qdrant-cloud_accounts_cluster"
PROTECTED = ("staging", "prod")


def the_schedule(document: dict[str, Any]) -> dict[str, Any]:
    (schedule,) = document["resource"][SCHEDULE].values()
    assert isinstance(schedule, dict)
    return schedule


@pytest.mark.parametrize("env", PROTECTED)
def test_the_schedule_keeps_its_backups_when_destroyed(synthesized: Path, env: str) -> None:
    """The argument the provider's delete reads is written, and false. Cannot prove: what Qdrant
    Cloud does with it, nor the value in an existing schedule's state before the next apply."""
    assert the_schedule(stack_document(synthesized, env))["delete_backups_on_destroy"] is False


@pytest.mark.parametrize("env", PROTECTED)
def test_replacing_the_schedule_is_refused_naming_what_it_holds(synthesized: Path, env: str) -> None:
    """A new cluster_id forces a new schedule. Cannot prove: that a real provider plans exactly
    this replacement (its schema does force it on cluster_id)."""
    document = stack_document(synthesized, env)
    schedule = one(document, SCHEDULE)
    plan = plan_json(
        document,
        {schedule: ["delete", "create"]},
        default=["no-op"],
        reasons={schedule: "replace_because_cannot_update"},
        replace_paths={schedule: [["cluster_id"]]},
    )
    summary = parse_plan(plan, env)
    verdict = decide(summary, [])
    assert verdict.exit_code == 1
    assert [c.address for c in verdict.refused] == [schedule]
    text = printed(summary, verdict)
    assert (
        f"  - {schedule} would be replaced (replace_because_cannot_update: an argument that cannot "
        "change in place changed: cluster_id); it holds the vector store's backups: Qdrant Cloud "
        "deletes them with it unless its state holds delete_backups_on_destroy = false"
    ) in text
    assert f"{env} was not applied. If you mean to lose it, add: --allow-replace {schedule}" in text
    assert decide(summary, [schedule]).exit_code == 0


@pytest.mark.parametrize("env", PROTECTED)
def test_destroying_the_schedule_is_refused(synthesized: Path, env: str) -> None:
    """`[vector_store.backups]` removed: the schedule is gone from the configuration. Cannot
    prove: that a protected environment can get there (its configuration requires backups; the
    gate is for an edit that bypasses that, and for dev)."""
    document = stack_document(synthesized, env)
    schedule = one(document, SCHEDULE)
    kept = {**document, "resource": {k: v for k, v in document["resource"].items() if k != SCHEDULE}}
    summary = parse_plan(plan_json(kept, default=["no-op"], gone={schedule: ["delete"]}), env)
    verdict = decide(summary, [])
    assert verdict.exit_code == 1
    assert [c.address for c in summary.of(Action.DESTROY)] == [schedule]
    assert [c.address for c in verdict.refused] == [schedule]
    assert "it holds the vector store's backups" in printed(summary, verdict)


@pytest.mark.parametrize("env", PROTECTED)
def test_allowing_the_cluster_replacement_does_not_allow_the_schedules(synthesized: Path, env: str) -> None:
    """A new cluster replaces its schedule too; an operator who allows the one is still asked
    about the other. Cannot prove: Terraform's prevent_destroy on the cluster, which refuses
    such a plan in staging and prod before the gate sees it."""
    document = stack_document(synthesized, env)
    schedule, cluster = one(document, SCHEDULE), one(document, CLUSTER)
    plan = plan_json(
        document, {cluster: ["delete", "create"], schedule: ["delete", "create"]}, default=["no-op"]
    )
    verdict = decide(parse_plan(plan, env), [cluster])
    assert verdict.exit_code == 1
    assert [c.address for c in verdict.refused] == [schedule]
    assert [c.address for c in verdict.allowed] == [cluster]


def test_an_environment_that_deletes_backups_on_destroy_says_so_for_the_schedule_too() -> None:
    """`delete_backups_on_destroy = true` in `[vector_store]` is the one switch: the cluster's
    backups and the schedule's go with them. Cannot prove: the provider's behaviour either way."""
    data = tomllib.loads((ENVIRONMENTS / "staging.toml").read_text())
    data["vector_store"]["delete_backups_on_destroy"] = True
    config = EnvironmentConfig.model_validate(data)
    document = json.loads(synth(Environment(name="staging", file="staging.toml", config=config)))
    (cluster,) = document["resource"][CLUSTER].values()
    assert cluster["delete_backups_on_destroy"] is True
    assert the_schedule(document)["delete_backups_on_destroy"] is True
