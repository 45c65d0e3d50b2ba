"""After a cloud deploy, Redis is reported as skipped, not failed: ElastiCache has no public endpoint,
so a check from the operator's machine could only wait out the deadline and fail (which made every
`scripts/setup.sh dev` end with exit 1). Asked for by name, or given as REDIS_URL, it is checked."""

from __future__ import annotations

import json
import time

from infrakit.bootstrap.endpoints import Endpoints
from infrakit.bootstrap.validate import Skipped, Timing, planned_checks, run_checks, to_json
from infrakit.config.loader import load_environment
from tests.conftest import ENVIRONMENTS
from tests.servers import free_port

ELASTICACHE = "rediss://default:token-from-state@127.0.0.1:{port}/0"  # checkov:skip=CKV_SECRET_4: test value


def dev_endpoints(source: str) -> Endpoints:
    # Nothing listens on this port: a check that runs fails; one that is skipped returns at once.
    return Endpoints(redis_url=ELASTICACHE.format(port=free_port()), sources={"redis_url": source})


def test_elasticache_from_the_stack_output_is_skipped_at_once_with_how_to_check_it() -> None:
    dev = load_environment(ENVIRONMENTS / "dev.toml")
    plan = planned_checks(dev, dev_endpoints("stack output"), timeout=5)
    assert isinstance(plan["redis"], Skipped)
    started = time.monotonic()
    results = run_checks(plan, Timing(attempt_timeout=5, deadline=30), secrets=[])
    assert time.monotonic() - started < 2
    (redis,) = [r for r in results if r.service == "redis"]
    assert redis.ok and redis.skipped
    assert "reachable only inside the VPC" in redis.detail
    assert "validate --env dev --service redis" in redis.detail
    report = json.loads(to_json("dev", [redis]))
    assert report["ok"] is True and report["checks"][0]["skipped"] is True


def test_asked_for_by_name_it_is_checked() -> None:
    dev = load_environment(ENVIRONMENTS / "dev.toml")
    plan = planned_checks(dev, dev_endpoints("stack output"), timeout=1, only=["redis"])
    (redis,) = run_checks(plan, Timing(attempt_timeout=1, deadline=2), secrets=[])
    assert not redis.ok and not redis.skipped


def test_a_redis_url_given_by_the_operator_is_checked() -> None:
    dev = load_environment(ENVIRONMENTS / "dev.toml")
    plan = planned_checks(dev, dev_endpoints("$REDIS_URL"), timeout=1)
    assert not isinstance(plan["redis"], Skipped)


def test_local_redis_is_always_checked() -> None:
    local = load_environment(ENVIRONMENTS / "local.toml")
    endpoints = Endpoints(
        # checkov:skip=CKV_SECRET_4: test value
        redis_url="redis://default:pw@127.0.0.1:6379/0",
        sources={"redis_url": "stack output"},
    )
    assert not isinstance(planned_checks(local, endpoints, timeout=1)["redis"], Skipped)
