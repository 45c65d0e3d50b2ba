"""A replaced API key is a credential rotation: the plan summary says so and the gate lets it through.

The plans are built as in tests/test_plan.py (Terraform's JSON plan representation, format_version
1.2), on the keys our own prod stack declares, looked up by type (infrakit/deploy/credentials.py).
What none of this can prove: which actions and reasons a real provider plans for a rotation, and
that the tasks do restart; the plans are written as the providers' schemas make Terraform plan.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infrakit.constructs import protection
from infrakit.deploy.credentials import CREDENTIAL_TYPES, ROTATION, ROTATION_WITHOUT_TASKS
from infrakit.deploy.plan import Action, decide, parse_plan
from infrakit.deploy.stateful import STATEFUL_TYPES
from tests.test_plan import SECRET, addresses, plan_json, printed, stack_document

QDRANT_KEY = "qdrant-cloud_accounts_database_api_key_v2"
SUPABASE_KEY = "supabase_apikey"
# Sensitive in the provider's schema, and not planted by tests/test_plan.py's plan_json.
SUPABASE_KEY_VALUE = "api_key"


def prod_keys(synthesized: Path, resource_type: str) -> tuple[dict[str, Any], list[str]]:
    """prod's stack and the addresses of its keys of that type; it must issue at least one."""
    document = stack_document(synthesized, "prod")
    keys = addresses(document, resource_type)
    assert keys, f"prod declares no {resource_type}: the services' keys of that kind are missing"
    return document, keys


def plant_supabase_secrets(plan: dict[str, Any]) -> dict[str, Any]:
    """Each supabase_apikey's value, sensitive, set to SECRET on both sides of its change."""
    for item in plan["resource_changes"]:
        if item["type"] != SUPABASE_KEY:
            continue
        change = item["change"]
        for side in ("before", "after"):
            if change[side] is not None:
                change[side] = {**change[side], SUPABASE_KEY_VALUE: SECRET}
                change[f"{side}_sensitive"] = {SUPABASE_KEY_VALUE: True}
    return plan


def rows(text: str) -> dict[str, str]:
    """The table's third column by resource address."""
    return {
        cells[2].strip(): cells[3].strip() for line in text.splitlines() if len(cells := line.split("│")) == 5
    }


def rotation_line(address: str, resource_type: str, reason: str) -> str:
    return (
        f"{ROTATION}: {address} ({CREDENTIAL_TYPES[resource_type]}) would be replaced ({reason}); the new "
        "key is created first, the tasks that read it get a new task definition revision and restart, "
        "and only then is the old key deleted"
    )


# ----------------------------------------------------------------------------- on prod's own keys


@pytest.mark.parametrize("resource_type", sorted(CREDENTIAL_TYPES))
def test_rotating_each_key_of_prod_is_announced_and_never_refused(synthesized, resource_type) -> None:
    """Every key of the type in prod is replaced create-before-destroy, with the secret versions,
    task definitions and services that follow it: exit 0, and one rotation line per key, in its
    row and after the table. Qdrant keys are replaced for a change of collection_access_rules
    (the provider forces it); Supabase keys by their generation's replace_triggered_by (no
    argument of theirs forces one). Cannot prove: the real providers' plans (which companions
    change, and whether after_unknown marks the key), nor that the tasks do restart."""
    document, keys = prod_keys(synthesized, resource_type)
    tasks = addresses(document, "aws_ecs_task_definition")
    versions = addresses(document, "aws_secretsmanager_secret_version")
    services = addresses(document, "aws_ecs_service")
    if resource_type == QDRANT_KEY:
        reason, forced, paths = (
            "replace_because_cannot_update",
            "collection_access_rules",
            [["collection_access_rules"]],
        )
        why = f"{reason}: an argument that cannot change in place changed: {forced}"
    else:
        reason, paths = "replace_by_triggers", []
        why = f"{reason}: a replace_triggered_by reference changed"
    plan = plant_supabase_secrets(
        plan_json(
            document,
            {
                **dict.fromkeys(keys, ["create", "delete"]),
                **dict.fromkeys(tasks, ["delete", "create"]),
                **dict.fromkeys(versions + services, ["update"]),
            },
            default=["no-op"],
            reasons={**dict.fromkeys(keys, reason), **dict.fromkeys(tasks, "replace_because_cannot_update")},
            replace_paths={**dict.fromkeys(keys, paths), **dict.fromkeys(tasks, [["container_definitions"]])},
        )
    )
    summary = parse_plan(plan, "prod")
    verdict = decide(summary, [])
    assert verdict.exit_code == 0
    assert not verdict.refused and not verdict.immovable
    assert sorted(c.address for c in verdict.rotations) == sorted(keys)
    assert all(c.create_first for c in verdict.rotations)
    text = printed(summary, verdict)
    assert "refusing" not in text and "REFUSED" not in text
    cells = rows(text)
    for key in keys:
        assert cells[key] == ROTATION
        assert rotation_line(key, resource_type, why) in " ".join(text.split())  # a long line wraps
    assert text.count(ROTATION) == 2 * len(keys)  # the companions are no rotation
    assert SECRET not in text


