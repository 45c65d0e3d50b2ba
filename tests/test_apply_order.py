"""Apply order: what AWS needs to exist first is ordered on Terraform's graph.

Terraform creates in parallel whatever no reference or depends_on orders, and AWS is eventually
consistent: a stack that reads well as JSON can still fail its first apply. These tests read
every synthesized stack as Terraform's dependency graph (tests/apply_graph.py) and hold the
orderings in tests/apply_order_rules.py, each a rule by resource type, so resources added later
are covered too.

What they cannot prove: that AWS is then satisfied. An ordering is necessary, not sufficient;
propagation delays after a resource reports "created" (IAM above all) are only narrowed, never
closed, by ordering. Only a first apply in a real account shows the services coming up serving.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.apply_graph import ApplyGraph, CycleError, template_expressions
from tests.apply_order_rules import RULES, Rule, violations

CLOUD_STACKS = ("dev", "staging", "prod", "dev-images", "staging-images", "prod-images")


@pytest.fixture(scope="module")
def stacks(synthesized: Path) -> dict[str, dict[str, Any]]:
    found = {p.parent.name: json.loads(p.read_text()) for p in (synthesized / "stacks").glob("*/cdk.tf.json")}
    assert set(CLOUD_STACKS) <= set(found), sorted(found)
    return found


@pytest.fixture(scope="module")
def graphs(stacks: dict[str, dict[str, Any]]) -> dict[str, ApplyGraph]:
    return {name: ApplyGraph.of(document) for name, document in stacks.items()}


# ---------------------------------------------------------------------------------- the rules


@pytest.mark.parametrize("rule_name", sorted(RULES))
def test_every_stack_keeps_the_rule(rule_name: str, graphs: dict[str, ApplyGraph]) -> None:
    """Each ordering rule holds in every synthesized stack (rule docstrings: why AWS needs it).

    Cannot prove: that the ordering is enough for AWS (see the module docstring)."""
    rule = RULES[rule_name]
    broken = {name: violations(rule, graph) for name, graph in sorted(graphs.items())}
    broken = {name: pairs for name, pairs in broken.items() if pairs}
    assert not broken, (
        f"{rule_name}: {rule.__doc__}\nnot ordered (node, must come after), by stack:\n"
        + "\n".join(f"  {name}: {pair}" for name, pairs in broken.items() for pair in pairs)
    )


@pytest.mark.parametrize("rule_name", sorted(RULES))
def test_every_rule_applies_to_a_shipped_stack(rule_name: str, graphs: dict[str, ApplyGraph]) -> None:
    """No rule passes because it found nothing to check: each orders at least one pair in the
    shipped cloud stacks. Cannot prove: that it finds every resource it should (the planted
    graphs below show it finds the ones that matter today)."""
    pairs = [pair for name in CLOUD_STACKS for pair in RULES[rule_name](graphs[name])]
    assert pairs, f"{rule_name} checks nothing in {CLOUD_STACKS}"


def _service(document: dict[str, Any], name: str) -> dict[str, Any]:
    services = document["resource"]["aws_ecs_service"]
    return next(body for body in services.values() if body["name"] == name)


def _drop_depends_on(document: dict[str, Any], body: dict[str, Any], prefix: str) -> None:
    body["depends_on"] = [d for d in body.get("depends_on", []) if not d.startswith(prefix)]


def _plant_unordered_secrets(document: dict[str, Any]) -> None:
    """The worker names its secrets by ARN alone (no pinned version) and lacks the depends_on."""
    _drop_depends_on(document, _service(document, "worker"), "aws_secretsmanager_secret_version.")
    for task in document["resource"]["aws_ecs_task_definition"].values():
        if task["family"].endswith("-worker"):
            task["container_definitions"] = re.sub(
                r":::\$\{aws_secretsmanager_secret_version\.[\w-]+\.version_id\}",
                "",
                task["container_definitions"],
            )


def _plant_unordered_role_policy(document: dict[str, Any]) -> None:
    _drop_depends_on(document, _service(document, "api"), "aws_iam_role_policy.")


def _plant_unordered_listener(document: dict[str, Any]) -> None:
    _drop_depends_on(document, _service(document, "api"), "aws_lb_listener.")


def _plant_unordered_log_bucket(document: dict[str, Any]) -> None:
    for balancer in document["resource"]["aws_lb"].values():
        _drop_depends_on(document, balancer, "aws_s3_bucket_policy.")


def _plant_literal_project_ref(document: dict[str, Any]) -> None:
    for keys in document["data"]["supabase_apikeys"].values():
        keys["project_ref"] = "abcdefghijklmnopqrst"


PLANTED = {
    "service after secret versions": (_plant_unordered_secrets, "aws_secretsmanager_secret_version."),
    "service after execution role policies": (_plant_unordered_role_policy, "aws_iam_role_policy."),
    "service after forwarding listeners": (_plant_unordered_listener, "aws_lb_listener."),
    "load balancer after log bucket policy": (_plant_unordered_log_bucket, "aws_s3_bucket_policy."),
    "credentials after issuers": (_plant_literal_project_ref, "<the supabase_project"),
}


@pytest.mark.parametrize("rule_name", sorted(RULES))
def test_every_rule_fails_on_a_planted_graph(rule_name: str, stacks: dict[str, dict[str, Any]]) -> None:
    """Each rule catches its own missing ordering: dev's JSON with that one ordering removed
    breaks the rule, and nothing else about the stack changed. Cannot prove: that the rule
    catches every other way the ordering could go missing."""
    plant, missing = PLANTED[rule_name]
    rule: Rule = RULES[rule_name]
    document = copy.deepcopy(stacks["dev"])
    assert not violations(rule, ApplyGraph.of(document)), "the unplanted dev stack keeps the rule"
    plant(document)
    found = violations(rule, ApplyGraph.of(document))
    assert found, f"{rule_name} did not notice the planted gap"
    assert all(before.startswith(missing) for _, before in found), found


def test_no_stack_has_a_cycle(graphs: dict[str, ApplyGraph]) -> None:
    """Terraform refuses a configuration whose references and depends_on form a cycle, and the
    CDK does not check: every depends_on added for apply order must keep the graph acyclic.
    Cannot prove: anything about provider-side ordering."""
    for name, graph in graphs.items():
        try:
            graph.predecessors(next(iter(graph.edges)))
        except CycleError as cycle:
            pytest.fail(f"{name}: a cycle: {' -> '.join(cycle.args[0])}")


# ---------------------------------------------------------------------------------- the graph builder


def test_template_expressions_follow_hcl_templates() -> None:
    """Interpolations, nested templates in string literals and escapes read as HCL reads them.
    Cannot prove: heredocs inside interpolations, which no stack writes."""
    text = 'a-${replace(x.y, "${b.c}", "}")}-$${not.this}-%{ if d.e }z%{ endif }'
    assert template_expressions(text) == ["b.c", 'replace(x.y, "", "")', " if d.e ", " endif "]


SHAPES: dict[str, Any] = {
    "locals": {
        "chained": "${local.plain}-x",
        "plain": "https://${aws_lb.a.dns_name}",
        "literal": "aws_lb.a is not a reference here",
    },
    "variable": {"token": {"type": "string", "sensitive": True}},
    "data": {
        "aws_iam_policy_document": {"doc": {"statement": [{"resources": ["${aws_s3_bucket.b.arn}/*"]}]}}
    },
    "resource": {
        "aws_s3_bucket": {"b": {"bucket": "logs"}},
        "aws_s3_bucket_policy": {
            "p": {"bucket": "${aws_s3_bucket.b.id}", "policy": "${data.aws_iam_policy_document.doc.json}"}
        },
        "aws_lb": {
            "a": {
                "depends_on": ["aws_s3_bucket_policy.p"],
                "access_logs": {"bucket": "logs", "enabled": True},
            }
        },
        "aws_ecs_service": {
            "s": {
                "name": "${local.chained}",
                "tags": {"t": "${var.token}", "q": '${"aws_s3_bucket.b"}'},
                "lifecycle": {"ignore_changes": ["aws_lb.a"]},
            }
        },
        "aws_route53_record": {
            "r": {
                "lifecycle": {
                    "postcondition": [
                        {"condition": "${self.fqdn != aws_ecs_service.s.id}", "error_message": "m"}
                    ]
                }
            }
        },
    },
    "output": {"u": {"value": "${local.literal}${aws_route53_record.r.fqdn}"}},
}


def test_builder_reads_each_reference_shape() -> None:
    """Resources, data sources, locals (through chains), variables, depends_on and conditions
    are edges; string literals, `self` and ignore_changes are not. Cannot prove: that Terraform
    agrees (the next test asks it)."""
    graph = ApplyGraph.of(SHAPES)
    assert graph.edges["aws_ecs_service.s"] == {"local.chained", "var.token"}
    assert graph.predecessors("aws_ecs_service.s") == {
        "local.chained", "local.plain", "var.token", "aws_lb.a", "aws_s3_bucket_policy.p",
        "aws_s3_bucket.b", "data.aws_iam_policy_document.doc",
    }  # fmt: skip
    assert graph.edges["aws_route53_record.r"] == {"aws_ecs_service.s"}
    assert graph.edges["local.literal"] == set()
    assert graph.resolved_references(SHAPES["resource"]["aws_ecs_service"]["s"]) == {"aws_lb.a", "var.token"}


# ---------------------------------------------------------------------------------- against Terraform


def as_terraform_data(graph: ApplyGraph) -> dict[str, Any]:
    """The stack with every resource and data source made a `terraform_data` resource that keeps
    its arguments, depends_on and conditions, and every reference renamed to match. Terraform's
    built-in provider needs no download, so `terraform graph` runs on it here."""
    nodes = [a for a in graph.bodies if a.split(".")[0] not in ("local", "var", "output", "module")]
    names = {address: address.replace(".", "__") for address in nodes}
    pattern = re.compile(
        r"(?<![\w.\-\]])("
        + "|".join(re.escape(a) for a in sorted(nodes, key=len, reverse=True))
        + r")(?![\w\-])"
    )

    def renamed(value: Any, suffix: str = ".output") -> Any:
        if isinstance(value, str):
            return pattern.sub(lambda m: f"terraform_data.{names[m[1]]}{suffix}", value)
        if isinstance(value, list):
            return [renamed(v, suffix) for v in value]
        if isinstance(value, dict):
            return {k: renamed(v, suffix) for k, v in value.items() if k != "//"}
        return value

    resources: dict[str, Any] = {}
    for address in nodes:
        body = graph.bodies[address]
        converted: dict[str, Any] = {
            "input": renamed(
                {k: v for k, v in body.items() if k not in ("depends_on", "lifecycle", "provider")}
            )
        }
        if body.get("depends_on"):
            converted["depends_on"] = renamed(body["depends_on"], suffix="")
        conditions = {
            k: v for k, v in body.get("lifecycle", {}).items() if k in ("precondition", "postcondition")
        }
        if conditions:
            converted["lifecycle"] = renamed(conditions)
        resources[names[address]] = converted
    blocks = {kind: renamed(graph.document.get(kind, {})) for kind in ("locals", "variable", "output")}
    return {
        **{kind: block for kind, block in blocks.items() if block},
        "resource": {"terraform_data": resources},
    }


def terraform_closure(config: dict[str, Any], workdir: Path) -> dict[str, frozenset[str]]:
    """`terraform graph` on a config of terraform_data resources: each resource's transitive
    predecessors, by terraform_data name."""
    (workdir / "main.tf.json").write_text(json.dumps(config))
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    for args in (["init", "-input=false", "-backend=false"], ["graph"]):
        result = subprocess.run(
            ["terraform", *args, "-no-color"],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
    edges: dict[str, set[str]] = {}
    for node in re.findall(r'^\s*"terraform_data\.([^"]+)" \[label', result.stdout, re.M):
        edges.setdefault(node, set())
    for after, before in re.findall(r'"terraform_data\.([^"]+)" -> "terraform_data\.([^"]+)"', result.stdout):
        edges.setdefault(after, set()).add(before)
    closure: dict[str, frozenset[str]] = {}

    def visit(node: str) -> frozenset[str]:
        if node not in closure:
            closure[node] = frozenset(edges[node]).union(*(visit(p) for p in edges[node]))
        return closure[node]

    return {node: visit(node) for node in edges}


def _resource_closure(graph: ApplyGraph) -> dict[str, frozenset[str]]:
    def is_resource(address: str) -> bool:
        return address.split(".")[0] not in ("local", "var", "output", "module")

    return {
        a.replace(".", "__"): frozenset(p.replace(".", "__") for p in graph.predecessors(a) if is_resource(p))
        for a in graph.bodies
        if is_resource(a)
    }


def test_terraform_draws_the_same_graph_of_the_reference_shapes(tmp_path: Path) -> None:
    """The builder's ordering of SHAPES is Terraform's own (`terraform graph`, 1.11 here).
    Cannot prove: provider-side behaviour; terraform_data stands in for every resource type."""
    graph = ApplyGraph.of(SHAPES)
    assert terraform_closure(as_terraform_data(graph), tmp_path) == _resource_closure(graph)


@pytest.mark.parametrize("stack", ["local", *CLOUD_STACKS])
def test_terraform_draws_the_same_graph_of_the_stack(
    stack: str, graphs: dict[str, ApplyGraph], tmp_path: Path
) -> None:
    """For a whole synthesized stack, with every resource and data source a terraform_data,
    Terraform orders exactly the pairs the builder orders: same references, locals, depends_on
    and conditions, read by Terraform's own parser. Cannot prove: a reference that both the
    builder and the renaming miss (they share the address pattern), nor orderings providers
    impose on their own (Terraform's core knows of none)."""
    graph = graphs[stack]
    assert terraform_closure(as_terraform_data(graph), tmp_path) == _resource_closure(graph)
