"""The plan summary and its refusal, on plan JSON built from our own synthesized stacks.

No provider can run here, so `terraform plan` cannot: each plan is written in Terraform's documented
JSON plan representation (`terraform show -json PLANFILE`, format_version 1.2 as Terraform 1.11
writes it), with one resource change per resource the synthesized stack declares and the actions
a test needs. What this cannot prove: which actions a real provider would plan for a given edit.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from infrakit.constructs import protection
from infrakit.deploy.plan import Action, PlanFormatError, decide, parse_plan
from infrakit.deploy.plan_table import render_summary, verdict_lines
from infrakit.deploy.stateful import STATEFUL_TYPES

CLOUD = ("dev", "staging", "prod")
CLOUD_STACKS = tuple(stack for env in CLOUD for stack in (f"{env}-images", env))
# Planted in every sensitive value of every plan: nothing may print it.
SECRET = "sentinel-plan-secret-5e4d3c"  # checkov:skip=CKV_SECRET_6: test value
SENSITIVE_ATTRIBUTES = {
    "random_password": "result",
    "supabase_project": "database_password",
    "aws_elasticache_replication_group": "auth_token",
    "aws_secretsmanager_secret_version": "secret_string",
    "qdrant-cloud_accounts_database_api_key_v2": "key",
    "neo4jaura_instance": "password",
}


# ----------------------------------------------------------------------------- plan fixtures


def stack_document(synthesized: Path, stack: str) -> dict[str, Any]:
    return json.loads((synthesized / "stacks" / stack / "cdk.tf.json").read_text())


def addresses(document: Mapping[str, Any], resource_type: str | None = None) -> list[str]:
    """Every managed resource the stack declares (of one type, if given), as plan addresses."""
    return [
        f"{kind}.{name}"
        for kind, resources in document.get("resource", {}).items()
        if resource_type in (None, kind)
        for name in resources
    ]


def plan_json(
    document: Mapping[str, Any],
    actions: Mapping[str, list[str]] | None = None,
    *,
    default: list[str] | None = None,
    reasons: Mapping[str, str] | None = None,
    replace_paths: Mapping[str, list[list[str | int]]] | None = None,
    gone: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A plan of the stack: each resource gets `actions[address]`, else `default` (create);
    `gone` holds resources in state only, which the plan deletes. Data sources are read."""
    actions, reasons, replace_paths = actions or {}, reasons or {}, replace_paths or {}
    providers = document["terraform"]["required_providers"]
    changes = []
    declared = [
        (kind, name, config)
        for kind, resources in document.get("resource", {}).items()
        for name, config in resources.items()
    ]
    for kind, name, config in declared:
        address = f"{kind}.{name}"
        change = _resource_change(
            "managed", kind, name, config, actions.get(address, default or ["create"]), providers
        )
        if address in reasons:
            change["action_reason"] = reasons[address]
        if address in replace_paths:
            change["replace_paths"] = replace_paths[address]
        changes.append(change)
    for address, deleted in (gone or {}).items():
        kind, name = address.split(".", 1)
        change = _resource_change("managed", kind, name, {}, deleted, providers)
        change["action_reason"] = "delete_because_no_resource_config"
        changes.append(change)
    for kind, sources in document.get("data", {}).items():
        for name, config in sources.items():
            changes.append(_resource_change("data", kind, name, config, ["read"], providers))
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "applyable": True,
        "complete": True,
        "errored": False,
        "resource_changes": sorted(changes, key=lambda c: c["address"]),
    }


