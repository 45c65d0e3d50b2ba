"""Least privilege in the IAM and KMS policies of every cloud environment, stated as policies over the
synthesized dev, staging and prod stacks (and their `-images` stacks).

Each IAM policy document is a `data.aws_iam_policy_document` block, and each key policy a JSON
string; both hold Terraform references (the account, region and partition data sources, key and
secret ARNs). They are evaluated with `terraform console`, each reference replaced by a stand-in
value: the account, region and partition are ones no environment file holds, so a value written as a
literal instead of read from the data sources would not match.

What no test here can prove: that AWS accepts these policies, that a service sends the condition
keys its documentation says it sends (a missing key denies, and a task would fail to start), or that
the actions granted are enough at run time. The sources for each condition are cited where the
policies are written (infrakit/constructs/aws/).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.terraform_console import evaluate, stand_ins

CLOUD = ("dev", "staging", "prod")
ACCOUNT = "480937561234"
REGION = "zz-standin-1"
PARTITION = "aws-standin"
DOCUMENT = re.compile(r"^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}$")
ROLE = re.compile(r"^\$\{aws_iam_role\.([A-Za-z0-9_-]+)\.(?:arn|id|name)\}$")
SECRET_ARN = re.compile(r"\$\{(aws_secretsmanager_secret\.[A-Za-z0-9_-]+\.arn)\}")


def load(synthesized: Path, name: str) -> dict[str, Any]:
    return json.loads((synthesized / "stacks" / name / "cdk.tf.json").read_text())


def region_stand_ins(templates: Any) -> dict[str, str]:
    """A value for every reference: the account, region and partition data sources get ACCOUNT,
    REGION and PARTITION; any other reference a value of its own, stable per address."""
    return stand_ins(templates, account_id=ACCOUNT, region=REGION, partition=PARTITION)


class Stack:
    """One synthesized stack, with its policy documents and key policies as Terraform evaluates them."""

    def __init__(self, body: dict[str, Any]):
        self.body = body
        documents = body.get("data", {}).get("aws_iam_policy_document", {})
        keys = self.resources("aws_kms_key")
        templates = {
            "documents": {name: doc.get("statement", []) for name, doc in documents.items()},
            "keys": {name: key["policy"] for name, key in keys.items()},
        }
        self.values = region_stand_ins(templates)
        evaluated = evaluate(templates, self.values)
        self.documents: dict[str, list[dict[str, Any]]] = evaluated["documents"]
        self.key_policies = {name: json.loads(policy) for name, policy in evaluated["keys"].items()}

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = self.body.get("resource", {}).get(kind, {})
        return found

    def value(self, address: str) -> str:
        return self.values[address]

    def statements(self, reference: str) -> list[dict[str, Any]]:
        """The statements of the policy document that `${data.aws_iam_policy_document.X.json}` names."""
        match = DOCUMENT.match(reference)
        assert match, f"not a reference to a policy document: {reference}"
        return self.documents[match[1]]

    def role(self, reference: str) -> str:
        match = ROLE.match(reference)
        assert match, f"not a reference to an IAM role: {reference}"
        return match[1]

    def trust(self, role: str) -> list[dict[str, Any]]:
        return self.statements(self.resources("aws_iam_role")[role]["assume_role_policy"])

    def role_policies(self, role: str) -> Iterator[dict[str, Any]]:
        for policy in self.resources("aws_iam_role_policy").values():
            if self.role(policy["role"]) == role:
                yield from self.statements(policy["policy"])


@pytest.fixture(scope="module")
def stacks(synthesized: Path) -> dict[str, Stack]:
    return {name: Stack(load(synthesized, name)) for env in CLOUD for name in (env, f"{env}-images")}


def conditions(statement: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    return {(c["test"], c["variable"]): sorted(c["values"]) for c in statement.get("condition", [])}


def service_principals(statement: dict[str, Any]) -> list[str]:
    return sorted(
        identifier
        for principal in statement.get("principals", [])
        if principal["type"] == "Service"
        for identifier in principal["identifiers"]
    )


def execution_roles(stack: Stack) -> set[str]:
    return {stack.role(t["execution_role_arn"]) for t in stack.resources("aws_ecs_task_definition").values()}


def traffic_shift_roles(stack: Stack) -> set[str]:
    """The roles ECS uses to move a blue/green api's traffic (load_balancer advanced_configuration)."""
    return {
        stack.role(advanced["role_arn"])
        for service in stack.resources("aws_ecs_service").values()
        for balancer in service.get("load_balancer") or ()
        for advanced in [balancer.get("advanced_configuration")]
        if advanced
    }


