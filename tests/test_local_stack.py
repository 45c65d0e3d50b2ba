"""The local environment's Docker topology holds the properties operators rely on."""

from __future__ import annotations

import json
import re

from infrakit.cdk import Container, Image, Network, Password, Testing
from infrakit.contract import SENSITIVE
from tests.conftest import environment_with, synth

SERVICES = {"postgres", "redis", "qdrant", "neo4j", "api", "worker"}
CONTRACT_OUTPUTS = {
    "database_url",
    "redis_url",
    "qdrant_url",
    "qdrant_api_key",
    "neo4j_uri",
    "neo4j_username",
    "neo4j_password",
    "api_url",
}


def containers(document, resources):
    return resources(document, Container.TF_RESOURCE_TYPE)


def test_topology_has_one_container_per_service(local_json, resources):
    names = {c["name"] for c in containers(local_json, resources).values()}
    assert names == {f"infrakit-local-{service}" for service in SERVICES}


def test_every_container_has_a_healthcheck_a_restart_policy_and_waits_for_health(local_json, resources):
    for name, container in containers(local_json, resources).items():
        test = container["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) >= 2, name
        assert container["restart"] == "unless-stopped", name
        assert container["wait"] is True, name


def test_every_container_has_memory_and_cpu_limits(local_synth):
    for service, memory, cpus in [("postgres", 512, "1.0"), ("redis", 256, "0.5"), ("worker", 128, "0.25")]:
        assert Testing.to_have_resource_with_properties(
            local_synth,
            Container.TF_RESOURCE_TYPE,
            {"name": f"infrakit-local-{service}", "memory": memory, "memory_swap": memory, "cpus": cpus},
        ), service


def test_images_are_pinned_never_latest(local_json, resources):
    images = [image["name"] for image in resources(local_json, Image.TF_RESOURCE_TYPE).values()]
    assert len(images) == len(SERVICES)
    for ref in images:
        assert re.match(r"^[\w./-]+:[\w][\w.-]*$", ref), ref
        assert not ref.endswith(":latest"), ref


def test_an_image_digest_from_config_is_pinned_next_to_the_tag():
    digest = "sha256:" + "ab" * 32
    document = synth(environment_with(database={"image_digest": digest}))
    assert Testing.to_have_resource_with_properties(
        document, Image.TF_RESOURCE_TYPE, {"name": f"postgres:16.6-alpine@{digest}"}
    )


def test_published_ports_bind_to_loopback_only(local_json, resources):
    published = [
        port
        for container in containers(local_json, resources).values()
        for port in container.get("ports", [])
    ]
    assert {p["internal"] for p in published} == {5432, 6379, 6333, 7687, 7474, 8080}
    assert all(p["ip"] == "127.0.0.1" for p in published)


def test_worker_publishes_no_port(local_json, resources):
    worker = next(c for c in containers(local_json, resources).values() if c["name"].endswith("-worker"))
    assert "ports" not in worker


def test_redis_runs_noeviction_with_aof_persistence(local_json, resources):
    redis = next(c for c in containers(local_json, resources).values() if c["name"].endswith("-redis"))
    start = " ".join(redis["command"])
    assert "--maxmemory-policy noeviction" in start
    assert "--appendonly yes" in start
    assert any(v["container_path"] == "/data" for v in redis["volumes"])


def test_stateful_services_keep_data_in_named_volumes(local_json, resources):
    mounts = {
        c["name"].rsplit("-", 1)[1]: [v["container_path"] for v in c.get("volumes", [])]
        for c in containers(local_json, resources).values()
    }
    assert mounts["postgres"] == ["/var/lib/postgresql/data"]
    assert mounts["qdrant"] == ["/qdrant/storage"]
    assert mounts["api"] == [] and mounts["worker"] == []


def test_containers_join_the_private_network_and_run_unprivileged(local_json, resources):
    assert len(resources(local_json, Network.TF_RESOURCE_TYPE)) == 1
    for name, container in containers(local_json, resources).items():
        (network,) = container["networks_advanced"]
        assert network["name"].startswith("${docker_network."), name
        assert container["privileged"] is False, name
        assert container["capabilities"]["drop"] == ["ALL"], name
        assert "no-new-privileges:true" in container["security_opts"], name
        assert container["user"] and container["user"] not in ("root", "0"), name


def test_api_and_worker_receive_the_contract_as_environment(local_json, resources):
    for service in ("api", "worker"):
        container = next(
            c for c in containers(local_json, resources).values() if c["name"].endswith(f"-{service}")
        )
        env = dict(item.split("=", 1) for item in container["env"])
        assert {name.upper() for name in CONTRACT_OUTPUTS} <= env.keys()
        # In-network addresses: containers reach services by alias, not the host's loopback.
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert "@redis:6379/" in env["REDIS_URL"]
        assert env["QDRANT_URL"] == "http://qdrant:6333"
        assert env["LOG_LEVEL"] == "info"


def test_api_and_worker_image_and_command_come_from_config():
    document = synth(
        environment_with(worker={"image": "ghcr.io/acme/worker:1.2.3", "command": ["node", "worker.js"]})
    )
    assert Testing.to_have_resource_with_properties(
        document, Image.TF_RESOURCE_TYPE, {"name": "ghcr.io/acme/worker:1.2.3"}
    )
    assert Testing.to_have_resource_with_properties(
        document,
        Container.TF_RESOURCE_TYPE,
        {"name": "infrakit-local-worker", "command": ["node", "worker.js"]},
    )


def test_contract_outputs_exist_and_secret_bearing_ones_are_sensitive(local_json):
    outputs = local_json["output"]
    assert set(outputs) == CONTRACT_OUTPUTS
    for name, output in outputs.items():
        assert output["sensitive"] is (name in SENSITIVE), name
    assert outputs["database_url"]["value"].startswith("postgresql://app:${random_password.")
    assert "@127.0.0.1:5432/" in outputs["database_url"]["value"]


def test_generated_secrets_are_references_never_values(local_synth, local_json, resources):
    passwords = resources(local_json, Password.TF_RESOURCE_TYPE)
    assert len(passwords) == 4  # postgres, redis, qdrant, neo4j
    for env_item in (e for c in containers(local_json, resources).values() for e in c.get("env", [])):
        name, value = env_item.split("=", 1)
        if re.search(r"PASSWORD|API_KEY|_URL$", name) and name not in ("QDRANT_URL", "API_URL"):
            assert "${random_password." in value, name


def test_an_env_referenced_secret_becomes_a_sensitive_variable():
    document = json.loads(synth(environment_with(database={"password": {"env": "TF_VAR_db_password"}})))
    assert document["variable"]["db_password"] == {
        "description": "Postgres password",
        "nullable": False,
        "sensitive": True,
        "type": "string",
    }
    assert "${var.db_password}" in document["output"]["database_url"]["value"]


def test_provider_sources_are_fully_qualified(local_json):
    providers = local_json["terraform"]["required_providers"]
    assert set(providers) == {"docker", "random"}
    for name, provider in providers.items():
        assert re.match(r"^[a-z0-9-]+/[a-z0-9-]+$", provider["source"]), name
        assert re.match(r"^\d+\.\d+\.\d+$", provider["version"]), name