def _resource_change(
    mode: str,
    kind: str,
    name: str,
    config: Mapping[str, Any],
    actions: list[str],
    providers: Mapping[str, Any],
) -> dict[str, Any]:
    values = {key: value for key, value in config.items() if key not in ("//", "lifecycle", "depends_on")}
    sensitive: dict[str, bool] = {}
    if attribute := SENSITIVE_ATTRIBUTES.get(kind):
        values[attribute], sensitive[attribute] = SECRET, True
    before = None if actions in (["create"], ["read"]) else values
    after = None if actions == ["delete"] else values
    if actions == ["update"]:
        after = {**values, "tags": {"Changed": "yes"}}
    prefix = "data." if mode == "data" else ""
    # terraform_data (the key generations) is built in: no required_providers entry names it.
    provider = (
        "terraform.io/builtin/terraform"
        if kind == "terraform_data"
        else "registry.terraform.io/"
        + providers[kind.split("_")[0]]["source"].removeprefix("registry.terraform.io/")
    )
    return {
        "address": f"{prefix}{kind}.{name}",
        "mode": mode,
        "type": kind,
        "name": name,
        "provider_name": provider,
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": {"id": True} if "create" in actions else {},
            "before_sensitive": sensitive if before is not None else False,
            "after_sensitive": sensitive if after is not None else False,
        },
    }


def printed(summary: Any, verdict: Any) -> str:
    """The table and the verdict lines as a wide terminal shows them."""
    out = io.StringIO()
    console = Console(file=out, width=400, color_system=None)
    console.print(render_summary(summary, verdict))
    for line in verdict_lines(verdict, summary.stack):
        console.print(line, markup=False)
    return out.getvalue()


def one(document: Mapping[str, Any], resource_type: str) -> str:
    (address,) = addresses(document, resource_type)
    return address


# ----------------------------------------------------------------------------- the summary


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_a_first_deploy_adds_every_resource_and_marks_the_stateful_ones(synthesized, stack) -> None:
    document = stack_document(synthesized, stack)
    summary = parse_plan(plan_json(document), stack)
    verdict = decide(summary, [])
    assert verdict.exit_code == 0
    assert sorted(c.address for c in summary.of(Action.ADD)) == sorted(addresses(document))
    assert len(summary.changes) == len(addresses(document))  # the data sources' reads are not changes
    text = printed(summary, verdict)
    assert f"{stack}: {len(addresses(document))} to add, 0 to change, 0 to replace, 0 to destroy" in text
    stateful = [a for a in addresses(document) if a.split(".")[0] in STATEFUL_TYPES]
    assert stateful, "every cloud stack holds data"
    marks = {
        cells[2].strip(): cells[3].strip() for line in text.splitlines() if len(cells := line.split("│")) == 5
    }
    for address in addresses(document):
        assert marks[address] == STATEFUL_TYPES.get(address.split(".")[0], "")
    assert "REFUSED" not in text


def test_a_release_replaces_task_definitions_updates_services_and_goes_ahead(synthesized) -> None:
    document = stack_document(synthesized, "dev")
    tasks = addresses(document, "aws_ecs_task_definition")
    services = addresses(document, "aws_ecs_service")
    plan = plan_json(
        document,
        {**dict.fromkeys(tasks, ["delete", "create"]), **dict.fromkeys(services, ["update"])},
        default=["no-op"],
        reasons=dict.fromkeys(tasks, "replace_because_cannot_update"),
        replace_paths=dict.fromkeys(tasks, [["container_definitions"]]),
    )
    summary = parse_plan(plan, "dev")
    verdict = decide(summary, [])
    assert verdict.exit_code == 0
    assert sorted(c.address for c in summary.of(Action.REPLACE)) == sorted(tasks)
    assert sorted(c.address for c in summary.of(Action.CHANGE)) == sorted(services)
    text = printed(summary, verdict)
    assert "dev: 0 to add, 2 to change, 2 to replace, 0 to destroy" in text
    assert "refusing" not in text


