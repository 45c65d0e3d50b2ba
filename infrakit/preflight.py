"""What `cdktf deploy <env>` needs, checked before it starts, with how to get each thing."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from infrakit.config import Environment

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


@dataclass(frozen=True)
class Missing:
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.what}\n      fix: {self.fix}"


def deploy_prerequisites(
    environment: Environment,
    *,
    project_root: Path,
    environ: Mapping[str, str] = os.environ,
    which: Callable[[str], str | None] = shutil.which,
    docker_reachable: Callable[[str], str | None] | None = None,
) -> list[Missing]:
    """Everything missing for a deploy of this environment; empty when it can start."""
    missing = [m for m in (_terraform(environ, which), _cdktf_cli(project_root)) if m is not None]
    if _uses_docker(environment):
        host = environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
        problem = (docker_reachable or docker_daemon_problem)(host)
        if problem:
            missing.append(
                Missing(
                    f"Docker engine not reachable at {host} ({problem})",
                    "start Docker (e.g. `sudo systemctl start docker`, or open Docker Desktop), "
                    "or point DOCKER_HOST at a running engine",
                )
            )
    return missing


def _terraform(environ: Mapping[str, str], which: Callable[[str], str | None]) -> Missing | None:
    wanted = environ.get("TERRAFORM_BINARY_NAME", "terraform")
    if which(wanted):
        return None
    if wanted == "terraform" and which("tofu"):
        return Missing(
            "terraform is not on PATH, but OpenTofu (tofu) is",
            "export TERRAFORM_BINARY_NAME=tofu so that cdktf uses it",
        )
    return Missing(
        f"{wanted} is not on PATH (TERRAFORM_BINARY_NAME={wanted})"
        if wanted != "terraform"
        else "terraform is not on PATH",
        "install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install) or "
        "OpenTofu >= 1.10 with TERRAFORM_BINARY_NAME=tofu",
    )


def _cdktf_cli(project_root: Path) -> Missing | None:
    if (project_root / "node_modules" / ".bin" / "cdktf").exists():
        return None
    return Missing("the cdktf CLI is not installed", "run scripts/setup.sh (it runs npm ci)")


def _uses_docker(environment: Environment) -> bool:
    config = environment.config
    services = (config.database, config.cache, config.vector_store, config.api, config.worker)
    return any(service.backend == "docker" for service in services)


def docker_daemon_problem(host: str, timeout: float = 2.0) -> str | None:
    """None when the Docker engine answers /_ping at host; otherwise what went wrong."""
    url = urlparse(host)
    try:
        if url.scheme == "unix":
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(url.path)
                return _ping(sock)
        if url.scheme == "tcp":
            with socket.create_connection((url.hostname, url.port or 2375), timeout) as sock:
                return None if os.environ.get("DOCKER_TLS_VERIFY") else _ping(sock)
    except FileNotFoundError:
        return "no such socket"
    except OSError as error:
        return error.strerror or type(error).__name__
    return None  # ssh:// and others: the provider will report its own errors


def _ping(sock: socket.socket) -> str | None:
    sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
    status = sock.recv(64).split(b"\r\n", 1)[0]
    return None if b" 200 " in status + b" " else f"unexpected answer: {status.decode(errors='replace')}"
