"""The local deploy, rehearsed without Docker: see tests/rehearsal/__init__.py for what this proves and
what only a Docker engine can.

The synthesized `local` stack is planned (every string evaluated by `terraform console`), then run in
a private network namespace, one record per check. It needs root for the namespace, or passwordless
sudo (a GitHub runner has it); without either a run skips with the reason, and CI fails instead.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.rehearsal.netns import run_in_private_network, unavailable_reason
from tests.rehearsal.plan import StackPlan, plan_stack
from tests.servers import missing_tools

# The servers and image tools the rehearsal runs (scripts/test-servers.sh installs them).
_missing = missing_tools("initdb", "pg_isready", "redis-server", "redis-cli", "nginx", "busybox", "wget")
_reason = (
    f"needs {', '.join(_missing)}: `sudo apt-get install {' '.join(_missing)}` (scripts/test.sh does)"
    if _missing
    else unavailable_reason()
)
if _reason and os.environ.get("CI"):
    raise RuntimeError(f"the local rehearsal must run in CI, but {_reason}")
pytestmark = pytest.mark.skipif(_reason is not None, reason=f"local rehearsal: {_reason}")

Results = dict[tuple[str, str], dict[str, Any]]

EXPECTED = [
    ("postgres", "healthy while up"),
    ("redis", "healthy while up"),
    ("qdrant", "healthy while up"),
    ("neo4j", "healthy while up"),
    ("api", "healthy while up"),
    ("worker", "healthy while up"),
    ("redis", "runs noeviction with AOF"),
    ("api", "DATABASE_URL connects"),
    ("api", "REDIS_URL connects"),
    ("api", "QDRANT_URL connects"),
    ("api", "API_URL connects"),
    ("api", "NEO4J_URI connects"),
    ("worker", "DATABASE_URL connects"),
    ("worker", "REDIS_URL connects"),
    ("worker", "QDRANT_URL connects"),
    ("worker", "API_URL connects"),
    ("worker", "NEO4J_URI connects"),
    ("stack", "neo4j_uri output connects"),
    ("worker", "command keeps running while Redis answers, without spinning"),
    ("worker", "command stops promptly on SIGTERM"),
    ("stack", "bootstrap from the outputs"),
    ("postgres", "unhealthy once stopped"),
    ("redis", "unhealthy once stopped"),
    ("worker", "unhealthy once Redis is stopped"),
    ("qdrant", "unhealthy once stopped"),
    ("neo4j", "unhealthy once stopped"),
    ("api", "unhealthy once stopped"),
    ("worker", "command fails when Redis is down"),
    ("worker", "command fails when Redis refuses its password"),
    ("worker", "unhealthy when Redis refuses its password"),
]


def rehearse(plan: StackPlan, workdir: Path) -> Results:
    plan_file, results_file = workdir / "plan.json", workdir / "results.json"
    plan_file.write_text(plan.to_json())
    done = run_in_private_network(
        [sys.executable, "-m", "tests.rehearsal.driver", str(plan_file), str(results_file), "--env", "local"],
        aliases=sorted(plan.containers),
        timeout=300,
        cwd=ROOT,
        env=dict(os.environ),
    )
    assert done.returncode == 0, f"the rehearsal itself broke:\n{done.stdout}\n{done.stderr}"
    return {(r["container"], r["check"]): r for r in json.loads(results_file.read_text())}


@pytest.fixture(scope="session")
def local_plan(local_json: dict[str, Any]) -> StackPlan:
    return plan_stack(local_json)


@pytest.fixture(scope="session")
def rehearsal(local_plan: StackPlan, tmp_path_factory: pytest.TempPathFactory) -> Results:
    return rehearse(local_plan, tmp_path_factory.mktemp("rehearsal"))


@pytest.mark.parametrize(("container", "check"), EXPECTED, ids=[f"{c}: {k}" for c, k in EXPECTED])
def test_local_rehearsal(rehearsal: Results, container: str, check: str) -> None:
    result = rehearsal.get((container, check))
    assert result is not None, f"{container}: '{check}' did not run"
    assert result["ok"], f"{container}: {check} failed: {result['detail']}"


def test_no_other_rehearsal_check_failed(rehearsal: Results) -> None:
    """Catches checks this file does not list, such as a container with no stand-in server."""
    failed = {key: r["detail"] for key, r in rehearsal.items() if not r["ok"]}
    assert not failed


def test_healthchecks_fail_within_their_timeout(rehearsal: Results, local_plan: StackPlan) -> None:
    for (container, check), result in rehearsal.items():
        if check.startswith("unhealthy"):
            timeout = local_plan.containers[container].healthcheck.timeout_seconds
            assert result["seconds"] < timeout, (container, check, result)


def test_terraform_resolved_every_string(local_plan: StackPlan) -> None:
    """The strings that run are Terraform's evaluation: no expression is left, and the generated
    password the redis container starts with is the one inside the worker's REDIS_URL."""
    for container in local_plan.containers.values():
        strings = [*(container.command or []), *container.healthcheck.test, *container.environment.values()]
        assert not [s for s in strings if "${" in s], container.alias
    password = local_plan.containers["redis"].environment["REDIS_PASSWORD"]
    assert len(password) == 40
    assert f"default:{password}@redis:6379" in local_plan.containers["worker"].environment["REDIS_URL"]
    assert f"default:{password}@127.0.0.1:" in local_plan.outputs["redis_url"]
    neo4j_password = local_plan.containers["neo4j"].environment["NEO4J_AUTH"].removeprefix("neo4j/")
    assert len(neo4j_password) == 40
    assert local_plan.containers["api"].environment["NEO4J_PASSWORD"] == neo4j_password
    assert local_plan.outputs["neo4j_password"] == neo4j_password


def test_the_rehearsal_catches_the_old_redis_url(local_plan: StackPlan, tmp_path: Path) -> None:
    """The review's bug, planted back: `redis://:PW@` makes redis-cli send AUTH "" PW (refused since
    Redis 6.2), so the worker's healthcheck never passes. The rehearsal must see that."""
    worker = local_plan.containers["worker"]
    old_url = worker.environment["REDIS_URL"].replace("redis://default:", "redis://:")
    assert old_url != worker.environment["REDIS_URL"]
    # Redis and the worker alone: the other servers have nothing to do with this bug.
    planted = replace(
        local_plan,
        containers={
            "redis": local_plan.containers["redis"],
            "worker": replace(worker, environment={**worker.environment, "REDIS_URL": old_url}),
        },
    )
    results = rehearse(planted, tmp_path)
    assert not results[("worker", "healthy while up")]["ok"]
    assert not results[("worker", "REDIS_URL connects")]["ok"]
    assert "redis-cli" in results[("worker", "REDIS_URL connects")]["detail"]
    assert not results[("worker", "command keeps running while Redis answers, without spinning")]["ok"]
    assert results[("redis", "healthy while up")]["ok"]  # only the worker's strings broke