@pytest.mark.parametrize("env", CLOUD)
def test_replacing_the_elasticache_group_is_refused_naming_it_and_why(synthesized, env) -> None:
    document = stack_document(synthesized, env)
    group = one(document, "aws_elasticache_replication_group")
    plan = plan_json(
        document,
        {group: ["delete", "create"]},
        default=["no-op"],
        reasons={group: "replace_because_cannot_update"},
        replace_paths={group: [["at_rest_encryption_enabled"]]},
    )
    summary = parse_plan(plan, env)
    verdict = decide(summary, [])
    assert verdict.exit_code == 1
    assert [c.address for c in verdict.refused] == [group]
    text = printed(summary, verdict)
    assert text.count(group) == 3  # its row, the refusal, the flag that lifts it
    assert f"refusing: 1 stateful resource in {env} would be replaced or destroyed:" in text
    assert (
        f"  - {group} would be replaced (replace_because_cannot_update: an argument that cannot change "
        "in place changed: at_rest_encryption_enabled); it holds the queued jobs (Redis)"
    ) in text
    assert f"{env} was not applied. If you mean to lose it, add: --allow-replace {group}" in text


@pytest.mark.parametrize("env", CLOUD)
def test_allow_replace_lets_that_replacement_through(synthesized, env) -> None:
    document = stack_document(synthesized, env)
    group = one(document, "aws_elasticache_replication_group")
    plan = plan_json(document, {group: ["delete", "create"]}, default=["no-op"])
    summary = parse_plan(plan, env)
    verdict = decide(summary, [group])
    assert verdict.exit_code == 0
    assert [c.address for c in verdict.allowed] == [group]
    text = printed(summary, verdict)
    assert f"allowed by --allow-replace: {group} would be replaced; it holds the queued jobs (Redis)" in text
    assert "refusing" not in text


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_destroying_the_kms_key_is_refused(synthesized, stack) -> None:
    """The key is gone from the configuration, as if its construct were deleted."""
    document = stack_document(synthesized, stack)
    key = one(document, "aws_kms_key")
    kept = {**document, "resource": {k: v for k, v in document["resource"].items() if k != "aws_kms_key"}}
    summary = parse_plan(plan_json(kept, default=["no-op"], gone={key: ["delete"]}), stack)
    verdict = decide(summary, [])
    assert verdict.exit_code == 1
    assert [c.address for c in summary.of(Action.DESTROY)] == [key]
    text = printed(summary, verdict)
    assert (
        f"{key} would be destroyed (delete_because_no_resource_config: it is no longer in the "
        "configuration); it holds the key to encrypted data"
    ) in text


def test_every_address_is_listed_once_even_when_a_stateless_neighbour_goes_too(synthesized) -> None:
    document = stack_document(synthesized, "dev")
    bucket, policy = one(document, "aws_s3_bucket"), one(document, "aws_s3_bucket_policy")
    plan = plan_json(
        document, {bucket: ["create", "delete"], policy: ["delete", "create"]}, default=["no-op"]
    )
    summary = parse_plan(plan, "dev")
    verdict = decide(summary, [])
    assert [c.address for c in verdict.refused] == [bucket]  # the policy holds nothing
    text = printed(summary, verdict)
    assert text.count(policy) == 1
    assert "dev: 0 to add, 0 to change, 2 to replace, 0 to destroy" in text


def test_replacing_a_random_password_says_it_changes_a_live_password(synthesized) -> None:
    document = stack_document(synthesized, "prod")
    passwords = addresses(document, "random_password")
    plan = plan_json(document, dict.fromkeys(passwords, ["delete", "create"]), default=["no-op"])
    verdict = decide(parse_plan(plan, "prod"), [])
    assert sorted(c.address for c in verdict.refused) == sorted(passwords)
    text = printed(parse_plan(plan, "prod"), verdict)
    for password in passwords:
        assert (
            f"{password} would be replaced; it holds a live password: replacing it changes the live "
            "database password or Redis AUTH token, and running services keep using the old one"
        ) in text
    assert "If you mean to lose them, add: --allow-replace " in text


