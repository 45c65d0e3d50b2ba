"""What `cdktf deploy <env>` needs, checked before it starts, with how to get each thing."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from infrakit.config import Environment, SecretRef
from infrakit.config.neo4j_aura import CLIENT_ID_VARIABLE, CLIENT_SECRET_VARIABLE
from infrakit.placeholders import find_placeholders

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
MINIMUM_TERRAFORM = (1, 10)

AWS_CREDENTIAL_SOURCES = (
    ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    ("AWS_PROFILE",),
    ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"),
    ("AWS_CONTAINER_CREDENTIALS_FULL_URI",),
    ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",),
)


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
    terraform_version: Callable[[str], tuple[int, int] | None] | None = None,
    home: Path | None = None,
) -> list[Missing]:
    """Everything missing for a deploy of this environment; empty when it can start."""
    version_of = terraform_version or installed_terraform_version
    missing = [m for m in (_terraform(environ, which, version_of), _cdktf_cli(project_root)) if m is not None]
    missing += _placeholders(environment)
    missing += _cloud_credentials(environment, environ, home or Path.home())
    missing += _referenced_secrets(environment, environ)
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


def _terraform(
    environ: Mapping[str, str],
    which: Callable[[str], str | None],
    version_of: Callable[[str], tuple[int, int] | None],
) -> Missing | None:
    wanted = environ.get("TERRAFORM_BINARY_NAME", "terraform")
    binary = which(wanted)
    if binary:
        version = version_of(binary)
        if version is not None and version < MINIMUM_TERRAFORM:
            return Missing(
                f"{wanted} {version[0]}.{version[1]} is too old: stacks require >= 1.10 (S3 native locking)",
                "upgrade Terraform or OpenTofu to 1.10 or newer",
            )
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
    return Missing(
        "the cdktf command (the CDK Terrain CLI) is not installed", "run scripts/setup.sh (it runs npm ci)"
    )


def _placeholders(environment: Environment) -> list[Missing]:
    return [
        Missing(
            f"{environment.file}: {found.key} is still the example value '{found.value}'",
            f"replace it with {found.replace_with}",
        )
        for found in find_placeholders(environment.config)
    ]


def _uses_docker(environment: Environment) -> bool:
    return any(service.backend == "docker" for service in environment.config.services.values())


def _cloud_credentials(environment: Environment, environ: Mapping[str, str], home: Path) -> list[Missing]:
    """Provider credentials, checked by name only: values are never read or printed."""
    config = environment.config
    missing = []
    if config.uses_aws or config.state is not None:
        sources = [names for names in AWS_CREDENTIAL_SOURCES if all(environ.get(n) for n in names)]
        files = [home / ".aws" / "credentials", home / ".aws" / "config"]
        if not sources and not any(f.exists() for f in files):
            missing.append(
                Missing(
                    "AWS credentials: none of AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
                    "AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or ~/.aws/credentials is set",
                    "run `aws sso login --profile NAME` and export AWS_PROFILE=NAME, or export access keys",
                )
            )
    if config.database.backend == "supabase" and not environ.get("SUPABASE_ACCESS_TOKEN"):
        missing.append(
            Missing(
                "SUPABASE_ACCESS_TOKEN is not set (the Supabase provider needs it)",
                "create a token at Supabase > Account > Access Tokens and export SUPABASE_ACCESS_TOKEN",
            )
        )
    if config.vector_store.backend == "qdrant_cloud":
        for name in ("QDRANT_CLOUD_API_KEY", "QDRANT_CLOUD_ACCOUNT_ID"):
            if not environ.get(name):
                missing.append(
                    Missing(
                        f"{name} is not set (the Qdrant Cloud provider needs it)",
                        f"create a management key in Qdrant Cloud > Access Management and export {name}",
                    )
                )
    if config.graph is not None and config.graph.backend == "aura":
        for name in (CLIENT_ID_VARIABLE, CLIENT_SECRET_VARIABLE):
            if not environ.get(name):
                missing.append(
                    Missing(
                        f"{name} is not set (the Neo4j Aura provider needs it)",
                        "create API credentials in the Aura console (Account details > API credentials) "
                        f"and export {name}",
                    )
                )
    return missing


def _referenced_secrets(environment: Environment, environ: Mapping[str, str]) -> list[Missing]:
    """Every { env = "TF_VAR_x" } in the environment file must be set before apply."""
    missing = []
    for key, ref in sorted(set(_secret_refs(environment.config.model_dump(), ""))):
        if not environ.get(ref):
            missing.append(
                Missing(f"{ref} is not set ({environment.file}: {key} refers to it)", f"export {ref}=...")
            )
    return missing


def _secret_refs(node: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if set(node) == set(SecretRef.model_fields) and isinstance(node.get("env"), str):
            yield path, node["env"]
            return
        for key, value in node.items():
            yield from _secret_refs(value, f"{path}.{key}" if path else str(key))


def installed_terraform_version(binary: str) -> tuple[int, int] | None:
    """(major, minor) from `<binary> version -json`; None when it cannot be read."""
    try:
        result = subprocess.run(
            [binary, "version", "-json"], capture_output=True, text=True, timeout=30, check=False
        )
        version = json.loads(result.stdout).get("terraform_version", "")
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match[1]), int(match[2])) if match else None


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
