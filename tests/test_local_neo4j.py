"""The local Neo4j container ([graph] with backend = "docker") holds the properties operators rely on:
the same hardening as every local container, its own user, loopback-only ports, a named volume, the
memory sizes from config, and a password that exists only as a Terraform reference."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infrakit.cdk import Container, Password, Volume
from tests.conftest import environment_with, synth
from tests.standins.neo4j import Neo4jStandIn

NAME = "infrakit-local-neo4j"


def container(document: dict[str, Any], name: str = NAME) -> dict[str, Any]:
    (found,) = [c for c in document["resource"][Container.TF_RESOURCE_TYPE].values() if c["name"] == name]
    return found


def environment(document: dict[str, Any], name: str) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in container(document, name)["env"])


def test_neo4j_is_hardened_and_limited_like_every_local_container(local_json):
    """Cannot prove: that Docker enforces these (no engine here)."""
    neo4j, postgres = container(local_json), container(local_json, "infrakit-local-postgres")
    assert (neo4j["memory"], neo4j["memory_swap"], neo4j["cpus"]) == (1536, 1536, "1.0")
    assert neo4j["privileged"] is False
    assert neo4j["capabilities"] == {"drop": ["ALL"]}
    assert neo4j["security_opts"] == ["no-new-privileges:true"]
    assert (neo4j["log_driver"], neo4j["log_opts"]) == ("json-file", {"max-size": "10m", "max-file": "3"})
    assert (neo4j["restart"], neo4j["wait"]) == ("unless-stopped", True)
    assert neo4j["labels"] == postgres["labels"]
    assert neo4j["networks_advanced"][0]["aliases"] == ["neo4j"]


def test_neo4j_runs_as_the_images_own_user_not_root(local_json):
    """uid and gid 7474 are the image's `neo4j` user (docker-neo4j's Dockerfile). Cannot prove: that
    the pinned image still creates that user with that id; only a pull of the image shows it."""
    assert container(local_json)["user"] == "7474:7474"


def test_bolt_and_http_are_published_on_loopback_only_at_the_configured_host_ports():
    """Cannot prove: that nothing else on the host already listens on those ports."""
    document = json.loads(synth(environment_with(graph={"bolt_host_port": 17687, "http_host_port": 17474})))
    assert container(document)["ports"] == [
        {"internal": 7687, "external": 17687, "ip": "127.0.0.1"},
        {"internal": 7474, "external": 17474, "ip": "127.0.0.1"},
    ]
    # The operator dials the published Bolt port; api and worker dial the network alias.
    assert document["output"]["neo4j_uri"]["value"] == "neo4j://127.0.0.1:17687"
    assert environment(document, "infrakit-local-api")["NEO4J_URI"] == "neo4j://neo4j:7687"


def test_the_database_lives_in_a_named_volume(local_json):
    """Cannot prove: that Docker copies the image's ownership of /data into the new volume."""
    (mount,) = container(local_json)["volumes"]
    assert mount["container_path"] == "/data"
    volume_id = mount["volume_name"].removeprefix("${docker_volume.").removesuffix(".name}")
    assert local_json["resource"][Volume.TF_RESOURCE_TYPE][volume_id]["name"] == f"{NAME}-data"


def test_heap_and_page_cache_come_from_config():
    """Cannot prove: that the image's entrypoint still maps these variables to neo4j.conf."""
    document = json.loads(
        synth(environment_with(graph={"memory_mb": 4096, "heap_mb": 1024, "page_cache_mb": 2048}))
    )
    env = environment(document, NAME)
    assert env["NEO4J_server_memory_heap_initial__size"] == "1024m"
    assert env["NEO4J_server_memory_heap_max__size"] == "1024m"
    assert env["NEO4J_server_memory_pagecache_size"] == "2048m"
    assert container(document)["memory"] == 4096


def test_the_password_is_generated_and_only_ever_a_sensitive_reference(local_json, resources):
    """Cannot prove: the random provider's generator itself."""
    env = environment(local_json, NAME)
    user, _, reference = env["NEO4J_AUTH"].partition("/")
    assert user == "neo4j"
    password_id = reference.removeprefix("${random_password.").removesuffix(".result}")
    settings = resources(local_json, Password.TF_RESOURCE_TYPE)[password_id]
    # Alphanumeric: the image's entrypoint splits NEO4J_AUTH at "/".
    assert (settings["length"], settings["special"]) == (40, False)
    outputs = local_json["output"]
    assert outputs["neo4j_password"] == {"sensitive": True, "value": reference}
    assert outputs["neo4j_username"] == {"sensitive": False, "value": "neo4j"}
    assert outputs["neo4j_uri"]["sensitive"] is False
    assert "random_password" not in outputs["neo4j_uri"]["value"]
    for service in ("api", "worker"):
        assert environment(local_json, f"infrakit-local-{service}")["NEO4J_PASSWORD"] == reference
    # The healthcheck's arguments, visible in `ps` on the host, carry no credential.
    assert not any("random_password" in word for word in container(local_json)["healthcheck"]["test"])


# ----------------------------------------------------------------------------- the healthcheck, run

WGETS = {"GNU wget (the image's)": "wget", "busybox wget": "busybox"}


def run_healthcheck(
    test: list[str], http_port: int, wget: str, tools: Path
) -> subprocess.CompletedProcess[str]:
    """The healthcheck's own words, with the one `wget` first on PATH, aimed at http_port."""
    kind, *argv = test
    assert kind == "CMD"
    found = shutil.which(wget)
    assert found, f"{wget} is not installed"
    (tools / "wget").unlink(missing_ok=True)
    (tools / "wget").symlink_to(found)  # busybox runs as the applet its name says
    argv = [word.replace("127.0.0.1:7474/", f"127.0.0.1:{http_port}/") for word in argv]
    return subprocess.run(
        argv,
        env={"PATH": f"{tools}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=5,  # the container's healthcheck timeout
        check=False,
    )


@pytest.mark.parametrize("wget", WGETS.values(), ids=WGETS.keys())
def test_the_healthcheck_passes_while_neo4j_answers_and_fails_once_it_is_down(local_json, tmp_path, wget):
    """Cannot prove: what a real Neo4j answers on GET / (the stand-in serves the discovery document
    Neo4j 5 serves), nor that the answer means the default database is online."""
    if not shutil.which(wget):
        pytest.skip(f"{wget} is not installed: apt-get install {wget}")
    test = container(local_json)["healthcheck"]["test"]
    assert test[1] == "wget"  # the image ships wget, not curl
    with Neo4jStandIn(http_port=0) as neo4j:
        port = neo4j.http_port
        assert port is not None
        up = run_healthcheck(test, port, wget, tmp_path)
    down = run_healthcheck(test, port, wget, tmp_path)
    assert up.returncode == 0, up.stderr
    assert down.returncode != 0
