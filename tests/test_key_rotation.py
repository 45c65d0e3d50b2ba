"""Rotating an API key never revokes the key the running tasks hold, rehearsed by Terraform itself.

No provider can be installed here, so the rehearsal keeps the part of the synthesized prod stack
that a key change travels through (the key generations, the Supabase and Qdrant Cloud keys, the
Secrets Manager secrets and versions, the task definitions and the ECS services) and makes each of
its resources a `terraform_data`, Terraform's built-in resource:

- every reference to one of those resources, whatever its attribute, becomes that
  `terraform_data`'s `id`, which is new on each create: a replaced key has a new value, as a new
  Qdrant or Supabase key does;
- the arguments of a resource whose changed arguments force a replacement go into
  `triggers_replace`: a Qdrant Cloud key (every argument; reference.md "Replacement and
  deletion"), a secret version (`secret_string`, hashicorp/aws secret_version.go) and a task
  definition (a new revision). The others' go into `input`, updated in place;
- lifecycle (`create_before_destroy`, `replace_triggered_by`) and `depends_on` are kept verbatim,
  renamed, so Terraform parses exactly the references the stack holds.

Terraform 1.11 then plans and applies the change, and its JSON event stream shows the order.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.apply_graph import template_expressions
from tests.conftest import ROOT
from tests.servers import tool

KEY_TYPES = ("supabase_apikey", "qdrant-cloud_accounts_database_api_key_v2")
REHEARSED = (
    "terraform_data",
    *KEY_TYPES,
    "aws_secretsmanager_secret",
    "aws_secretsmanager_secret_version",
    "aws_ecs_task_definition",
    "aws_ecs_service",
)
FORCE_NEW = (
    "qdrant-cloud_accounts_database_api_key_v2",
    "aws_secretsmanager_secret_version",
    "aws_ecs_task_definition",
)
EXTRA_COLLECTION = """
[[vector_store.collections]]
name = "summaries"
vector_size = 768
"""


def rehearsal(stack: dict[str, Any]) -> dict[str, Any]:
    """The key-change subgraph of a synthesized stack as terraform_data resources (module docstring)."""
    nodes = {
        f"{kind}.{name}": body
        for kind in REHEARSED
        for name, body in stack.get("resource", {}).get(kind, {}).items()
    }
    names = {address: address.replace(".", "__") for address in nodes}
    address_pattern = "|".join(re.escape(a) for a in sorted(nodes, key=len, reverse=True))
    # An address with the attribute path after it (`.key`, `.version_id`, `.arn`, ...).
    reference = re.compile(rf"(?<![\w.\-\]])({address_pattern})(?:\.[\w-]+|\[[^\]]*\])*")
    bare = re.compile(rf"^({address_pattern})$")

    def ids(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ids(v) for k, v in value.items() if k != "//"}
        if isinstance(value, list):
            return [ids(v) for v in value]
        if not isinstance(value, str) or "${" not in value:
            return value
        expressions = template_expressions(value)
        literal = _outside_templates(value)
        found = [names[m[1]] for expression in expressions for m in reference.finditer(expression)]
        return " ".join([literal, *(f"${{terraform_data.{n}.id}}" for n in found)])

    def whole(address: str) -> str:
        match = bare.match(address)
        assert match, f"{address}: depends_on and replace_triggered_by hold plain addresses"
        return f"terraform_data.{names[address]}"

    resources: dict[str, Any] = {}
    for address, body in nodes.items():
        kind = address.split(".")[0]
        arguments = {k: v for k, v in body.items() if k not in ("//", "lifecycle", "depends_on", "provider")}
        if kind == "terraform_data":
            converted: dict[str, Any] = {"input": arguments["input"]}
        elif kind in FORCE_NEW:
            converted = {"triggers_replace": ids(arguments)}
        else:
            converted = {"input": ids(arguments)}
        lifecycle = body.get("lifecycle", {})
        kept = {}
        if "create_before_destroy" in lifecycle:
            kept["create_before_destroy"] = lifecycle["create_before_destroy"]
        if "replace_triggered_by" in lifecycle:
            kept["replace_triggered_by"] = [whole(a) for a in lifecycle["replace_triggered_by"]]
        if kept:
            converted["lifecycle"] = kept
        inside = [a for a in body.get("depends_on", []) if a in nodes]
        if inside:
            converted["depends_on"] = [whole(a) for a in inside]
        resources[names[address]] = converted
    return {"resource": {"terraform_data": resources}}


def _outside_templates(text: str) -> str:
    """The literal text of a JSON-syntax template: every `${...}` cut out, nested braces and quoted
    strings inside it included."""
    kept, i = [], 0
    while i < len(text):
        if text.startswith("${", i):
            depth, i, quoted = 1, i + 2, False
            while i < len(text) and depth:
                char = text[i]
                if quoted:
                    if char == "\\":
                        i += 1
                    elif char == '"':
                        quoted = False
                elif char == '"':
                    quoted = True
                elif char == "{":
                    depth += 1
                elif char == "}":
                    depth -= 1
                i += 1
        else:
            kept.append(text[i])
            i += 1
    return "".join(kept)


def terraform(workdir: Path, *args: str) -> str:
    result = subprocess.run(
        [tool("terraform"), *args, "-no-color"],
        cwd=workdir,
        env={**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def synthesize_prod(tmp_path: Path, extra: str = "") -> dict[str, Any]:
    """prod.toml with `extra` appended, synthesized in this process (jsii's Node, once started,
    serves every variant)."""
    from infrakit.config import load_environments
    from infrakit.synth import synthesize

    environments = tmp_path / "environments"
    environments.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "environments" / "prod.toml", environments / "prod.toml")
    with (environments / "prod.toml").open("a") as file:
        file.write(extra)
    out = tmp_path / "out"
    synthesize(load_environments(environments, ["prod"]), out)
    return json.loads((out / "stacks" / "prod" / "cdk.tf.json").read_text())


def by_type(stack: dict[str, Any], kind: str) -> dict[str, str]:
    """terraform_data name in the rehearsal -> synthesized name, for one resource type."""
    return {f"{kind}__{name}": name for name in stack["resource"].get(kind, {})}


def events(stream: str) -> list[tuple[str, str, str]]:
    """(type, resource address, action) of each apply event in Terraform's JSON output."""
    found = []
    for line in stream.splitlines():
        message = json.loads(line)
        hook = message.get("hook", {})
        if message.get("type") in ("apply_start", "apply_complete") and "resource" in hook:
            found.append((message["type"], hook["resource"]["addr"], hook["action"]))
    return found


