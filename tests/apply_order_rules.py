"""Orderings AWS needs during a Terraform apply, as rules by resource type over the apply graph.

Each rule yields (node, must come after) pairs for every resource of its type in a stack; a pair
that the graph does not order is a violation. A pair whose second element is a sentence in <…>
names something that should exist and does not: it can never be ordered, so it is a violation too.
Used by tests/test_apply_order.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from tests.apply_graph import ApplyGraph

Pair = tuple[str, str]
Rule = Callable[[ApplyGraph], Iterator[Pair]]


def violations(rule: Rule, graph: ApplyGraph) -> list[Pair]:
    return [(node, before) for node, before in rule(graph) if not graph.comes_after(node, before)]


def _type(address: str) -> str:
    return address.rsplit(".", 1)[0]


# ---------------------------------------------------------------------------------- ECS services


def _task_definitions(graph: ApplyGraph, service: dict[str, Any]) -> set[str]:
    return graph.roots_of_type(service.get("task_definition"), "aws_ecs_task_definition")


def _secrets_read(graph: ApplyGraph, task: str) -> set[str]:
    """The secrets a task definition's containers name in `valueFrom`."""
    definitions = graph.bodies[task].get("container_definitions", "")
    try:
        containers = json.loads(definitions)
        value_from = [s.get("valueFrom") for c in containers for s in c.get("secrets", [])]
    except (TypeError, ValueError):
        value_from = [definitions]  # jsonencode(…): every secret it names, a superset
    return graph.roots_of_type(value_from, "aws_secretsmanager_secret")


def _versions_of(graph: ApplyGraph, secret: str) -> list[str]:
    return sorted(
        version
        for version, body in graph.of_type("aws_secretsmanager_secret_version").items()
        if secret in graph.roots_of_type(body.get("secret_id"), "aws_secretsmanager_secret")
    )


def secret_versions_of_services(graph: ApplyGraph) -> Iterator[tuple[str, str]]:
    """(service, secret version) for every version of every secret a service's tasks read."""
    for service, body in sorted(graph.of_type("aws_ecs_service").items()):
        for task in sorted(_task_definitions(graph, body)):
            for secret in sorted(_secrets_read(graph, task)):
                versions = _versions_of(graph, secret)
                yield from ((service, v) for v in versions)
                if not versions:
                    yield service, f"<a secret version holding the value of {secret}>"


def service_after_secret_versions(graph: ApplyGraph) -> Iterator[Pair]:
    """Every aws_ecs_service comes after each aws_secretsmanager_secret_version of every secret
    its task definition's containers name in `valueFrom`.

    The task definition names the secret by ARN, which exists before any value does. Tasks start
    once the service exists; a secret with no value yet fails them with
    ResourceInitializationError, and on a first deploy the circuit breaker fails the deployment
    with nothing to roll back to. The Redis URL's version waits for ElastiCache, the slowest
    resource, so this race is the norm, not the exception.
    """
    yield from secret_versions_of_services(graph)


def service_after_execution_role_policies(graph: ApplyGraph) -> Iterator[Pair]:
    """Every aws_ecs_service comes after each aws_iam_role_policy and
    aws_iam_role_policy_attachment of its task definition's execution role.

    The task definition names the role by ARN, which exists before its policies are attached;
    IAM is eventually consistent too. Without ecr:BatchGetImage, logs:CreateLogStream and
    secretsmanager:GetSecretValue the first tasks fail to start (ResourceInitializationError,
    CannotPullContainerError), and the circuit breaker fails the first deployment.
    """
    policy_types = ("aws_iam_role_policy", "aws_iam_role_policy_attachment")
    for service, body in sorted(graph.of_type("aws_ecs_service").items()):
        for task in sorted(_task_definitions(graph, body)):
            roles = graph.roots_of_type(graph.bodies[task].get("execution_role_arn"), "aws_iam_role")
            for role in sorted(roles):
                for policy_type in policy_types:
                    for policy, policy_body in sorted(graph.of_type(policy_type).items()):
                        if role in graph.roots_of_type(policy_body.get("role"), "aws_iam_role"):
                            yield service, policy


