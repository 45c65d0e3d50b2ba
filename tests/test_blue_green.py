"""Blue/green for the api, with a bake (issue #19): policies over the synthesized stacks, and the
`[api.deployment]` settings an environment file may hold.

ECS's native strategies (hashicorp/aws 6.69.1, aws_ecs_service `deployment_configuration` and
`load_balancer.advanced_configuration`) need, per the ECS developer guide ("Amazon ECS blue/green
deployments", "Application Load Balancer resources for blue/green, linear, and canary deployments",
"Troubleshooting Amazon ECS blue/green deployments", "Amazon ECS infrastructure IAM role for load
balancers"): the ECS deployment controller, a bake time, two target groups both associated with a
production listener RULE (an ALB listener's ARN is refused), one of them at weight 0 when a
deployment starts, and a role ECS assumes to reweight the rules.

What none of these tests can prove: that ECS accepts the configuration and shifts traffic (only a
release in a real account shows that), that the deployment alarms fire within the bake, or that the
role's trust and permissions are what ECS needs at run time. Each test's docstring says what else
it cannot prove.
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
from tests.apply_graph import ApplyGraph
from tests.conftest import ENVIRONMENTS, synth

CLOUD = ("dev", "staging", "prod")
REFERENCE = re.compile(r"^\$\{((?:data\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+)\.(?:arn|id|name|json)\}$")
DESCRIBE = [
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
]


@pytest.fixture(scope="module")
def stacks(synthesized: Path) -> dict[str, dict[str, Any]]:
    return {env: json.loads((synthesized / "stacks" / env / "cdk.tf.json").read_text()) for env in CLOUD}


def address(reference: str) -> str:
    """`aws_lb_target_group.x` for `${aws_lb_target_group.x.arn}`; data sources keep `data.`."""
    match = REFERENCE.match(reference)
    assert match, f"not a plain reference to a resource: {reference!r}"
    return match[1]


def resource(document: dict[str, Any], where: str) -> dict[str, Any]:
    kind, name = where.rsplit(".", 1)
    found: dict[str, Any] = document["resource"][kind][name]
    return found


def service(document: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = (s for s in document["resource"]["aws_ecs_service"].values() if s["name"] == name)
    return found


def one(block: Any) -> dict[str, Any]:
    """A nested block as cdk.tf.json writes it: an object, or a list of one."""
    if isinstance(block, list):
        (block,) = block
    assert isinstance(block, dict), block
    return block


def advanced(api: dict[str, Any]) -> dict[str, Any]:
    return one(one(api["load_balancer"])["advanced_configuration"])


def statements_of(document: dict[str, Any], reference: str) -> list[dict[str, Any]]:
    name = address(reference).removeprefix("data.aws_iam_policy_document.")
    found: list[dict[str, Any]] = document["data"]["aws_iam_policy_document"][name]["statement"]
    return found


def role_of(document: dict[str, Any], api: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    role = address(advanced(api)["role_arn"])
    assert role.startswith("aws_iam_role."), role
    return role, resource(document, role)


def inline_policies(document: dict[str, Any], role: str) -> dict[str, dict[str, Any]]:
    return {
        f"aws_iam_role_policy.{name}": body
        for name, body in document["resource"].get("aws_iam_role_policy", {}).items()
        if address(body["role"]) == role
    }


# ----------------------------------------------------------------------------- what ships


def test_prod_api_deploys_blue_green_with_a_bake_of_at_least_five_minutes(
    stacks: dict[str, dict[str, Any]],
) -> None:
    """prod's api service deploys BLUE_GREEN under the ECS deployment controller, with a bake of
    5 minutes or more, keeps the circuit breaker (ECS developer guide, "Amazon ECS deployment failure
    detection": it works with blue/green too) and rolls back on its deployment alarms, which ECS
    watches through the bake; the provider waits for the bake too (timeouts above 20 minutes plus
    the bake). It cannot prove that those alarms judge the release well, or that the bake is long
    enough for them to fire (each needs 3 minutes of breaches: test_alarms.py)."""
    api = service(stacks["prod"], "api")
    configuration = one(api["deployment_configuration"])
    assert configuration["strategy"] == "BLUE_GREEN"
    assert int(configuration["bake_time_in_minutes"]) >= 5
    assert one(api["deployment_controller"]) == {"type": "ECS"}
    assert one(api["deployment_circuit_breaker"]) == {"enable": True, "rollback": True}
    alarms = one(api["alarms"])
    assert alarms["enable"] is True and alarms["rollback"] is True and alarms["alarm_names"]
    assert api["wait_for_steady_state"] is True
    for phase in ("create", "update"):
        minutes = int(one(api["timeouts"])[phase].removesuffix("m"))
        assert minutes >= 20 + int(configuration["bake_time_in_minutes"]), phase


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_both_target_groups_are_attached_through_the_production_listener_rule(
    stacks: dict[str, dict[str, Any]], env: str
) -> None:
    """The api's two target groups (the service's and the alternate) are distinct, alike but for
    their names, and both forwarded to by one production listener RULE on the listener that serves
    the api (HTTPS here), weighted 100 for the service's group and 0 for the alternate, matching
    every path; Terraform ignores the rule's actions, which ECS reweights on every deployment. The
    listener's default action, which the rule leaves no request to, forwards the same way. It
    cannot prove that ECS finds the weights it expects in a real account (after a release the
    alternate group holds the weight), nor that no other rule of higher priority takes the api's
    requests first."""
    document = stacks[env]
    api = service(document, "api")
    shift = advanced(api)
    primary = address(one(api["load_balancer"])["target_group_arn"])
    alternate = address(shift["alternate_target_group_arn"])
    assert primary != alternate
    assert primary.startswith("aws_lb_target_group.") and alternate.startswith("aws_lb_target_group.")
    groups = [
        {k: v for k, v in resource(document, group).items() if k != "//"} for group in (primary, alternate)
    ]
    assert groups[1].pop("name") == f"{groups[0].pop('name')}-alt"
    assert groups[0] == groups[1]
    assert groups[0]["target_type"] == "ip"

    rule_address = address(shift["production_listener_rule"])
    assert rule_address.startswith("aws_lb_listener_rule."), "ECS takes a listener RULE's ARN for an ALB"
    rule = resource(document, rule_address)
    (action,) = rule["action"]
    assert action["type"] == "forward"
    weights = {address(g["arn"]): g["weight"] for g in one(action["forward"])["target_group"]}
    assert weights == {primary: 100, alternate: 0}
    assert [one(c)["path_pattern"] for c in rule["condition"]] == [{"values": ["/*"]}]
    assert "action" in rule["lifecycle"]["ignore_changes"]
    listener = resource(document, address(rule["listener_arn"]))
    assert listener["port"] == 443 and listener["protocol"] == "HTTPS"
    (default,) = listener["default_action"]
    weights = {address(g["arn"]): g["weight"] for g in one(default["forward"])["target_group"]}
    assert default["type"] == "forward" and weights == {primary: 100, alternate: 0}
    assert "test_listener_rule" not in shift


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_ecs_may_shift_traffic_only_on_this_load_balancer(
    stacks: dict[str, dict[str, Any]], env: str
) -> None:
    """The role ECS shifts traffic with trusts ecs.amazonaws.com to assume it, as the ECS developer
    guide writes that trust ("Amazon ECS infrastructure IAM role for load balancers"), and may do
    what the AWS managed policy AmazonECSInfrastructureRolePolicyForLoadBalancers (v6) grants, each
    action on this load balancer's own resources: register and deregister targets in the two target
    groups, modify the api's listener and its production rule; only the four Describe actions, which
    take no resource, on "*". It cannot prove that ECS can assume the role with this trust, nor that
    these actions are all a deployment needs (a later version of the managed policy may add some)."""
    document = stacks[env]
    api = service(document, "api")
    shift = advanced(api)
    role, body = role_of(document, api)
    (trust,) = statements_of(document, body["assume_role_policy"])
    assert trust["actions"] == ["sts:AssumeRole"]
    assert trust.get("effect", "Allow") == "Allow"
    assert trust["principals"] == [{"type": "Service", "identifiers": ["ecs.amazonaws.com"]}]
    assert "managed_policy_arns" not in body
    assert not document["resource"].get("aws_iam_role_policy_attachment", {}) or all(
        address(a["role"]) != role for a in document["resource"]["aws_iam_role_policy_attachment"].values()
    )

    (policy,) = inline_policies(document, role).values()
    rule = resource(document, address(shift["production_listener_rule"]))
    groups = sorted(
        address(a)
        for a in (one(api["load_balancer"])["target_group_arn"], shift["alternate_target_group_arn"])
    )
    granted = {tuple(s["actions"]): sorted(s["resources"]) for s in statements_of(document, policy["policy"])}
    assert all(s.get("effect", "Allow") == "Allow" for s in statements_of(document, policy["policy"]))
    assert granted == {
        tuple(DESCRIBE): ["*"],
        ("elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"): [
            f"${{{group}.arn}}" for group in groups
        ],
        ("elasticloadbalancing:ModifyListener",): [rule["listener_arn"]],
        ("elasticloadbalancing:ModifyRule",): [shift["production_listener_rule"]],
    }


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_the_api_service_comes_after_its_rules_and_its_roles_policy(
    stacks: dict[str, dict[str, Any]], env: str
) -> None:
    """On Terraform's apply graph, the api service comes after every listener rule that forwards to
    either of its target groups and after the traffic-shift role's inline policy; each rule comes
    after both groups. ECS checks both groups' association with the rules at CreateService and
    assumes the role from the first stage that touches the load balancer; naming an ARN orders
    neither the association nor the policy. On destroy, the same edges keep the role until the
    service is gone ("the role isn't deleted while active deployments are in progress"). It cannot
    prove that IAM has propagated the policy by the time ECS assumes the role."""
    document = stacks[env]
    graph = ApplyGraph.of(document)
    api = service(document, "api")
    (node,) = (f"aws_ecs_service.{n}" for n, b in document["resource"]["aws_ecs_service"].items() if b is api)
    shift = advanced(api)
    groups = {
        address(one(api["load_balancer"])["target_group_arn"]),
        address(shift["alternate_target_group_arn"]),
    }
    rules = [
        f"aws_lb_listener_rule.{name}"
        for name, rule in document["resource"]["aws_lb_listener_rule"].items()
        if groups & graph.roots_of_type(rule["action"], "aws_lb_target_group")
    ]
    assert address(shift["production_listener_rule"]) in rules
    role, _ = role_of(document, api)
    policies = list(inline_policies(document, role))
    assert policies
    for before in (*rules, *policies):
        assert graph.comes_after(node, before), f"{node} is not ordered after {before}"
    for rule in rules:
        for group in groups:
            assert graph.comes_after(rule, group), f"{rule} is not ordered after {group}"


@pytest.mark.parametrize("env", CLOUD)
def test_the_worker_stays_rolling_with_alarm_rollback(stacks: dict[str, dict[str, Any]], env: str) -> None:
    """The worker, which no load balancer fronts, deploys ROLLING (named, not left to a provider
    default) under the ECS controller, with the circuit breaker and its deployment alarms rolling
    back, and no bake, traffic shift or longer timeouts. It cannot prove that its error-line alarm
    catches a bad release."""
    worker = service(stacks[env], "worker")
    assert one(worker["deployment_configuration"]) == {"strategy": "ROLLING"}
    assert one(worker["deployment_controller"]) == {"type": "ECS"}
    assert one(worker["deployment_circuit_breaker"]) == {"enable": True, "rollback": True}
    alarms = one(worker["alarms"])
    assert alarms["enable"] is True and alarms["rollback"] is True and alarms["alarm_names"]
    assert "load_balancer" not in worker and "timeouts" not in worker


def test_a_rolling_api_keeps_one_target_group_and_no_rules(stacks: dict[str, dict[str, Any]]) -> None:
    """dev's api rolls: ROLLING, one target group forwarded to by the listener's default action, no
    listener rule, alternate group or traffic-shift role. It cannot prove that a later switch of dev
    to blue_green deploys cleanly (the first apply then migrates the running service)."""
    document = stacks["dev"]
    api = service(document, "api")
    assert one(api["deployment_configuration"]) == {"strategy": "ROLLING"}
    assert "advanced_configuration" not in one(api["load_balancer"])
    assert len(document["resource"]["aws_lb_target_group"]) == 1
    assert "aws_lb_listener_rule" not in document["resource"]
    assert not [n for n in document["resource"]["aws_iam_role"] if "traffic-shift" in n]


# ----------------------------------------------------------------------------- canary, test traffic


def prod_with(deployment: dict[str, Any]) -> dict[str, Any]:
    data = tomllib.loads((ENVIRONMENTS / "prod.toml").read_text())
    data["api"]["deployment"] = deployment
    config = EnvironmentConfig.model_validate(data)
    return dict(json.loads(synth(Environment(name="prod", file="prod.toml", config=config))))


def test_canary_with_test_traffic_adds_the_test_rule_and_the_canary_phase() -> None:
    """`strategy = "canary"` with `test_header` gives CANARY with its percent and phase, the
    provider's timeouts counting both bakes, and a test listener rule: evaluated before the
    production rule (a lower priority number), for requests carrying the header, over the same two
    groups at 100/0, its actions left to ECS, named in the advanced configuration and in the role's
    ModifyRule. It cannot prove how ECS splits the canary's traffic, or that clients can send the
    header past the web firewall."""
    document = prod_with(
        {
            "strategy": "canary",
            "bake_time_minutes": 5,
            "canary_percent": 12.5,
            "canary_bake_time_minutes": 7,
            "test_header": "X-Release-Test",
        }
    )
    api = service(document, "api")
    configuration = one(api["deployment_configuration"])
    assert configuration["strategy"] == "CANARY"
    assert configuration["bake_time_in_minutes"] == "5"
    assert one(configuration["canary_configuration"]) == {
        "canary_percent": 12.5,
        "canary_bake_time_in_minutes": "7",
    }
    assert one(api["timeouts"]) == {"create": "32m", "update": "32m"}

    shift = advanced(api)
    test = resource(document, address(shift["test_listener_rule"]))
    production = resource(document, address(shift["production_listener_rule"]))
    assert test["priority"] < production["priority"]
    assert test["listener_arn"] == production["listener_arn"]
    assert [one(c)["http_header"] for c in test["condition"]] == [
        {"http_header_name": "X-Release-Test", "values": ["*"]}
    ]
    assert test["action"] == production["action"]
    assert "action" in test["lifecycle"]["ignore_changes"]
    _, role = role_of(document, api)
    (policy,) = inline_policies(document, address(advanced(api)["role_arn"])).values()
    modify = [
        s
        for s in statements_of(document, policy["policy"])
        if s["actions"] == ["elasticloadbalancing:ModifyRule"]
    ]
    assert sorted(one(modify)["resources"]) == sorted(
        [shift["production_listener_rule"], shift["test_listener_rule"]]
    )
    assert role["name"].endswith("-api-traffic-shift")


# ----------------------------------------------------------------------------- the environment file


def with_tables(text: str, tables: dict[str, str]) -> str:
    """The environment file with each named table (`api.deployment`) replaced, or added before the
    next service table, so the same edit reads the same on files with and without one."""
    for table, body in tables.items():
        text = re.sub(rf"(?ms)^\[{re.escape(table)}\]\n.*?(?=^\[|\Z)", "", text)
        following = {"api.deployment": "[worker]", "worker.deployment": "[alarms]"}[table]
        assert following in text
        text = text.replace(following, f"[{table}]\n{body}\n\n{following}", 1)
    return text


def problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str, tables: dict[str, str]) -> list[str]:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / f"{env}.toml"
    path.write_text(with_tables((ENVIRONMENTS / f"{env}.toml").read_text(), tables))
    try:
        load_environment(path)
    except ConfigError as error:
        return [str(problem) for problem in error.problems]
    return []


@pytest.mark.parametrize(
    ("tables", "expected"),
    [
        pytest.param(
            {"api.deployment": 'strategy = "linear"\nbake_time_minutes = 10'},
            "prod.toml: api.deployment.strategy: Input should be 'rolling', 'blue_green' or 'canary'",
            id="unknown-strategy",
        ),
        pytest.param(
            {"api.deployment": 'strategy = "blue_green"\nbake_time_minutes = 1441'},
            "prod.toml: api.deployment.bake_time_minutes: Input should be less than or equal to 1440",
            id="bake-too-long",
        ),
        pytest.param(
            {"api.deployment": 'strategy = "blue_green"\nbake_time_minutes = -1'},
            "prod.toml: api.deployment.bake_time_minutes: Input should be greater than or equal to 0",
            id="bake-negative",
        ),
        pytest.param(
            {"api.deployment": 'strategy = "blue_green"'},
            'prod.toml: api.deployment: bake_time_minutes is required with strategy = "blue_green"',
            id="bake-missing",
        ),
        pytest.param(
            {"api.deployment": 'strategy = "rolling"\nbake_time_minutes = 10'},
            'prod.toml: api.deployment: bake_time_minutes not used with strategy = "rolling"',
            id="bake-with-rolling",
        ),
        pytest.param(
            {"api.deployment": 'strategy = "canary"\nbake_time_minutes = 10'},
            'prod.toml: api.deployment: canary_percent is required with strategy = "canary"',
            id="canary-without-percent",
        ),
        pytest.param(
            {"api.deployment": 'strategy = "canary"\nbake_time_minutes = 10\ncanary_percent = 0.05'},
            "prod.toml: api.deployment.canary_percent: Input should be greater than or equal to 0.1",
            id="canary-percent-too-small",
        ),
        pytest.param(
            {"api.deployment": 'strategy = "canary"\nbake_time_minutes = 10\ncanary_percent = 12.25'},
            "prod.toml: api.deployment.canary_percent: canary_percent must be a multiple of 0.1",
            id="canary-percent-not-tenths",
        ),
        pytest.param(
            {"api.deployment": 'strategy = "blue_green"\nbake_time_minutes = 10\ncanary_percent = 10'},
            'prod.toml: api.deployment: canary_percent not used with strategy = "blue_green"',
            id="canary-key-with-blue-green",
        ),
        pytest.param(
            {"worker.deployment": 'strategy = "canary"\nbake_time_minutes = 10\ncanary_percent = 10'},
            'prod.toml: worker.deployment.strategy: "canary" shifts traffic between two target groups of '
            "a load balancer, and the worker has none",
            id="canary-without-load-balancer",
        ),
        pytest.param(
            {"worker.deployment": 'strategy = "blue_green"\nbake_time_minutes = 10'},
            'prod.toml: worker.deployment.strategy: "blue_green" shifts traffic between two target groups',
            id="blue-green-without-load-balancer",
        ),
    ],
)
def test_deployment_settings_ecs_would_refuse_are_refused_naming_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tables: dict[str, str], expected: str
) -> None:
    """A strategy ECS does not know here, a bake outside 0-1440 minutes, a canary percent outside
    0.1-100 or not in tenths (ECS API reference, DeploymentConfiguration and CanaryConfiguration), a
    missing bake or percent, a key the strategy does not use, and a traffic-shifting strategy on the
    worker, which has no load balancer: each refused when the file is read, with the file, the key
    and the reason. It cannot prove that ECS accepts every value the file does (the provider and ECS
    check again at apply)."""
    found = problems(tmp_path, monkeypatch, "prod", tables)
    assert any(line.startswith(expected) for line in found), found


@pytest.mark.parametrize("env", CLOUD)
def test_the_shipped_deployment_settings_are_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    """The shipped files read without a problem, and a worker may say `rolling` explicitly. It
    cannot prove they suit each environment's traffic."""
    assert problems(tmp_path, monkeypatch, env, {}) == []
    assert problems(tmp_path, monkeypatch, env, {"worker.deployment": 'strategy = "rolling"'}) == []