@pytest.fixture(scope="module")
def applied(synthesized: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """prod as shipped, applied once as a rehearsal; returns the stack and the working directory
    (configuration, state), which each scenario copies."""
    before = json.loads((synthesized / "stacks" / "prod" / "cdk.tf.json").read_text())
    workdir = tmp_path_factory.mktemp("applied")
    (workdir / "main.tf.json").write_text(json.dumps(rehearsal(before)))
    terraform(workdir, "init", "-input=false", "-backend=false")
    terraform(workdir, "apply", "-input=false", "-auto-approve")
    return before, workdir


def plan_change(applied: tuple[dict[str, Any], Path], after: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Plan `after` over a copy of the applied rehearsal, in workdir; returns Terraform's plan JSON."""
    shutil.copytree(applied[1], workdir)
    (workdir / "main.tf.json").write_text(json.dumps(rehearsal(after)))
    terraform(workdir, "plan", "-input=false", "-out=plan.tfplan")
    return json.loads(terraform(workdir, "show", "-json", "plan.tfplan"))


@pytest.fixture(scope="module")
def rotation(applied, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """prod with one more collection, planned and applied over the applied rehearsal."""
    base = tmp_path_factory.mktemp("rotation")
    after = synthesize_prod(base / "after", EXTRA_COLLECTION)
    workdir = base / "terraform"
    plan = plan_change(applied, after, workdir)
    applied_events = events(terraform(workdir, "apply", "-input=false", "-json", "plan.tfplan"))
    return {"stack": after, "plan": plan, "events": applied_events}


def actions(plan: dict[str, Any]) -> dict[str, list[str]]:
    return {
        change["address"].removeprefix("terraform_data."): change["change"]["actions"]
        for change in plan["resource_changes"]
        if change["change"]["actions"] != ["no-op"]
    }


def test_a_new_collection_creates_the_new_service_keys_before_revoking_the_old(rotation):
    """Adding a [[vector_store.collections]] entry to prod.toml replaces the api and worker Qdrant
    keys (their collection rules force it), and Terraform creates each new key before it deletes
    the old one. The operator key (global rule) and the Supabase keys do not change.
    Cannot prove: that Qdrant Cloud accepts two keys of one name at once (the provider's docs do
    not say it refuses); that needs a real account."""
    planned = actions(rotation["plan"])
    qdrant = by_type(rotation["stack"], "qdrant-cloud_accounts_database_api_key_v2")
    replaced = {name for name in qdrant if name in planned}
    assert {qdrant[n].split("_")[1] for n in replaced} == {"api-key", "worker-key"}
    for name in replaced:
        assert planned[name] == ["create", "delete"], (name, planned[name])
    assert not set(by_type(rotation["stack"], "supabase_apikey")) & planned.keys()


def test_a_new_key_gives_each_service_a_new_task_definition_revision(rotation):
    """The new key's value goes into a new secret version, and the task definition, pinned to that
    version, gets a new revision, which the ECS service rolls out with its usual safety. A task
    definition that named the secret by ARN alone would stay as it was, and the running tasks
    would keep the revoked key.
    Cannot prove: ECS's rollout itself (circuit breaker, alarms), which only AWS runs."""
    planned = actions(rotation["plan"])
    tasks = by_type(rotation["stack"], "aws_ecs_task_definition")
    services = by_type(rotation["stack"], "aws_ecs_service")
    assert tasks and services
    for name in tasks:
        assert planned.get(name) == ["delete", "create"], (name, planned.get(name))
    for name in services:
        assert planned.get(name) == ["update"], (name, planned.get(name))


def test_the_old_key_is_revoked_only_after_its_service_is_updated(rotation):
    """In the apply, each new key is created before the old is deleted, and each service's update
    completes before the delete of the old key it read starts (Terraform orders a deposed object's
    delete after the updates of what depends on it; a service that does not read the key is not
    waited for). On AWS the update returns only when the rollout reaches a steady state
    (`wait_for_steady_state`, checked below), so no running task still holds the revoked key.
    Cannot prove: how long ECS takes; nor a rollout that ECS rolls back, after which the apply
    fails and the old key stays until the next apply (docs/cloud.md)."""
    applied = rotation["events"]

    def index(kind: str, resource_type: str, prefix: str, action: str) -> int:
        (found,) = [
            i
            for i, (k, address, a) in enumerate(applied)
            if k == kind and a == action and address.startswith(f"terraform_data.{resource_type}__{prefix}")
        ]
        return found

    for service in ("api", "worker"):
        created = index(
            "apply_complete",
            "qdrant-cloud_accounts_database_api_key_v2",
            f"vector-store_{service}-key",
            "create",
        )
        updated = index("apply_complete", "aws_ecs_service", f"{service}_service", "update")
        revoked = index(
            "apply_start",
            "qdrant-cloud_accounts_database_api_key_v2",
            f"vector-store_{service}-key",
            "delete",
        )
        assert created < updated < revoked, (service, created, updated, revoked)
    for body in rotation["stack"]["resource"]["aws_ecs_service"].values():
        assert body["wait_for_steady_state"] is True


@pytest.mark.parametrize("holder", ["api", "worker", "operator"])
def test_raising_a_generation_rotates_exactly_that_holder_s_keys(holder, applied, tmp_path):
    """`[key_rotation] <holder> = 2` replaces that holder's Supabase and Qdrant keys (new first),
    and nothing else's; a service's task definition gets a new revision, the operator's does not
    touch the tasks.
    Cannot prove: how soon Supabase accepts a new secret key after it is created (only a real
    project can show it)."""
    after = synthesize_prod(tmp_path, f"\n[key_rotation]\n{holder} = 2\n")
    planned = actions(plan_change(applied, after, tmp_path / "terraform"))
    keys = {
        **by_type(after, "supabase_apikey"),
        **by_type(after, "qdrant-cloud_accounts_database_api_key_v2"),
    }
    rotated = {name for name in keys if name in planned}
    assert {keys[n].split("_")[1] for n in rotated} == {f"{holder}-key"}
    assert len(rotated) == 2  # one Supabase key and one Qdrant key
    assert all(planned[n] == ["create", "delete"] for n in rotated)
    tasks = {n for n in by_type(after, "aws_ecs_task_definition") if n in planned}
    expected = {
        n for n in by_type(after, "aws_ecs_task_definition") if n.split("__")[1].startswith(f"{holder}_")
    }
    assert tasks == expected


@pytest.mark.parametrize(
    ("reference", "valid"),
    [("terraform_data.generation", True), ("${terraform_data.generation}", False)],
    ids=["plain address", "interpolation"],
)
def test_terraform_takes_only_plain_addresses_in_depends_on_and_replace_triggered_by(
    reference: str, valid: bool, tmp_path: Path
) -> None:
    """Why infrakit/constructs/key_rotation.py `address()` exists: Terraform 1.11 refuses, in JSON
    syntax, the `${...}` form that cdktn writes for a construct or its fqn in these two places.
    Cannot prove: other Terraform or OpenTofu versions."""
    config = {
        "resource": {
            "terraform_data": {
                "generation": {"input": 1},
                "key": {"input": "k", "lifecycle": {"replace_triggered_by": [reference]}},
                "reader": {"input": "r", "depends_on": [reference.replace("generation", "key")]},
            }
        }
    }
    (tmp_path / "main.tf.json").write_text(json.dumps(config))
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    result = subprocess.run(
        [tool("terraform"), "validate", "-no-color"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode == 0) is valid, result.stdout + result.stderr
    if not valid:
        assert "A single static variable reference is required" in result.stderr + result.stdout
