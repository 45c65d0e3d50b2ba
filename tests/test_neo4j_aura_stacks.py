"""[graph] backend = "aura" in the shipped cloud stacks: how api and worker receive Neo4j, what
protects the instance, and what the plan gate makes of it.

What none of this can prove without the provider and AWS: that Aura accepts the instance, that
ECS injects the secret (its documented behaviour), or that Terraform refuses a plan that would
destroy a resource with prevent_destroy (its documented behaviour).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infrakit.deploy.plan import decide, parse_plan
from infrakit.deploy.stateful import what_it_holds
from tests.apply_graph import ApplyGraph
from tests.test_plan import plan_json

CLOUD = ("dev", "staging", "prod")
INSTANCE = "neo4jaura_instance"


def stack(synthesized: Path, env: str) -> dict[str, Any]:
    return json.loads((synthesized / "stacks" / env / "cdk.tf.json").read_text())


def the_instance(document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ((name, body),) = document["resource"][INSTANCE].items()
    return f"{INSTANCE}.{name}", body


def containers(document: dict[str, Any], service: str) -> list[dict[str, Any]]:
    (task,) = [t for n, t in document["resource"]["aws_ecs_task_definition"].items() if n.startswith(service)]
    parsed: list[dict[str, Any]] = json.loads(task["container_definitions"])
    return parsed


def through_locals(document: dict[str, Any], value: str) -> str:
    """The expression a value stands for, where it is only a local: `${local.x}` -> locals.x."""
    while value.startswith("${local.") and value.endswith("}") and value.count("${") == 1:
        value = document["locals"][value.removeprefix("${local.").removesuffix("}")]
    return value


# ----------------------------------------------------------------------------- the password


@pytest.mark.parametrize("env", CLOUD)
@pytest.mark.parametrize("service", ["api", "worker"])
def test_the_password_reaches_the_service_only_as_a_pinned_secret(synthesized, env, service):
    """NEO4J_PASSWORD is a Secrets Manager secret holding the instance's password, named by its
    version; no plain environment value carries it, while the URI and username are plain."""
    document = stack(synthesized, env)
    address, _ = the_instance(document)
    graph = ApplyGraph.of(document)
    (container,) = containers(document, service)
    environment = {e["name"]: through_locals(document, e["value"]) for e in container["environment"]}
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}

    assert "NEO4J_PASSWORD" not in environment
    assert not [n for n, v in environment.items() if f"{address}.password" in v]
    assert [n for n, v in environment.items() if address in graph.resolved_references(v)] == [
        "NEO4J_URI",
        "NEO4J_USERNAME",
    ]
    assert environment["NEO4J_URI"] == f"${{{address}.connection_url}}"
    assert environment["NEO4J_USERNAME"] == f"${{{address}.username}}"

    (version,) = graph.roots_of_type(secrets["NEO4J_PASSWORD"], "aws_secretsmanager_secret_version")
    assert graph.bodies[version]["secret_string"] == f"${{{address}.password}}"
    # Pinned to the version (<arn>:::<version id>), so a new password rolls the tasks.
    assert secrets["NEO4J_PASSWORD"].endswith(f":::${{{version}.version_id}}")


@pytest.mark.parametrize("env", CLOUD)
@pytest.mark.parametrize("service", ["api", "worker"])
def test_the_service_starts_only_after_the_password_is_stored(synthesized, env, service):
    """A task that starts before the version exists fails with ResourceInitializationError; the
    task definition's reference to the secret's ARN alone does not order it."""
    document = stack(synthesized, env)
    graph = ApplyGraph.of(document)
    (service_address,) = [a for a in graph.of_type("aws_ecs_service") if a.split(".")[1].startswith(service)]
    (container,) = containers(document, service)
    (value_from,) = [s["valueFrom"] for s in container["secrets"] if s["name"] == "NEO4J_PASSWORD"]
    (secret,) = graph.roots_of_type(value_from, "aws_secretsmanager_secret")
    versions = [
        version
        for version, body in graph.of_type("aws_secretsmanager_secret_version").items()
        if secret in graph.roots_of_type(body["secret_id"], "aws_secretsmanager_secret")
    ]
    assert versions
    assert all(graph.comes_after(service_address, version) for version in versions)
    address, _ = the_instance(document)
    assert graph.comes_after(service_address, address)


@pytest.mark.parametrize("env", CLOUD)
def test_the_password_output_is_sensitive(synthesized, env):
    outputs = stack(synthesized, env)["output"]
    assert outputs["neo4j_password"]["sensitive"] is True
    assert outputs["neo4j_uri"]["sensitive"] is False


@pytest.mark.parametrize("env", CLOUD)
def test_the_tasks_may_reach_aura_on_the_bolt_port(synthesized, env):
    """neo4j+s:// is Bolt over TLS on 7687: without this rule every connection times out."""
    rules = stack(synthesized, env)["resource"]["aws_vpc_security_group_egress_rule"].values()
    bolt = [r for r in rules if r.get("from_port") == 7687]
    assert len(bolt) == 2  # api and worker
    assert all(r["to_port"] == 7687 and r["ip_protocol"] == "tcp" for r in bolt)


