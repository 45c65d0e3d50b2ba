"""Deploy prerequisites are detected, and each missing one says how to get it."""

from __future__ import annotations

import socket
import tempfile
import threading
from pathlib import Path

import pytest

from infrakit.preflight import deploy_prerequisites, docker_daemon_problem


def which_only(*present: str):
    return lambda name: f"/usr/bin/{name}" if name in present else None


TERRAFORM_ONLY = which_only("terraform")


@pytest.fixture
def project_with_cli(tmp_path: Path) -> Path:
    cli = tmp_path / "node_modules" / ".bin" / "cdktf"
    cli.parent.mkdir(parents=True)
    cli.touch()
    return tmp_path


def check(environment, project, *, environ=None, which=TERRAFORM_ONLY, docker=None):
    return deploy_prerequisites(
        environment,
        project_root=project,
        environ=environ or {},
        which=which,
        docker_reachable=lambda host: docker,
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
    assert "cdktf CLI" in missing.what and "scripts/setup.sh" in missing.fix


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