def test_a_deposed_object_of_a_stateful_resource_is_refused_too(synthesized) -> None:
    """A replacement that failed half way leaves the old object deposed; deleting it is a loss."""
    document = stack_document(synthesized, "dev")
    cluster = one(document, "qdrant-cloud_accounts_cluster")
    plan = plan_json(document, default=["no-op"])
    deposed = dict(next(c for c in plan["resource_changes"] if c["address"] == cluster))
    deposed.update(deposed="7f3a9c1e", change={**deposed["change"], "actions": ["delete"], "after": None})
    plan["resource_changes"].append(deposed)
    verdict = decide(parse_plan(plan, "dev"), [])
    assert [c.label for c in verdict.refused] == [f"{cluster} (deposed object 7f3a9c1e)"]
    assert decide(parse_plan(plan, "dev"), [cluster]).exit_code == 0


@pytest.mark.parametrize("env", CLOUD)
def test_a_plan_with_nothing_to_do_says_no_changes(synthesized, env) -> None:
    for plan in (plan_json(stack_document(synthesized, env), default=["no-op"]), {"format_version": "1.2"}):
        summary = parse_plan(plan, env)
        verdict = decide(summary, [])
        assert summary.no_changes and verdict.exit_code == 0
        assert printed(summary, verdict).strip() == f"{env}: no changes"


# ----------------------------------------------------------------------------- --allow-replace


def test_an_allowance_the_plan_does_not_use_is_a_usage_error(synthesized) -> None:
    document = stack_document(synthesized, "dev")
    group, service = (
        one(document, "aws_elasticache_replication_group"),
        addresses(document, "aws_ecs_service")[0],
    )
    summary = parse_plan(plan_json(document, {service: ["update"]}, default=["no-op"]), "dev")
    for stale in (group, service, "aws_elasticache_replication_group.typo"):  # kept, changed, unknown
        verdict = decide(summary, [stale])
        assert verdict.exit_code == 2
        assert f"--allow-replace {stale}: no plan of this run replaces or destroys it; remove the flag" in (
            "\n".join(verdict_lines(verdict, "dev"))
        )


def test_a_stale_allowance_next_to_a_refusal_is_still_a_usage_error(synthesized) -> None:
    document = stack_document(synthesized, "dev")
    group = one(document, "aws_elasticache_replication_group")
    summary = parse_plan(plan_json(document, {group: ["delete", "create"]}, default=["no-op"]), "dev")
    verdict = decide(summary, [group + "_typo"])
    assert verdict.exit_code == 2
    assert [c.address for c in verdict.refused] == [group]  # and the refusal is still said


def test_allowances_span_the_stacks_of_one_deploy(synthesized) -> None:
    """The images stack is planned first: an allowance for the environment is not stale there, and
    one the images plan used is not stale in the environment's plan."""
    images_doc, env_doc = stack_document(synthesized, "dev-images"), stack_document(synthesized, "dev")
    repository, group = (
        addresses(images_doc, "aws_ecr_repository")[0],
        one(env_doc, "aws_elasticache_replication_group"),
    )
    images = parse_plan(
        plan_json(images_doc, {repository: ["delete", "create"]}, default=["no-op"]), "dev-images"
    )
    env = parse_plan(plan_json(env_doc, {group: ["delete", "create"]}, default=["no-op"]), "dev")
    first = decide(images, [repository, group], last=False)
    assert first.exit_code == 0 and first.matched == {repository}
    last = decide(env, [repository, group], matched_earlier=first.matched)
    assert last.exit_code == 0 and last.matched == {group}
    assert decide(env, [repository, group]).exit_code == 2  # without the images plan, it is stale


# ----------------------------------------------------------------------------- reading the JSON


def test_no_value_from_the_plan_is_printed(synthesized) -> None:
    document = stack_document(synthesized, "prod")
    doomed = addresses(document, "random_password") + addresses(document, "supabase_project")
    for actions in (["delete", "create"], ["update"], ["delete"]):
        summary = parse_plan(plan_json(document, dict.fromkeys(doomed, actions)), "prod")
        text = printed(summary, decide(summary, []))
        assert SECRET not in text
        assert all(address in text for address in doomed)