@pytest.mark.parametrize("resource_type", sorted(CREDENTIAL_TYPES))
def test_an_in_place_update_of_a_key_is_no_rotation(synthesized, resource_type) -> None:
    """A Supabase key's new name is updated in place (provider 1.10.1: no argument forces a
    replacement); the key and the tasks stay. Cannot prove: Qdrant Cloud has no update for these
    keys, so its provider never plans this: here it only shows that an update is not a rotation."""
    document, keys = prod_keys(synthesized, resource_type)
    summary = parse_plan(
        plant_supabase_secrets(plan_json(document, dict.fromkeys(keys, ["update"]), default=["no-op"])),
        "prod",
    )
    verdict = decide(summary, [])
    assert sorted(c.address for c in summary.of(Action.CHANGE)) == sorted(keys)
    assert verdict.exit_code == 0 and verdict.rotations == ()
    text = printed(summary, verdict)
    assert ROTATION not in text and "credential rotation" not in text
    assert SECRET not in text


def test_replacing_resources_that_are_no_keys_is_no_rotation(synthesized) -> None:
    """A release replaces task definitions (goes ahead) and a new password replaces a
    random_password (refused): neither is called a credential rotation, although a task restarts
    for both. Cannot prove: which other resources a real plan replaces along with them."""
    document = stack_document(synthesized, "prod")
    tasks, passwords = addresses(document, "aws_ecs_task_definition"), addresses(document, "random_password")
    assert tasks and passwords
    summary = parse_plan(
        plan_json(document, dict.fromkeys(tasks + passwords, ["create", "delete"]), default=["no-op"]), "prod"
    )
    verdict = decide(summary, [])
    assert verdict.rotations == ()
    assert sorted(c.address for c in verdict.refused) == sorted(passwords)
    assert "credential rotation" not in printed(summary, verdict)


def test_a_key_removed_from_the_configuration_is_destroyed_not_rotated(synthesized) -> None:
    """A Qdrant key gone from the stack is destroyed: no new key, so no rotation line, and no
    refusal (a key holds no data). Cannot prove: what the services do without it; the deploy's
    rollout watch (infrakit/deploy/rollout.py) reports tasks that fail."""
    document, keys = prod_keys(synthesized, QDRANT_KEY)
    kept = {**document, "resource": {k: v for k, v in document["resource"].items() if k != QDRANT_KEY}}
    summary = parse_plan(plan_json(kept, default=["no-op"], gone=dict.fromkeys(keys, ["delete"])), "prod")
    verdict = decide(summary, [])
    assert sorted(c.address for c in summary.of(Action.DESTROY)) == sorted(keys)
    assert verdict.exit_code == 0 and verdict.rotations == () and verdict.refused == ()
    text = printed(summary, verdict)
    assert "credential rotation" not in text
    cells = rows(text)
    assert all(cells[key] == "" for key in keys)


# ----------------------------------------------------------------------------- hand-written plans


def key_change(address: str, actions: list[str], **extra: Any) -> dict[str, Any]:
    """One supabase_apikey change, its value planted as SECRET where the key exists."""
    kind, name = address.split(".", 1)
    value = {"project_ref": "abcdefghijklmnopqrst", "name": name, SUPABASE_KEY_VALUE: SECRET}
    before = None if actions == ["create"] else value
    after = None if actions == ["delete"] else {**value, "name": f"{name}_renamed"}
    return {
        "address": address,
        "mode": "managed",
        "type": kind,
        "name": name,
        "provider_name": "registry.terraform.io/supabase/supabase",
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": {},
            "before_sensitive": {SUPABASE_KEY_VALUE: True} if before else False,
            "after_sensitive": {SUPABASE_KEY_VALUE: True} if after else False,
        },
        **extra,
    }


