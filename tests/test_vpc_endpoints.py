"""A zone outage no longer cuts staging's tasks off (issue #18, item 9): staging has a NAT gateway per
zone, as prod does, and with [aws] vpc_endpoints = true tasks reach S3, ECR, CloudWatch Logs and
Secrets Manager through VPC endpoints instead of NAT.

The endpoints Fargate platform 1.4.0 needs for images in ECR and secrets from Secrets Manager are
ecr.api, ecr.dkr, the S3 gateway endpoint (image layers) and secretsmanager (ECS developer guide,
"Migrating to Linux platform version 1.4.0"); logs serves the awslogs driver. Interface endpoints
cost about 0.01 USD per zone-hour each plus data (AWS PrivateLink pricing); the S3 gateway endpoint
is free.

What these tests cannot prove: that AWS offers each service in the region, that private DNS
resolves as documented, or that traffic takes the endpoints rather than the NAT gateways. They
read the synthesized JSON and the config, not an account.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from infrakit.config import EnvironmentConfig
from tests.conftest import ENVIRONMENTS

CLOUD = ("dev", "staging", "prod")
WITH_ENDPOINTS = ("staging", "prod")
# What the tasks reach through interface endpoints (the brief of issue #18; see the module docstring).
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager")


@pytest.fixture(scope="module")
def stacks(synthesized: Path) -> dict[str, dict[str, Any]]:
    return {env: json.loads((synthesized / "stacks" / env / "cdk.tf.json").read_text()) for env in CLOUD}


def toml(env: str) -> dict[str, Any]:
    return tomllib.loads((ENVIRONMENTS / f"{env}.toml").read_text())


def of_type(stack: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = stack.get("resource", {}).get(kind, {})
    return found


def names(values: list[str], kind: str) -> set[str]:
    """The resource names in a list of "${<kind>.<name>.id}" references; fails on anything else."""
    found = set()
    for value in values:
        match = re.fullmatch(rf"\$\{{{re.escape(kind)}\.([\w-]+)\.id\}}", value)
        assert match, value
        found.add(match[1])
    return found


def private(stack: dict[str, Any], kind: str) -> set[str]:
    """The private subnets or route tables of the stack's VPC, by their Tier/Name tags."""
    return {
        name
        for name, body in of_type(stack, kind).items()
        if re.fullmatch(r".+-private-\d+", body.get("tags", {}).get("Name", ""))
    }


def endpoints(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The VPC endpoints, by the service they reach ("s3", "ecr.api", ...)."""
    region = stack["provider"]["aws"][0]["region"]
    prefix = f"com.amazonaws.{region}."
    found = {}
    for body in of_type(stack, "aws_vpc_endpoint").values():
        assert body["service_name"].startswith(prefix), body["service_name"]
        found[body["service_name"].removeprefix(prefix)] = body
    return found


# ----------------------------------------------------------------------------- NAT


@pytest.mark.parametrize("env", WITH_ENDPOINTS)
def test_staging_and_prod_have_a_nat_gateway_per_zone_each_private_subnet_using_its_own(stacks, env):
    """One NAT gateway per availability zone, and each private route table's default route through
    a different one: a zone outage leaves the other zones' tasks online. Cannot prove: that each NAT
    gateway's public subnet is in the same zone as the private subnet routed through it."""
    stack = stacks[env]
    zones = toml(env)["aws"]["availability_zones"]
    assert toml(env)["aws"]["nat_gateway_per_az"] is True
    assert len(of_type(stack, "aws_nat_gateway")) == len(zones)
    tables = private(stack, "aws_route_table")
    assert len(tables) == len(zones)
    gateways = {
        route["nat_gateway_id"] for t in tables for route in of_type(stack, "aws_route_table")[t]["route"]
    }
    assert len(gateways) == len(zones)


# ----------------------------------------------------------------------------- endpoints


@pytest.mark.parametrize("env", WITH_ENDPOINTS)
def test_an_s3_gateway_endpoint_sits_on_every_private_route_table_and_no_other(stacks, env):
    """Image layers come from S3: the gateway endpoint routes S3 from every private route table
    (the public one carries only the load balancer and NAT). Cannot prove: that the provider keeps
    the inline routes and the endpoint's routes apart (internal/service/ec2/vpc_route_table.go,
    flattenRoutes, skips vpce- routes; an apply shows it)."""
    stack = stacks[env]
    s3 = endpoints(stack)["s3"]
    assert s3["vpc_endpoint_type"] == "Gateway"
    assert names(s3["route_table_ids"], "aws_route_table") == private(stack, "aws_route_table")
    assert "subnet_ids" not in s3 and "security_group_ids" not in s3


@pytest.mark.parametrize("env", WITH_ENDPOINTS)
def test_interface_endpoints_for_ecr_logs_and_secrets_in_the_private_subnets_with_private_dns(stacks, env):
    """ecr.api, ecr.dkr, logs and secretsmanager: interface endpoints in every private subnet (where
    the tasks run), private DNS on so the SDKs' usual names resolve to them, behind the endpoint
    security group. Cannot prove: that the region offers each service."""
    stack = stacks[env]
    found = endpoints(stack)
    assert (
        set(found) == {"s3", *INTERFACE_ENDPOINTS} == {"s3", "ecr.api", "ecr.dkr", "logs", "secretsmanager"}
    )
    subnets = private(stack, "aws_subnet")
    assert len(subnets) == len(toml(env)["aws"]["availability_zones"])
    for service in INTERFACE_ENDPOINTS:
        endpoint = found[service]
        assert endpoint["vpc_endpoint_type"] == "Interface", service
        assert endpoint["private_dns_enabled"] is True, service
        assert names(endpoint["subnet_ids"], "aws_subnet") == subnets, service
        assert names(endpoint["security_group_ids"], "aws_security_group") == {
            name for name in of_type(stack, "aws_security_group") if "endpoints" in name
        }, service
    # The tasks run in those same subnets.
    for service in of_type(stack, "aws_ecs_service").values():
        assert names(service["network_configuration"]["subnets"], "aws_subnet") == subnets


@pytest.mark.parametrize("env", WITH_ENDPOINTS)
def test_the_endpoint_security_group_admits_https_from_the_vpc_cidr_only(stacks, env):
    """One ingress rule, TCP 443 from [aws] vpc_cidr; no other ingress, no egress, no inline rules.
    Cannot prove: that nothing outside the stack adds rules to it."""
    stack = stacks[env]
    (group_name,) = [name for name in of_type(stack, "aws_security_group") if "endpoints" in name]
    group = of_type(stack, "aws_security_group")[group_name]
    assert "ingress" not in group and "egress" not in group
    reference = f"${{aws_security_group.{group_name}.id}}"
    ingress = [
        r
        for r in of_type(stack, "aws_vpc_security_group_ingress_rule").values()
        if r["security_group_id"] == reference
    ]
    egress = [
        r
        for r in of_type(stack, "aws_vpc_security_group_egress_rule").values()
        if r["security_group_id"] == reference
    ]
    assert egress == []
    (rule,) = ingress
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 443, 443)
    assert rule["cidr_ipv4"] == toml(env)["aws"]["vpc_cidr"]
    assert "referenced_security_group_id" not in rule


