"""Where the bootstrap finds each service: the stack's outputs, overridden by environment variables.

Outputs come from `terraform output -json` in the stack's working directory
(cdktf.out/stacks/<env>), which `cdktf deploy` initialised. Environment variables named like the
outputs in upper case (DATABASE_URL, ...) win; they cover bring-your-own endpoints and runs where
there is no state.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from infrakit.bootstrap.redaction import redact, url_secrets

OUTPUT_NAMES = (
    "database_url",
    "database_migration_url",
    "redis_url",
    "qdrant_url",
    "qdrant_api_key",
    "supabase_url",
    # Supabase's secret key (sb_secret_...), for the auth admin API; the publishable key is not read.
    "supabase_secret_key",
    # Where [graph] is present: Neo4j's Bolt URI (neo4j:// or neo4j+s://), user and password.
    "neo4j_uri",
    "neo4j_username",
    "neo4j_password",
)

OutputsReader = Callable[[str, Path, Mapping[str, str]], dict[str, str]]


class EndpointsError(Exception):
    """The stack's outputs could not be read and no environment variable replaces them."""


@dataclass(frozen=True)
class Endpoints:
    database_url: str | None = None
    database_migration_url: str | None = None  # where one exists, e.g. Supabase's session pooler
    redis_url: str | None = None
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    supabase_url: str | None = None
    supabase_secret_key: str | None = None
    neo4j_uri: str | None = None
    neo4j_username: str | None = None
    neo4j_password: str | None = None
    # name -> where the value came from, e.g. "stack output" or "$DATABASE_URL"
    sources: Mapping[str, str] = field(default_factory=dict)

    def secrets(self) -> list[str]:
        """Every secret value here, for redaction: keys, and each spelling of the passwords in URLs."""
        found = [self.qdrant_api_key, self.supabase_secret_key, self.neo4j_password]
        for url in (
            self.database_url,
            self.database_migration_url,
            self.redis_url,
            self.qdrant_url,
            self.supabase_url,
            self.neo4j_uri,
        ):
            found += url_secrets(url)
        return [s for s in found if s]

    def present(self) -> list[str]:
        return [f.name for f in fields(self) if f.name in OUTPUT_NAMES and getattr(self, f.name)]


def load_endpoints(
    env_name: str,
    *,
    project_root: Path,
    environ: Mapping[str, str] = os.environ,
    read_outputs: OutputsReader | None = None,
) -> Endpoints:
    """Outputs of the deployed stack, each overridden by its upper-case environment variable."""
    overrides = {name: environ[name.upper()] for name in OUTPUT_NAMES if environ.get(name.upper())}
    outputs: dict[str, str] = {}
    if set(overrides) != set(OUTPUT_NAMES):
        outputs = (read_outputs or terraform_outputs)(env_name, project_root, environ)
    values = {name: overrides.get(name, outputs.get(name)) for name in OUTPUT_NAMES}
    sources = {
        name: f"${name.upper()}" if name in overrides else "stack output"
        for name, value in values.items()
        if value
    }
    return Endpoints(**values, sources=sources)


def terraform_outputs(env_name: str, project_root: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The stack's outputs, sensitive ones included; {} when there is no deployed state to read."""
    outputs = stack_outputs(env_name, project_root, environ)
    return {name: output.value for name, output in outputs.items() if name in OUTPUT_NAMES}


@dataclass(frozen=True)
class StackOutput:
    value: str
    sensitive: bool


def stack_outputs(stack_name: str, project_root: Path, environ: Mapping[str, str]) -> dict[str, StackOutput]:
    """Every output of a deployed stack, from `terraform output -json` in cdktf.out/stacks/<stack>;
    {} when that stack was never deployed from here."""
    stack_dir = project_root / "cdktf.out" / "stacks" / stack_name
    if not (stack_dir / ".terraform").is_dir():
        return {}  # never initialised here: nothing was deployed from this checkout
    if _local_state_is_empty(stack_dir):
        return {}  # initialised, but never applied (or destroyed since): nothing to read
    binary = environ.get("TERRAFORM_BINARY_NAME", "terraform")
    if shutil.which(binary, path=environ.get("PATH")) is None:
        raise EndpointsError(
            f"{binary} is not on PATH, and it is needed to read the outputs of the deployed stack "
            f"'{stack_name}' (cdktf.out/stacks/{stack_name})\n"
            "  fix: install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install), or "
            "OpenTofu >= 1.10 with TERRAFORM_BINARY_NAME=tofu; or set the endpoints yourself "
            f"({', '.join(name.upper() for name in OUTPUT_NAMES)})"
        )
    try:
        result = subprocess.run(
            [binary, "output", "-json"],
            cwd=stack_dir,
            capture_output=True,
            text=True,
            timeout=120,
            env={**environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise EndpointsError(f"could not run `{binary} output -json` in {stack_dir}: {error}") from None
    if result.returncode != 0:
        raise EndpointsError(
            f"`{binary} output -json` failed in {stack_dir}: {redact(result.stderr.strip())[:500]}"
        )
    try:
        parsed = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        raise EndpointsError(f"`{binary} output -json` in {stack_dir} did not print JSON") from None
    return {
        name: StackOutput(value=str(item["value"]), sensitive=bool(item.get("sensitive")))
        for name, item in parsed.items()
    }


def _local_state_is_empty(stack_dir: Path) -> bool:
    """True when the stack keeps its state in a local file (the `local` environment) and that file
    is missing or holds no outputs: a `.terraform/` left by an init or a destroy, with nothing
    deployed. Remote state (S3) cannot be read without Terraform: False."""
    try:
        document = json.loads((stack_dir / "cdk.tf.json").read_text())
        local = document["terraform"]["backend"]["local"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    state_file = stack_dir / str(local.get("path") or "terraform.tfstate")
    try:
        state = json.loads(state_file.read_text())
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False
    return not (isinstance(state, dict) and state.get("outputs"))