# ----------------------------------------------------------------------------- confused deputy


@pytest.mark.parametrize("env", CLOUD)
def test_ecs_assumes_task_roles_only_for_this_accounts_tasks(stacks: dict[str, Stack], env: str) -> None:
    """Each task role's trust lets ecs-tasks assume it only with aws:SourceAccount = this account and
    aws:SourceArn like arn:<partition>:ecs:<region>:<account>:*, the conditions the ECS developer guide
    ("Amazon ECS task IAM role") recommends. It cannot prove that ECS sends both keys when it assumes
    the role; only that the documented conditions are there, read from the data sources."""
    stack = stacks[env]
    tasks = stack.resources("aws_ecs_task_definition")
    assert len(tasks) == 2
    for task in tasks.values():
        (trust,) = stack.trust(stack.role(task["task_role_arn"]))
        assert trust["effect"] == "Allow"
        assert trust["actions"] == ["sts:AssumeRole"]
        assert service_principals(trust) == ["ecs-tasks.amazonaws.com"]
        assert conditions(trust) == {
            ("StringEquals", "aws:SourceAccount"): [ACCOUNT],
            ("ArnLike", "aws:SourceArn"): [f"arn:{PARTITION}:ecs:{REGION}:{ACCOUNT}:*"],
        }


@pytest.mark.parametrize("env", CLOUD)
def test_vpc_flow_logs_assume_their_role_only_for_this_accounts_flow_logs(
    stacks: dict[str, Stack], env: str
) -> None:
    """The flow log's role trusts vpc-flow-logs only with aws:SourceAccount = this account and
    aws:SourceArn like this account's flow logs in the region, as the VPC user guide ("IAM role for
    publishing flow logs to CloudWatch Logs") recommends; the flow log's ID is a wildcard, which the
    guide allows, because the flow log names the role and is created after it. It cannot prove that
    flow log delivery succeeds with these conditions."""
    stack = stacks[env]
    (flow_log,) = stack.resources("aws_flow_log").values()
    (trust,) = stack.trust(stack.role(flow_log["iam_role_arn"]))
    assert trust["actions"] == ["sts:AssumeRole"]
    assert service_principals(trust) == ["vpc-flow-logs.amazonaws.com"]
    assert conditions(trust) == {
        ("StringEquals", "aws:SourceAccount"): [ACCOUNT],
        ("ArnLike", "aws:SourceArn"): [f"arn:{PARTITION}:ec2:{REGION}:{ACCOUNT}:vpc-flow-log/*"],
    }


@pytest.mark.parametrize("env", CLOUD)
def test_every_role_a_service_assumes_is_scoped_to_this_account_but_the_execution_roles(
    stacks: dict[str, Stack], env: str
) -> None:
    """Every role in the stack that an AWS service assumes carries aws:SourceAccount and aws:SourceArn
    in its trust, except the ECS task execution roles and the role ECS uses to shift a blue/green
    api's traffic: the ECS developer guide recommends the conditions for the task role only, shows
    both others without them, and a key ECS did not send would stop every task from starting (or
    every release from shifting traffic); the traffic-shift role's permissions are limited to this
    load balancer's groups, listener and rules instead. A role added later without them fails here
    until it is scoped or named as an exception. It cannot prove the exceptions are still needed:
    that takes a deploy with the conditions on those roles."""
    stack = stacks[env]
    exempt = execution_roles(stack) | traffic_shift_roles(stack)
    unscoped = []
    for role in sorted(stack.resources("aws_iam_role")):
        for statement in stack.trust(role):
            if not service_principals(statement) or role in exempt:
                continue
            keys = {variable for _, variable in conditions(statement)}
            if not {"aws:SourceAccount", "aws:SourceArn"} <= keys:
                unscoped.append(f"{role} trusts {service_principals(statement)} with {sorted(keys)}")
    assert unscoped == []
    assert exempt, "the stack has no task execution role: the exception names nothing"