def service_after_forwarding_listeners(graph: ApplyGraph) -> Iterator[Pair]:
    """Every aws_ecs_service with a `load_balancer` comes after each aws_lb_listener and
    aws_lb_listener_rule that forwards to its target group, and at least one exists.

    CreateService with a target group that no listener uses fails with "The target group ...
    does not have an associated load balancer". The AWS provider retries that for about 4 minutes
    (hashicorp/aws internal/service/ecs/service.go, retryServiceCreate); the HTTPS listener waits
    for ACM to validate the certificate through DNS, which can take longer.
    """
    for service, body in sorted(graph.of_type("aws_ecs_service").items()):
        blocks = body.get("load_balancer") or []
        for block in blocks if isinstance(blocks, list) else [blocks]:
            for group in sorted(graph.roots_of_type(block.get("target_group_arn"), "aws_lb_target_group")):
                listeners = sorted(
                    address
                    for kind, actions in (
                        ("aws_lb_listener", "default_action"),
                        ("aws_lb_listener_rule", "action"),
                    )
                    for address, listener in graph.of_type(kind).items()
                    if group in graph.roots_of_type(listener.get(actions), "aws_lb_target_group")
                )
                yield from ((service, listener) for listener in listeners)
                if not listeners:
                    yield service, f"<an aws_lb_listener forwarding to {group}>"


# ---------------------------------------------------------------------------------- load balancers


def load_balancer_after_log_bucket_policy(graph: ApplyGraph) -> Iterator[Pair]:
    """Every aws_lb with `access_logs.enabled` comes after the aws_s3_bucket_policy of its log
    bucket (where the stack manages that bucket).

    ELB checks that it may write to the bucket when logging is enabled, and fails with "Access
    Denied for bucket" until the policy is in place (aws/copilot-cli#4169 fixed the same order).
    A bucket the stack does not manage (a literal name) is outside this rule.
    """
    named = {body.get("bucket"): address for address, body in graph.of_type("aws_s3_bucket").items()}
    for balancer, body in sorted(graph.of_type("aws_lb").items()):
        logs = body.get("access_logs") or {}
        logs = logs[0] if isinstance(logs, list) and logs else logs
        if not logs or str(logs.get("enabled")).lower() != "true":
            continue
        buckets = graph.roots_of_type(logs.get("bucket"), "aws_s3_bucket")
        if logs.get("bucket") in named:
            buckets.add(named[logs["bucket"]])
        for bucket in sorted(buckets):
            policies = sorted(
                policy
                for policy, policy_body in graph.of_type("aws_s3_bucket_policy").items()
                if bucket in graph.roots_of_type(policy_body.get("bucket"), "aws_s3_bucket")
            )
            yield from ((balancer, policy) for policy in policies)
            if not policies:
                yield balancer, f"<an aws_s3_bucket_policy on {bucket}>"


# ---------------------------------------------------------------------------------- credentials

# What issues a credential (or a connection string), and the argument naming what it is issued for.
ISSUERS = {
    "qdrant-cloud_accounts_database_api_key_v2": ("cluster_id", "qdrant-cloud_accounts_cluster"),
    "supabase_apikey": ("project_ref", "supabase_project"),
    "data.supabase_apikeys": ("project_ref", "supabase_project"),
    "data.supabase_pooler": ("project_ref", "supabase_project"),
}


def credentials_after_issuers(graph: ApplyGraph) -> Iterator[Pair]:
    """A provider-issued credential is read only after what issues it exists:

    - each issuer (a Qdrant Cloud database API key, the Supabase key and pooler data sources)
      comes after the cluster or project it names, by reference. A literal `project_ref` would let
      Terraform read the data source during plan, before the project exists;
    - each aws_secretsmanager_secret_version whose value holds an issued credential comes after
      its issuer;
    - each aws_ecs_service reading such a secret comes after the issuer (through the version).

    All three are plain references in today's stacks; the rule keeps them so.
    """
    for issuer_type, (argument, target_type) in ISSUERS.items():
        for issuer, body in sorted(graph.of_type(issuer_type).items()):
            targets = graph.roots_of_type(body.get(argument), target_type)
            yield from ((issuer, target) for target in sorted(targets))
            if not targets:
                yield issuer, f"<the {target_type} its {argument} names, by reference>"

    def issuers_in(version: str) -> list[str]:
        read = graph.resolved_references(graph.bodies[version].get("secret_string"))
        return sorted(a for a in read if _type(a) in ISSUERS)

    for version in sorted(graph.of_type("aws_secretsmanager_secret_version")):
        yield from ((version, issuer) for issuer in issuers_in(version))
    for service, version in secret_versions_of_services(graph):
        if version in graph.bodies:
            yield from ((service, issuer) for issuer in issuers_in(version))


RULES: dict[str, Rule] = {
    "service after secret versions": service_after_secret_versions,
    "service after execution role policies": service_after_execution_role_policies,
    "service after forwarding listeners": service_after_forwarding_listeners,
    "load balancer after log bucket policy": load_balancer_after_log_bucket_policy,
    "credentials after issuers": credentials_after_issuers,
}
