"""Deploy prerequisites are detected, and each missing one says how to get it."""

from __future__ import annotations

import socket
import tempfile
import threading
from pathlib import Path

import pytest

from infrakit.config.loader import load_environment
from infrakit.preflight import deploy_prerequisites, docker_daemon_problem
from tests.conftest import ENVIRONMENTS, environment_with


def which_only(*present: str):
    return lambda name: f"/usr/bin/{name}" if name in present else None


TERRAFORM_ONLY = which_only("terraform")


@pytest.fixture
def project_with_cli(tmp_path: Path) -> Path:
    cli = tmp_path / "node_modules" / ".bin" / "cdktf"
    cli.parent.mkdir(parents=True)
    cli.touch()
    return tmp_path


def check(
    environment, project, *, environ=None, which=TERRAFORM_ONLY, docker=None, version=(1, 11), home=None
):
    return deploy_prerequisites(
        environment,
        project_root=project,
        environ=environ or {},
        which=which,
        docker_reachable=lambda host: docker,
        terraform_version=lambda binary: version,
        home=home or project,
    )


def test_nothing_missing_when_terraform_cli_and_docker_are_there(local_environment, project_with_cli):
    assert check(local_environment, project_with_cli) == []


def test_missing_terraform_says_how_to_install_it(local_environment, project_with_cli):
    (missing,) = check(local_environment, project_with_cli, which=which_only())
    assert missing.what == "terraform is not on PATH"
    assert "install Terraform >= 1.10" in missing.fix and "OpenTofu" in missing.fix


def test_tofu_without_terraform_binary_name_is_pointed_out(local_environment, project_with_cli):
    (missing,) = check(local_environment, project_with_cli, which=which_only("tofu"))
    assert "export TERRAFORM_BINARY_NAME=tofu" in missing.fix
    assert (
        check(
            local_environment,
            project_with_cli,
            which=which_only("tofu"),
            environ={"TERRAFORM_BINARY_NAME": "tofu"},
        )
        == []
    )


def test_unreachable_docker_names_the_host_and_the_fix(local_environment, project_with_cli):
    (missing,) = check(
        local_environment,
        project_with_cli,
        environ={"DOCKER_HOST": "tcp://127.0.0.1:1"},
        docker="connection refused",
    )
    assert missing.what == "Docker engine not reachable at tcp://127.0.0.1:1 (connection refused)"
    assert "start Docker" in missing.fix


def test_missing_cdktf_cli_points_at_setup(local_environment, tmp_path):
    (missing,) = check(local_environment, tmp_path)
    assert "cdktf command" in missing.what and "scripts/setup.sh" in missing.fix


def test_all_missing_prerequisites_are_reported_together(local_environment, tmp_path):
    assert len(check(local_environment, tmp_path, which=which_only(), docker="no such socket")) == 3


def test_docker_ping_against_a_unix_socket_stand_in():
    """A tiny Unix-socket server stands in for the Docker engine's /_ping endpoint."""
    with tempfile.TemporaryDirectory() as directory:
        path = f"{directory}/docker.sock"
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(1)

        def answer() -> None:
            connection, _ = server.accept()
            with connection:
                connection.recv(1024)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        try:
            assert docker_daemon_problem(f"unix://{path}") is None
        finally:
            thread.join(timeout=5)
            server.close()
        assert docker_daemon_problem(f"unix://{directory}/absent.sock") == "no such socket"


def test_terraform_older_than_1_10_is_reported(local_environment, project_with_cli):
    (missing,) = check(local_environment, project_with_cli, version=(1, 9))
    assert missing.what.startswith("terraform 1.9 is too old")


def test_cloud_deploy_names_every_missing_credential_variable(project_with_cli):
    prod = load_environment(ENVIRONMENTS / "prod.toml")
    missing = check(prod, project_with_cli)
    text = "\n".join(m.what for m in missing)
    assert "AWS credentials" in text
    assert "SUPABASE_ACCESS_TOKEN is not set" in text
    assert "QDRANT_CLOUD_API_KEY is not set" in text
    assert "QDRANT_CLOUD_ACCOUNT_ID is not set" in text
    assert "TF_VAR_neo4j_aura_client_id is not set (the Neo4j Aura provider needs it)" in text
    assert "TF_VAR_neo4j_aura_client_secret is not set (the Neo4j Aura provider needs it)" in text
    assert "Docker" not in text, "prod runs nothing on Docker"
    ready = {
        "AWS_PROFILE": "ops",
        "SUPABASE_ACCESS_TOKEN": "x",
        "QDRANT_CLOUD_API_KEY": "x",
        "QDRANT_CLOUD_ACCOUNT_ID": "x",
        "TF_VAR_neo4j_aura_client_id": "x",
        "TF_VAR_neo4j_aura_client_secret": "x",
    }
    # With credentials set, only the shipped example values remain (tests/test_placeholders.py).
    remaining = check(prod, project_with_cli, environ=ready)
    assert remaining and all("is still the example value" in m.what for m in remaining)


def test_referenced_tf_var_secrets_must_be_set(project_with_cli):
    environment = environment_with(database={"password": {"env": "TF_VAR_db_password"}})
    (missing,) = check(environment, project_with_cli)
    assert missing.what == "TF_VAR_db_password is not set (local.toml: database.password refers to it)"
    assert check(environment, project_with_cli, environ={"TF_VAR_db_password": "s"}) == []