# ----------------------------------------------------------------------------- KMS


@pytest.mark.parametrize("env", CLOUD)
def test_execution_roles_decrypt_only_their_secrets_and_only_through_secrets_manager(
    stacks: dict[str, Stack], env: str
) -> None:
    """The execution role's one KMS permission is kms:Decrypt on the environment key, when Secrets
    Manager asks (kms:ViaService = secretsmanager.<region>.amazonaws.com) for exactly the secrets
    its task definition injects (kms:EncryptionContext:SecretARN, the context Secrets Manager
    sends: Secrets Manager user guide, "Secret encryption and decryption"). Pulling from the
    KMS-encrypted repository needs no KMS permission (ECR decrypts through its own grant), so none is
    granted on the images key. It cannot prove that ECS can start tasks with this policy."""
    stack = stacks[env]
    (key,) = stack.resources("aws_kms_key")
    key_arn = stack.value(f"aws_kms_key.{key}.arn")
    for task in stack.resources("aws_ecs_task_definition").values():
        (container,) = json.loads(task["container_definitions"])
        injected = {s["valueFrom"] for s in container["secrets"]}
        secrets = sorted({stack.value(a) for v in injected for a in SECRET_ARN.findall(v)})
        assert len(secrets) >= 3, "every service reads its connection secrets"
        statements = list(stack.role_policies(stack.role(task["execution_role_arn"])))
        kms = [s for s in statements if any(a.startswith("kms:") for a in s["actions"])]
        assert len(kms) == 1, kms
        (decrypt,) = kms
        assert decrypt["effect"] == "Allow"
        assert decrypt["actions"] == ["kms:Decrypt"]
        assert decrypt["resources"] == [key_arn]
        assert conditions(decrypt) == {
            ("StringEquals", "kms:ViaService"): [f"secretsmanager.{REGION}.amazonaws.com"],
            ("StringEquals", "kms:EncryptionContext:SecretARN"): secrets,
        }


@pytest.mark.parametrize("env", CLOUD)
def test_no_identity_policy_grants_kms_without_kms_via_service(stacks: dict[str, Stack], env: str) -> None:
    """In the environment's and the images stack's policy documents, any statement granting a kms:
    action names the service it may be used through (kms:ViaService). It cannot prove the service
    named is the right one for each use (the test above checks the execution roles')."""
    loose = []
    for name in (env, f"{env}-images"):
        for document, statements in stacks[name].documents.items():
            for statement in statements:
                granted = [a for a in statement.get("actions", []) if a.startswith("kms:") or a == "*"]
                if granted and statement.get("effect", "Allow") == "Allow":
                    variables = {variable for _, variable in conditions(statement)}
                    if "kms:ViaService" not in variables:
                        loose.append(f"{name}: {document} grants {granted} with {sorted(variables)}")
    assert loose == []


@pytest.mark.parametrize("env", CLOUD)
def test_the_images_key_lets_the_account_administer_it_and_no_service_use_it(
    stacks: dict[str, Stack], env: str
) -> None:
    """The images stack's key encrypts the ECR repositories and nothing else, so its policy holds the
    account's statement alone (ECR uses the key through the grants it creates with each repository:
    ECR user guide, "Encryption at rest"); no CloudWatch Logs or CloudWatch statement for a log
    group or topic it never serves. The environment's key keeps both. It cannot prove that ECR can
    create its grants with this policy: that happens when a repository is created."""
    (images_key,) = stacks[f"{env}-images"].key_policies.values()
    (statement,) = images_key["Statement"]
    assert statement == {
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{PARTITION}:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    (environment_key,) = stacks[env].key_policies.values()
    principals = sorted(json.dumps(s["Principal"], sort_keys=True) for s in environment_key["Statement"])
    assert principals == sorted(
        json.dumps(p, sort_keys=True)
        for p in (
            {"AWS": f"arn:{PARTITION}:iam::{ACCOUNT}:root"},
            {"Service": f"logs.{REGION}.amazonaws.com"},
            {"Service": "cloudwatch.amazonaws.com"},
        )
    )