def task_definition_change(address: str) -> dict[str, Any]:
    """A task definition replaced: a new revision, as a service's rotated key gives it."""
    kind, name = address.split(".", 1)
    return {
        "address": address,
        "mode": "managed",
        "type": kind,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": ["delete", "create"], "before": {}, "after": {}, "after_unknown": {}},
        "action_reason": "replace_because_cannot_update",
    }


def test_supabase_keys_rotate_whatever_the_stack_declares() -> None:
    """The supabase_apikey path without a synthesized key: hand-written addresses, one per case
    (rotated create-first, rotated delete-first, renamed in place, removed, a deposed object).
    Cannot prove: that these addresses, or this plan's shape, are what prod and the Supabase
    provider produce; the prod tests above hold that part."""
    rotated, delete_first = "supabase_apikey.api_key", "supabase_apikey.worker_key"
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            key_change(rotated, ["create", "delete"], action_reason="replace_by_triggers"),
            key_change(delete_first, ["delete", "create"], action_reason="replace_by_request"),
            key_change("supabase_apikey.renamed", ["update"]),
            key_change(
                "supabase_apikey.removed", ["delete"], action_reason="delete_because_no_resource_config"
            ),
            key_change(rotated, ["delete"], deposed="0a1b2c3d"),
            task_definition_change("aws_ecs_task_definition.api_task"),
        ],
    }
    summary = parse_plan(plan, "dev")
    verdict = decide(summary, [])
    assert verdict.exit_code == 0 and verdict.refused == ()
    assert [c.address for c in verdict.rotations] == [rotated, delete_first]
    text = printed(summary, verdict)
    flat = " ".join(text.split())  # a long line wraps
    assert (
        rotation_line(rotated, SUPABASE_KEY, "replace_by_triggers: a replace_triggered_by reference changed")
        in flat
    )
    assert (
        f"{ROTATION}: {delete_first} (a Supabase secret key) would be replaced (replace_by_request: "
        "replacement was requested (-replace)); the old key is deleted BEFORE the new one exists (no "
        "create_before_destroy): the tasks that hold it fail to authenticate until they restart"
    ) in flat
    cells = rows(text)
    assert cells[rotated] == cells[delete_first] == ROTATION
    assert cells["supabase_apikey.renamed"] == cells["supabase_apikey.removed"] == ""
    assert cells[f"{rotated} (deposed object 0a1b2c3d)"] == ""
    assert text.count(ROTATION) == 4
    assert SECRET not in text


def test_a_key_no_task_reads_says_so() -> None:
    """The operator's key alone (no task definition replaced in the plan): the line says no task
    restarts, and where the new key is. Cannot prove: which keys a real plan replaces together
    (tests/test_key_rotation.py rehearses that on prod)."""
    operator = "supabase_apikey.operator_key"
    plan = {
        "format_version": "1.2",
        "resource_changes": [key_change(operator, ["create", "delete"], action_reason="replace_by_triggers")],
    }
    summary = parse_plan(plan, "dev")
    verdict = decide(summary, [])
    assert verdict.exit_code == 0 and [c.address for c in verdict.rotations] == [operator]
    flat = " ".join(printed(summary, verdict).split())
    assert f"{ROTATION_WITHOUT_TASKS}: {operator} (a Supabase secret key) would be replaced" in flat
    assert ROTATION not in flat


def test_keys_are_credentials_never_stateful_or_protected() -> None:
    """A key is rotated, never refused: no credential type may be stateful (refused by the gate)
    or protected (prevent_destroy would make Terraform refuse the rotation itself). Cannot prove:
    that the stacks give each key create_before_destroy (the lead's construct tests hold that)."""
    assert set(CREDENTIAL_TYPES) == {QDRANT_KEY, SUPABASE_KEY}
    assert not set(CREDENTIAL_TYPES) & set(STATEFUL_TYPES)
    assert not set(CREDENTIAL_TYPES) & set(protection.PROTECTED_TYPES)
