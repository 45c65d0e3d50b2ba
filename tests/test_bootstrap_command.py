"""`python -m infrakit bootstrap`, end to end: real PostgreSQL and Redis, and the Qdrant stand-in.

No Qdrant server exists here; tests/standins/qdrant.py serves the endpoints we call. Each run
starts in an empty directory of its own, so the project's own cdktf.out (a leftover `.terraform/`,
a deployed stack) never changes what a test sees.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import ENDPOINT_VARIABLES, ENVIRONMENTS, PYTHON, ROOT
from tests.servers import PASSWORD, REDIS_PASSWORD
from tests.standins.neo4j import Neo4jStandIn
from tests.standins.qdrant import QdrantStandIn

QDRANT_KEY = "bootstrap-test-qdrant-key"
NEO4J_PASSWORD = "bootstrap-test-neo4j-password"  # checkov:skip=CKV_SECRET_6: test value


def run_bootstrap(
    cwd: Path, *args: str, env: dict[str, str] | None = None, **endpoints: str
) -> subprocess.CompletedProcess[str]:
    """`infrakit bootstrap --env local` in `cwd`, with only the endpoint variables given."""
    environ = {k: v for k, v in (env or os.environ).items() if k not in ENDPOINT_VARIABLES}
    return subprocess.run(
        [
            PYTHON,
            "-m",
            "infrakit",
            "--environments-dir",
            str(ENVIRONMENTS),
            "bootstrap",
            "--env",
            "local",
            "--migrations-dir",
            str(ROOT / "supabase" / "migrations"),
            *args,
        ],
        cwd=cwd,
        env={**environ, **endpoints, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def bootstrap(
    database_url: str, redis_url: str, qdrant_url: str, *args: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    # local has [graph]: its Neo4j is a stand-in that lives as long as the bootstrap.
    with Neo4jStandIn(password=NEO4J_PASSWORD) as neo4j_server:
        return run_bootstrap(
            cwd,
            *args,
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            QDRANT_URL=qdrant_url,
            QDRANT_API_KEY=QDRANT_KEY,
            NEO4J_URI=neo4j_server.bolt_url,
            NEO4J_USERNAME="neo4j",
            NEO4J_PASSWORD=NEO4J_PASSWORD,
        )


def test_bootstrap_applies_creates_validates_and_a_rerun_changes_nothing(database_url, redis, tmp_path):
    with QdrantStandIn(api_key=QDRANT_KEY) as qdrant:
        first = bootstrap(database_url, redis.url(), qdrant.url, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert "migrations: 2 applied" in first.stderr
        assert "collection documents: created" in first.stderr
        created = [r for r in qdrant.requests if r.method == "PUT" and r.path == "/collections/documents"]
        assert len(created) == 1
        assert created[0].body["hnsw_config"] == {"m": 16, "ef_construct": 100}

        again = bootstrap(database_url, redis.url(), qdrant.url, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert "migrations: up to date" in again.stderr
        assert "collection documents: ok" in again.stderr
        assert (
            len([r for r in qdrant.requests if r.method == "PUT" and r.path == "/collections/documents"]) == 1
        )
    for output in (first, again):
        for secret in (PASSWORD, REDIS_PASSWORD, QDRANT_KEY):
            assert secret not in output.stdout + output.stderr


def test_bootstrap_stops_at_the_first_failing_step(postgres, redis, tmp_path):
    wrong = postgres.url(password="not-the-password")  # checkov:skip=CKV_SECRET_6: test value
    with QdrantStandIn(api_key=QDRANT_KEY) as qdrant:
        result = bootstrap(wrong, redis.url(), qdrant.url, cwd=tmp_path)
        assert result.returncode == 1
        assert "not-the-password" not in result.stderr
        assert "password authentication failed" in result.stderr or "rejected" in result.stderr
        assert qdrant.requests == [], "collections never ran after migrations failed"


def test_bootstrap_if_deployed_does_nothing_without_endpoints(tmp_path):
    result = run_bootstrap(tmp_path, "--if-deployed")
    assert result.returncode == 0
    assert "post-apply: 'local' has no endpoints yet" in result.stderr


def leftover_terraform_dir(project: Path, outputs: dict[str, object] | None) -> None:
    """cdktf.out/stacks/local as a deploy, a destroy or an init leaves it: `.terraform/`, the stack's
    local backend, and (`outputs` given) the state file it points at."""
    stack = project / "cdktf.out" / "stacks" / "local"
    (stack / ".terraform").mkdir(parents=True)
    backend = {"terraform": {"backend": {"local": {"path": "../../../terraform.local.tfstate"}}}}
    (stack / "cdk.tf.json").write_text(json.dumps(backend))
    if outputs is not None:
        state = {"version": 4, "outputs": {k: {"value": v, "type": "string"} for k, v in outputs.items()}}
        (project / "terraform.local.tfstate").write_text(json.dumps(state))


def path_without_terraform() -> dict[str, str]:
    """PATH with python's directory only: no terraform, wherever this machine keeps one."""
    return {**os.environ, "PATH": str(Path(PYTHON).parent)}


def test_a_leftover_terraform_dir_with_nothing_deployed_is_skipped_without_terraform(tmp_path):
    """What scripts/setup.sh --skip-deploy runs after an init or a destroy, on a machine without
    terraform. It cannot prove anything about remote (S3) state, which only Terraform can read."""
    leftover_terraform_dir(tmp_path, outputs=None)
    result = run_bootstrap(tmp_path, "--if-deployed", env=path_without_terraform())
    assert result.returncode == 0, result.stderr
    assert "post-apply: 'local' has no endpoints yet" in result.stderr
    assert "Errno" not in result.stderr


def test_a_deployed_stack_without_terraform_names_terraform_and_how_to_get_it(tmp_path):
    leftover_terraform_dir(tmp_path, outputs={"database_url": "postgresql://u:p@127.0.0.1:1/db"})
    result = run_bootstrap(tmp_path, "--if-deployed", env=path_without_terraform())
    assert result.returncode == 1, result.stderr
    assert "Errno" not in result.stderr and "Traceback" not in result.stderr
    assert "terraform is not on PATH" in result.stderr
    assert "install Terraform >= 1.10" in result.stderr
