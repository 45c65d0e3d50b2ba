"""dev, staging and prod synthesize complete stacks with the security properties operators rely on."""

from __future__ import annotations

import inspect
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from infrakit.contract import SENSITIVE
from tests.conftest import ROOT, SENTINELS

CLOUD = ("dev", "staging", "prod")


@pytest.fixture(scope="session")
def stacks(synthesized: Path) -> dict[str, dict[str, Any]]:
    return {
        env: json.loads((synthesized / "stacks" / env / "cdk.tf.json").read_text())
        for env in ("local", *CLOUD)
    }


def resources(stack: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return list(stack.get("resource", {}).get(kind, {}).values())


def only(stack: dict[str, Any], kind: str) -> dict[str, Any]:
    (found,) = resources(stack, kind)
    return found


def containers(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for task in resources(stack, "aws_ecs_task_definition"):
        (container,) = json.loads(task["container_definitions"])
        found[container["name"]] = container
    return found


def is_reference(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


# ----------------------------------------------------------------------------- whole output


def test_all_environments_synthesize(synthesized):
    assert sorted(p.name for p in (synthesized / "stacks").iterdir()) == [
        "dev",
        "dev-images",
        "local",
        "prod",
        "prod-images",
        "staging",
        "staging-images",
    ]


def test_no_credential_from_the_environment_reaches_the_output(synthesized):
    for path in synthesized.rglob("*.json"):
        text = path.read_text()
        for name, value in SENTINELS.items():
            assert value not in text, f"{name} leaked into {path}"


@pytest.mark.parametrize("env", CLOUD)
def test_every_secret_attribute_is_a_reference(stacks, env):
    secret_keys = {"auth_token", "secret_string", "database_password", "password", "api_key", "token"}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in secret_keys and isinstance(value, str):
                    assert "${" in value, f"{env}: literal secret at {path}.{key}"
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")

    walk(stacks[env].get("resource", {}), "resource")
    for provider, configs in stacks[env]["provider"].items():
        for config in configs:
            assert not set(config) & {"access_key", "secret_key", "token", "api_key", "access_token"}, (
                provider
            )


@pytest.mark.parametrize("env", CLOUD)
def test_secret_bearing_outputs_are_sensitive(stacks, env):
    outputs = stacks[env]["output"]
    expected = {
        "database_url",
        "redis_url",
        "qdrant_url",
        "qdrant_api_key",
        "api_url",
        "supabase_url",
        "supabase_publishable_key",
        "supabase_secret_key",
    }
    assert expected <= outputs.keys()
    for name in expected:
        assert outputs[name]["sensitive"] is (name in SENSITIVE), name
    # Migrations need the session pooler; its value is evaluated in tests/test_supabase_expressions.py.
    assert outputs["database_migration_url"]["sensitive"] is True
    assert ".url.transaction," in outputs["database_url"]["value"]
    assert outputs["supabase_url"]["value"].startswith("https://") and outputs["supabase_url"][
        "value"
    ].endswith(".supabase.co")


# ----------------------------------------------------------------------------- state


@pytest.mark.parametrize("env", CLOUD)
def test_state_backend_is_encrypted_s3_with_native_locking(stacks, env):
    terraform = stacks[env]["terraform"]
    s3 = terraform["backend"]["s3"]
    assert s3["use_lockfile"] is True
    assert s3["encrypt"] is True
    # The customer-managed key scripts/create-state-bucket.sh creates, by its alias.
    assert s3["kms_key_id"] == f"alias/terraform-state/{s3['bucket'].replace('.', '_')}"
    assert s3["key"] == f"infrakit/{env}.tfstate"
    assert "dynamodb_table" not in s3
    assert terraform["required_version"] == ">= 1.10"


def test_every_stack_requires_terraform_1_10(stacks):
    assert {env: s["terraform"]["required_version"] for env, s in stacks.items()} == dict.fromkeys(
        stacks, ">= 1.10"
    )


@pytest.mark.parametrize("env", CLOUD)
def test_provider_sources_are_fully_qualified(stacks, env):
    providers = stacks[env]["terraform"]["required_providers"]
    assert providers["aws"]["source"] == "hashicorp/aws"
    assert providers["random"]["source"] == "hashicorp/random"
    assert providers["supabase"]["source"] == "supabase/supabase"
    assert providers["qdrant-cloud"]["source"] == "qdrant/qdrant-cloud"
    # With its host, so that OpenTofu too fetches it from the registry the provider's README names.
    assert providers["neo4jaura"]["source"] == "registry.terraform.io/neo4j-labs/neo4jaura"
    for name, provider in providers.items():
        assert re.fullmatch(r"(registry\.terraform\.io/)?[a-z0-9-]+/[a-z0-9-]+", provider["source"]), name
        # Exact versions; a pre-release (the beta Aura provider) only as an exact one.
        assert re.fullmatch(r"\d+\.\d+\.\d+(-[a-z0-9.]+)?", provider["version"]), name


# ----------------------------------------------------------------------------- Redis


@pytest.mark.parametrize("env", CLOUD)
def test_redis_has_tls_auth_and_customer_managed_encryption(stacks, env):
    group = only(stacks[env], "aws_elasticache_replication_group")
    assert group["transit_encryption_enabled"] is True
    assert group["auth_token"].startswith("${random_password.")
    assert group["at_rest_encryption_enabled"] == "true"
    assert group["kms_key_id"].startswith("${aws_kms_key.")
    assert group["snapshot_retention_limit"] >= 1
    assert stacks[env]["output"]["redis_url"]["value"].startswith("rediss://")


@pytest.mark.parametrize("env", CLOUD)
def test_redis_auth_token_is_kept_in_secrets_manager(stacks, env):
    group = only(stacks[env], "aws_elasticache_replication_group")
    stored = [v["secret_string"] for v in resources(stacks[env], "aws_secretsmanager_secret_version")]
    assert group["auth_token"] in stored


@pytest.mark.parametrize("env", CLOUD)
def test_redis_parameter_group_sets_noeviction(stacks, env):
    parameters = only(stacks[env], "aws_elasticache_parameter_group")["parameter"]
    assert {"name": "maxmemory-policy", "value": "noeviction"} in parameters


@pytest.mark.parametrize("env", CLOUD)
def test_redis_sits_in_private_subnets_and_admits_only_the_service_tasks(stacks, env):
    subnet_group = only(stacks[env], "aws_elasticache_subnet_group")
    assert all("private" in subnet for subnet in subnet_group["subnet_ids"])
    ingress = [
        rule
        for rule in resources(stacks[env], "aws_vpc_security_group_ingress_rule")
        if rule["from_port"] == 6379
    ]
    assert len(ingress) == 2
    assert all("cidr_ipv4" not in rule and "referenced_security_group_id" in rule for rule in ingress)
    assert {rule["description"] for rule in ingress} == {"Redis from api tasks", "Redis from worker tasks"}


# ----------------------------------------------------------------------------- containers


@pytest.mark.parametrize("env", CLOUD)
def test_containers_run_non_root_with_read_only_root_and_a_health_check(stacks, env):
    found = containers(stacks[env])
    assert set(found) == {"api", "worker"}
    for name, container in found.items():
        assert container["user"] not in ("root", "0") and not container["user"].startswith("0:"), name
        assert container["readonlyRootFilesystem"] is True, name
        assert container["privileged"] is False, name
        assert container["healthCheck"]["command"][0] in ("CMD", "CMD-SHELL"), name
        assert container["logConfiguration"]["logDriver"] == "awslogs", name


@pytest.mark.parametrize("env", CLOUD)
def test_secrets_reach_tasks_from_secrets_manager_never_as_plain_environment(stacks, env):
    for name, container in containers(stacks[env]).items():
        plain = {item["name"] for item in container["environment"]}
        injected = {item["name"]: item["valueFrom"] for item in container["secrets"]}
        assert {"DATABASE_URL", "REDIS_URL", "QDRANT_API_KEY", "SUPABASE_SECRET_KEY"} <= injected.keys()
        assert not plain & {n.upper() for n in SENSITIVE}, name
        for value in injected.values():
            # <secret arn>:::<version id>: the version that holds the value, so a new value is a new
            # task definition revision (StoredSecret.value_from).
            assert re.fullmatch(
                r"\$\{aws_secretsmanager_secret\.[\w-]+\.arn\}:::"
                r"\$\{aws_secretsmanager_secret_version\.[\w-]+\.version_id\}",
                value,
            ), (name, value)


@pytest.mark.parametrize("env", CLOUD)
def test_task_logs_go_to_encrypted_log_groups_with_retention(stacks, env):
    for group in resources(stacks[env], "aws_cloudwatch_log_group"):
        assert group["kms_key_id"].startswith("${aws_kms_key."), group["name"]
        assert group["retention_in_days"] >= 365, group["name"]


@pytest.mark.parametrize("env", CLOUD)
def test_execution_roles_read_only_their_own_secrets_and_nothing_is_wildcarded(stacks, env):
    documents = stacks[env]["data"]["aws_iam_policy_document"]
    execution = {key: doc for key, doc in documents.items() if "execution-permissions" in key}
    assert len(execution) == 2
    for key, document in execution.items():
        service = "api" if key.startswith("api") else "worker"
        for statement in document["statement"]:
            if statement["resources"] == ["*"]:
                assert statement["actions"] == ["ecr:GetAuthorizationToken"], key
            if statement["actions"] == ["secretsmanager:GetSecretValue"]:
                assert all(f"{service}-wiring_secret-" in arn for arn in statement["resources"]), key
    task_roles = [r for r in resources(stacks[env], "aws_iam_role") if r["name"].endswith("-task")]
    role_policies = resources(stacks[env], "aws_iam_role_policy")
    assert len(task_roles) == 2
    assert not any(
        p["role"].split(".")[1] in str(task_roles) for p in role_policies if "task_role" in p["role"]
    )


@pytest.mark.parametrize("env", CLOUD)
def test_only_the_load_balancer_reaches_the_api_and_nothing_reaches_the_worker(stacks, env):
    ingress = resources(stacks[env], "aws_vpc_security_group_ingress_rule")
    to_tasks = [rule for rule in ingress if rule["description"] == "from the load balancer"]
    assert len(to_tasks) == 1 and "api" in to_tasks[0]["security_group_id"]
    assert not [rule for rule in ingress if "worker_security-group" in rule["security_group_id"]]
    services = {s["name"]: s for s in resources(stacks[env], "aws_ecs_service")}
    assert "load_balancer" in services["api"] and "load_balancer" not in services["worker"]
    for service in services.values():
        assert service["network_configuration"]["assign_public_ip"] is False


@pytest.mark.parametrize("env", CLOUD)
def test_deployments_roll_back_and_scale_within_configured_bounds(stacks, env):
    config = tomllib.loads((ROOT / "environments" / f"{env}.toml").read_text())
    for service in resources(stacks[env], "aws_ecs_service"):
        assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    targets = {
        re.search(r"aws_ecs_service\.(api|worker)_", t["resource_id"])[1]: t
        for t in resources(stacks[env], "aws_appautoscaling_target")
    }
    assert set(targets) == {"api", "worker"}
    bounds = sorted((t["min_capacity"], t["max_capacity"]) for t in targets.values())
    expected = sorted((config[n]["min_count"], config[n]["max_count"]) for n in ("api", "worker"))
    assert bounds == expected
    policies = resources(stacks[env], "aws_appautoscaling_policy")
    assert {p["policy_type"] for p in policies} == {"TargetTrackingScaling"}


# The image repositories are checked in tests/test_images_stack.py.


@pytest.mark.parametrize("env", CLOUD)
def test_cluster_has_container_insights(stacks, env):
    cluster = only(stacks[env], "aws_ecs_cluster")
    assert {"name": "containerInsights", "value": "enabled"} in cluster["setting"]


# ----------------------------------------------------------------------------- edge and network


@pytest.mark.parametrize("env", CLOUD)
def test_load_balancer_serves_https_redirects_http_and_drops_invalid_headers(stacks, env):
    balancer = only(stacks[env], "aws_lb")
    assert balancer["drop_invalid_header_fields"] is True
    assert balancer["access_logs"]["enabled"] is True
    listeners = {listener["port"]: listener for listener in resources(stacks[env], "aws_lb_listener")}
    assert listeners[443]["protocol"] == "HTTPS" and listeners[443]["ssl_policy"].startswith(
        "ELBSecurityPolicy-TLS13"
    )
    redirect = listeners[80]["default_action"][0]
    assert redirect["type"] == "redirect" and redirect["redirect"]["protocol"] == "HTTPS"
    assert only(stacks[env], "aws_wafv2_web_acl_association")["resource_arn"].startswith("${aws_lb.")


@pytest.mark.parametrize("env", CLOUD)
def test_access_log_bucket_is_private_versioned_and_tls_only(stacks, env):
    assert only(stacks[env], "aws_s3_bucket_public_access_block")["restrict_public_buckets"] is True
    assert only(stacks[env], "aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
    policy = stacks[env]["data"]["aws_iam_policy_document"]
    tls_only = [s for doc in policy.values() for s in doc["statement"] if s.get("sid") == "TlsOnly"]
    assert tls_only and tls_only[0]["effect"] == "Deny"


@pytest.mark.parametrize("env", CLOUD)
def test_vpc_spans_two_zones_with_private_subnets_nat_and_flow_logs(stacks, env):
    subnets = resources(stacks[env], "aws_subnet")
    zones = {s["availability_zone"] for s in subnets}
    assert len(zones) >= 2
    assert {s["tags"]["Tier"] for s in subnets} == {"public", "private"}
    assert all(s.get("map_public_ip_on_launch", False) is False for s in subnets)
    assert resources(stacks[env], "aws_nat_gateway")
    assert only(stacks[env], "aws_flow_log")["traffic_type"] == "ALL"
    default_sg = only(stacks[env], "aws_default_security_group")
    assert "ingress" not in default_sg and "egress" not in default_sg


# ----------------------------------------------------------------------------- high availability


@pytest.mark.parametrize("env", ("staging", "prod"))
def test_shared_environments_fail_over_and_are_protected(stacks, env):
    group = only(stacks[env], "aws_elasticache_replication_group")
    assert group["automatic_failover_enabled"] is True
    assert group["multi_az_enabled"] is True
    assert group["num_cache_clusters"] >= 2
    assert only(stacks[env], "aws_lb")["enable_deletion_protection"] is True


def test_prod_is_highly_available(stacks):
    prod = stacks["prod"]
    cluster = only(prod, "qdrant-cloud_accounts_cluster")
    assert cluster["configuration"]["number_of_nodes"] >= 3
    collection = cluster["configuration"]["database_configuration"]["collection"]
    assert collection["replication_factor"] >= 2
    assert (
        len(resources(prod, "aws_nat_gateway"))
        == len({s["availability_zone"] for s in resources(prod, "aws_subnet")})
        >= 3
    )
    assert only(prod, "aws_elasticache_replication_group")["num_cache_clusters"] >= 3
    api = next(
        t for t in resources(prod, "aws_appautoscaling_target") if "aws_ecs_service.api_" in t["resource_id"]
    )
    assert api["min_capacity"] >= 2


def test_dev_is_cheap_and_disposable(stacks):
    dev = stacks["dev"]
    assert only(dev, "aws_elasticache_replication_group")["automatic_failover_enabled"] is False
    assert only(dev, "aws_lb")["enable_deletion_protection"] is False
    assert len(resources(dev, "aws_nat_gateway")) == 1


def test_every_inline_route_names_every_attribute_of_the_provider_schema(stacks):
    """Terraform reads aws_route_table's `route` as a list of objects and refuses one that leaves out
    an attribute of the provider's schema; the binding's RouteTableRoute lists exactly that schema
    (hashicorp/aws 6.69.1). Cannot prove what that provider plans for the routes: no provider
    binary can be installed here."""
    from infrakit.cdk import RouteTableRoute

    schema = set(inspect.signature(RouteTableRoute).parameters)
    routes = [
        route
        for env in CLOUD
        for table in resources(stacks[env], "aws_route_table")
        for route in table["route"]
    ]
    assert routes
    for route in routes:
        assert set(route) == schema, sorted(schema ^ set(route))


@pytest.mark.parametrize("env", CLOUD)
def test_each_service_reads_its_own_supabase_secret_key(stacks, env):
    """SUPABASE_SECRET_KEY (and its one-release alias SUPABASE_SERVICE_ROLE_KEY) of the api and of
    the worker come from the secret version holding that service's own `supabase_apikey`: one
    leaked key is revoked without touching the other service. Cannot prove: that Supabase scopes
    the keys differently (both are service_role secret keys; provider 1.10.1 apikey_resource.go)."""
    stack = stacks[env]
    keys = {body["name"]: key_id for key_id, body in stack["resource"]["supabase_apikey"].items()}
    versions = stack["resource"]["aws_secretsmanager_secret_version"]
    read = {}
    for name, container in containers(stack).items():
        secrets = {item["name"]: item["valueFrom"] for item in container["secrets"]}
        assert secrets["SUPABASE_SERVICE_ROLE_KEY"] == secrets["SUPABASE_SECRET_KEY"], name
        (version,) = re.findall(
            r"aws_secretsmanager_secret_version\.([\w-]+)\.version_id", secrets["SUPABASE_SECRET_KEY"]
        )
        read[name] = versions[version]["secret_string"]
    assert read == {service: f"${{supabase_apikey.{keys[service]}.api_key}}" for service in ("api", "worker")}
    assert read["api"] != read["worker"]