@pytest.mark.parametrize("env", WITH_ENDPOINTS)
def test_tasks_may_reach_the_endpoints_over_https(stacks, env):
    """Each service's tasks send TCP 443 to 0.0.0.0/0, which covers the endpoints' private addresses
    and S3's prefix list, so no task rule changes. Cannot prove: that the rule stays this wide if a
    later change narrows task egress (then the endpoints need a rule of their own)."""
    stack = stacks[env]
    rules = of_type(stack, "aws_vpc_security_group_egress_rule").values()
    for service in of_type(stack, "aws_ecs_service").values():
        (group,) = service["network_configuration"]["security_groups"]
        https = [r for r in rules if r["security_group_id"] == group and r.get("from_port") == 443]
        assert any(r.get("cidr_ipv4") == "0.0.0.0/0" and r["to_port"] == 443 for r in https), group


def test_dev_has_no_endpoints_and_one_nat_gateway(stacks):
    """dev keeps vpc_endpoints = false, saving about 58 USD a month over its two zones, and one NAT
    gateway. Cannot prove: that this is the right trade for anyone's dev."""
    assert toml("dev")["aws"]["vpc_endpoints"] is False
    assert of_type(stacks["dev"], "aws_vpc_endpoint") == {}
    assert not [name for name in of_type(stacks["dev"], "aws_security_group") if "endpoints" in name]
    assert len(of_type(stacks["dev"], "aws_nat_gateway")) == 1


# ----------------------------------------------------------------------------- config


def dev_with(**aws: Any) -> dict[str, Any]:
    data = toml("dev")
    data["aws"] = {**data["aws"], **aws}
    return data


def test_vpc_endpoints_is_off_unless_asked_for_and_must_be_a_boolean():
    """Absent, it is false. A string ("yes", "true") is refused rather than read as true. Cannot
    prove: anything about files other than these."""
    data = dev_with()
    del data["aws"]["vpc_endpoints"]
    assert EnvironmentConfig.model_validate(data).aws.vpc_endpoints is False  # type: ignore[union-attr]
    for wrong in ("yes", "true", 1):
        with pytest.raises(ValidationError) as caught:
            EnvironmentConfig.model_validate(dev_with(vpc_endpoints=wrong))
        assert "aws.vpc_endpoints" in str(caught.value)
        assert "Input should be a valid boolean" in str(caught.value)
    assert EnvironmentConfig.model_validate(dev_with(vpc_endpoints=True)).aws.vpc_endpoints is True  # type: ignore[union-attr]