@pytest.mark.parametrize(
    ("plan", "says"),
    [
        ({"format_version": "2.0"}, "format_version '2.0'; infrakit reads format 1.x"),
        ({}, "format_version None"),
        (
            {
                "format_version": "1.2",
                "resource_changes": [
                    {
                        "address": "aws_s3_bucket.b",
                        "mode": "managed",
                        "type": "aws_s3_bucket",
                        "name": "b",
                        "change": {"actions": ["delete", "archive"]},
                    }  # fmt: skip
                ],
            },
            "aws_s3_bucket.b: Terraform plans the actions ['delete', 'archive'], which infrakit does not",
        ),
        (
            {
                "format_version": "1.2",
                "resource_changes": [{"address": "aws_s3_bucket.b", "mode": "managed"}],
            },
            "cannot read (aws_s3_bucket.b); not judging a plan it cannot read",
        ),
    ],
)
def test_a_plan_infrakit_cannot_read_is_not_judged(plan, says) -> None:
    with pytest.raises(PlanFormatError) as raised:
        parse_plan(plan, "dev")
    assert says in str(raised.value)


def test_the_gate_marks_every_type_the_stacks_protect() -> None:
    """infrakit/constructs/protection.py guards with prevent_destroy; the plan gate must mark each
    of its types as well, so that dev, which carries no prevent_destroy, is still guarded."""
    assert set(protection.PROTECTED_TYPES) <= set(STATEFUL_TYPES)


# ----------------------------------------------------------------------------- immovable updates


def moving_the_supabase_project(synthesized: Path, attribute: str) -> tuple[str, dict[str, Any]]:
    """dev's plan, where the Supabase project is updated in place with a new `attribute`: what
    provider 1.10.1 plans for such an edit, since its schema forces no replacement."""
    document = stack_document(synthesized, "dev")
    project = one(document, "supabase_project")
    plan = plan_json(document, {project: ["update"]}, default=["no-op"])
    (change,) = [c for c in plan["resource_changes"] if c["address"] == project]
    change["change"]["after"] = {**change["change"]["before"], attribute: "moved-elsewhere"}
    return project, plan


@pytest.mark.parametrize("attribute", ["region", "organization_id"])
def test_moving_the_supabase_project_in_place_is_refused_with_what_to_do(synthesized, attribute) -> None:
    """Cannot prove what a real provider plans for the edit: the plan is built as the provider's
    schema (no RequiresReplace on region or organization_id) makes Terraform plan it."""
    project, plan = moving_the_supabase_project(synthesized, attribute)
    summary = parse_plan(plan, "dev")
    verdict = decide(summary, [])
    assert verdict.exit_code == 1
    assert decide(summary, [project]).exit_code != 0  # --allow-replace cannot lift it
    out = " ".join(printed(summary, verdict).split())  # one long line, wrapped by the console
    assert f"REFUSED: cannot update {attribute}" in out
    assert f"refusing: {project} would update {attribute} in place" in out
    assert '"Update is not supported"' in out
    assert "create a new environment (a new Supabase project)" in out
    assert "migrate the data to it" in out
    assert "dev was not applied." in out
    assert "moved-elsewhere" not in out and SECRET not in out


def test_an_in_place_update_of_the_supabase_project_that_keeps_its_place_goes_ahead(synthesized) -> None:
    """A change of instance size or any other updatable argument: cannot prove which arguments a real
    provider can update beyond the two it refuses."""
    document = stack_document(synthesized, "dev")
    project = one(document, "supabase_project")
    summary = parse_plan(plan_json(document, {project: ["update"]}, default=["no-op"]), "dev")
    assert decide(summary, []).exit_code == 0
