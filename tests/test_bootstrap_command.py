"""`python -m infrakit bootstrap`, end to end: real PostgreSQL and Redis, and the Qdrant stand-in.

No Qdrant server exists here; tests/standins/qdrant.py serves the endpoints we call.
"""

from __future__ import annotations

import os
import subprocess

from tests.conftest import PYTHON, ROOT
from tests.servers import PASSWORD, REDIS_PASSWORD
from tests.standins.qdrant import QdrantStandIn

QDRANT_KEY = "bootstrap-test-qdrant-key"


def bootstrap(
    database_url: str, redis_url: str, qdrant_url: str, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "QDRANT_URL": qdrant_url,
        "QDRANT_API_KEY": QDRANT_KEY,
    }
    return subprocess.run(
        [PYTHON, "-m", "infrakit", "bootstrap", "--env", "local", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bootstrap_applies_creates_validates_and_a_rerun_changes_nothing(database_url, redis):
    with QdrantStandIn(api_key=QDRANT_KEY) as qdrant:
        first = bootstrap(database_url, redis.url(), qdrant.url)
        assert first.returncode == 0, first.stderr
        assert "migrations: 2 applied" in first.stderr
        assert "collection documents: created" in first.stderr
        created = [r for r in qdrant.requests if r.method == "PUT" and r.path == "/collections/documents"]
        assert len(created) == 1
        assert created[0].body["hnsw_config"] == {"m": 16, "ef_construct": 100}

        again = bootstrap(database_url, redis.url(), qdrant.url)
        assert again.returncode == 0, again.stderr
        assert "migrations: up to date" in again.stderr
        assert "collection documents: ok" in again.stderr
        assert (
            len([r for r in qdrant.requests if r.method == "PUT" and r.path == "/collections/documents"]) == 1
        )
    for output in (first, again):
        for secret in (PASSWORD, REDIS_PASSWORD, QDRANT_KEY):
            assert secret not in output.stdout + output.stderr


def test_bootstrap_stops_at_the_first_failing_step(postgres, redis):
    wrong = postgres.url(password="not-the-password")  # checkov:skip=CKV_SECRET_6: test value
    with QdrantStandIn(api_key=QDRANT_KEY) as qdrant:
        result = bootstrap(wrong, redis.url(), qdrant.url)
        assert result.returncode == 1
        assert "not-the-password" not in result.stderr
        assert "password authentication failed" in result.stderr or "rejected" in result.stderr
        assert qdrant.requests == [], "collections never ran after migrations failed"


def test_bootstrap_if_deployed_does_nothing_without_endpoints():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "QDRANT_URL")}
    result = subprocess.run(
        [PYTHON, "-m", "infrakit", "bootstrap", "--env", "local", "--if-deployed"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "post-apply: 'local' has no endpoints yet" in result.stderr