# ----------------------------------------------------------------------------- protection


@pytest.mark.parametrize(("env", "protected"), [("dev", False), ("staging", True), ("prod", True)])
def test_the_instance_refuses_destroy_where_the_environment_is_protected(synthesized, env, protected):
    _, body = the_instance(stack(synthesized, env))
    assert body.get("lifecycle", {}).get("prevent_destroy", False) is protected


@pytest.mark.parametrize("env", CLOUD)
def test_the_plan_gate_refuses_to_replace_the_instance_unless_named(synthesized, env):
    """The gate's decision on a plan JSON written by hand: what it cannot prove is which edit makes
    the provider plan a replacement (in 0.0.2-beta none does: no attribute forces one)."""
    document = stack(synthesized, env)
    address, _ = the_instance(document)
    assert what_it_holds(INSTANCE) == "the graph database (Neo4j)"
    plan = plan_json(document, {address: ["delete", "create"]}, default=["no-op"])
    verdict = decide(parse_plan(plan, env), [])
    assert [change.address for change in verdict.refused] == [address]
    assert decide(parse_plan(plan, env), [address]).exit_code == 0


# ----------------------------------------------------------------------------- in-place updates


def updating_the_instance(synthesized: Path, **after: str) -> tuple[str, Any]:
    """prod's plan where the instance is updated in place with `after`: what Terraform plans for any
    edit of it with 0.0.2-beta, whose schema forces no replacement."""
    document = stack(synthesized, "prod")
    address, _ = the_instance(document)
    plan = plan_json(document, {address: ["update"]}, default=["no-op"])
    (change,) = [c for c in plan["resource_changes"] if c["address"] == address]
    change["change"]["after"] = {**change["change"]["before"], **after}
    return address, parse_plan(plan, "prod")


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("region", "eu-central-1"),
        ("cloud_provider", "gcp"),
        ("type", "enterprise-db"),
        ("project_id", "7c1e9a52-3f4b-4d8e-9a61-2b5c8d0e4f17"),
        ("storage", "64GB"),
        ("version", "6"),
    ],
)
def test_an_edit_aura_would_silently_ignore_is_refused_with_what_to_do(synthesized, attribute, value):
    """The provider's Update sends only name and memory (internal/resource/instance.go at
    v0.0.2-beta): any other edit would apply as "success" and change nothing. What this cannot prove:
    what a later provider release does with the edit."""
    from tests.test_plan import printed

    address, summary = updating_the_instance(synthesized, **{attribute: value})
    verdict = decide(summary, [])
    assert verdict.exit_code == 1
    assert decide(summary, [address]).exit_code != 0  # --allow-replace cannot lift it
    out = " ".join(printed(summary, verdict).split())
    assert f"refusing: {address} would update {attribute} in place" in out
    assert "never sends to Aura" in out and "change nothing" in out
    assert "only memory changes in place" in out
    assert "prod was not applied." in out


def test_a_memory_change_goes_ahead(synthesized):
    """Memory is what the provider updates in place (PATCH name and memory)."""
    _, summary = updating_the_instance(synthesized, memory="16GB")
    assert decide(summary, []).exit_code == 0
