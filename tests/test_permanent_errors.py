"""`validate` stops at once on an error that no retry can fix, and shows each retry of one that may.

Permanent: a database that does not exist, rejected credentials, a URL scheme the client cannot
speak. Transient: a refused connection or a timeout (a service still starting), and a host name
that does not resolve (DNS may lag right after a deploy). Against the real PostgreSQL and Redis
servers the suite starts, and the Qdrant stand-in. What this cannot prove: how a managed
service words its errors (Supabase's pooler, ElastiCache), which the classification reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infrakit import cli
from tests.conftest import ENVIRONMENTS
from tests.servers import free_port
from tests.standins.qdrant import QdrantStandIn

QDRANT_KEY = "permanent-errors-qdrant-key"  # checkov:skip=CKV_SECRET_6: test value


def validate(*args: str, env: str = "local") -> int:
    # A deadline long enough for a dozen retries: a permanent error must not use it.
    return cli.main(
        [
            "--environments-dir",
            str(ENVIRONMENTS),
            "validate",
            "--env",
            env,
            "--json",
            "--deadline",
            "20",
            *args,
        ]
    )


def checks(stdout: str) -> dict[str, dict[str, object]]:
    return {check["service"]: check for check in json.loads(stdout)["checks"]}


def test_a_database_that_does_not_exist_is_not_retried(
    elsewhere: Path, postgres, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres.url("no_such_database"))
    assert validate("--service", "postgres") == 1
    out, err = capsys.readouterr()
    (check,) = checks(out).values()
    assert check["attempts"] == 1
    assert 'database "no_such_database" does not exist' in str(check["detail"])
    assert "retrying" not in err


def test_wrong_passwords_are_not_retried(
    elsewhere: Path, postgres, redis, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "not-the-password"  # checkov:skip=CKV_SECRET_6: test value
    monkeypatch.setenv("DATABASE_URL", postgres.url(password=wrong))
    monkeypatch.setenv("REDIS_URL", redis.url(password=wrong))
    assert validate("--service", "postgres", "--service", "redis") == 1
    out, err = capsys.readouterr()
    assert {service: check["attempts"] for service, check in checks(out).items()} == {
        "postgres": 1,
        "redis": 1,
    }
    assert "retrying" not in err


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:6333", "127.0.0.1:6333"])
def test_a_qdrant_url_no_client_can_speak_is_refused_at_once(
    url: str, elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QDRANT_URL", url)
    assert validate("--service", "qdrant") == 1
    out, err = capsys.readouterr()
    (check,) = checks(out).values()
    assert check["attempts"] <= 1
    assert "QDRANT_URL" in str(check["detail"]) and "http://" in str(check["detail"])
    assert "retrying" not in err


def test_a_qdrant_key_without_access_is_not_retried(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with QdrantStandIn(api_key=QDRANT_KEY, mode="self_hosted") as qdrant:
        monkeypatch.setenv("QDRANT_URL", qdrant.url)
        monkeypatch.setenv("QDRANT_API_KEY", "not-the-key")
        assert validate("--service", "qdrant") == 1
    out, err = capsys.readouterr()
    (check,) = checks(out).values()
    assert check["attempts"] == 1, check
    assert "rejected the API key" in str(check["detail"])
    assert "retrying" not in err


@pytest.mark.parametrize("key", [None, "not-the-key"], ids=["no key", "wrong key"])
def test_a_qdrant_cloud_refusal_is_not_retried(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: str | None
) -> None:
    """dev's Qdrant is Qdrant Cloud, whose gateway answers 403 on every path, /readyz included.

    What it cannot prove: the gateway's exact answer today (see tests/standins/qdrant.py)."""
    with QdrantStandIn(api_key=QDRANT_KEY, mode="cloud") as qdrant:
        monkeypatch.setenv("QDRANT_URL", qdrant.url)
        if key:
            monkeypatch.setenv("QDRANT_API_KEY", key)
        else:
            monkeypatch.delenv("QDRANT_API_KEY", raising=False)
        assert validate("--service", "qdrant", env="dev") == 1
    out, err = capsys.readouterr()
    (check,) = checks(out).values()
    assert check["attempts"] == 1, check
    assert "HTTP 403" in str(check["detail"]) and "/readyz" in str(check["detail"])
    assert ("without an API key" if key is None else "not valid for this cluster") in str(check["detail"])
    assert "retrying" not in err and "not-the-key" not in out + err


def test_each_retry_of_a_refused_connection_says_which_attempt_and_why(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The number of retries depends on the machine's speed; at least one fits in 3 s."""
    port = free_port()
    refused = f"postgresql://app:pw@127.0.0.1:{port}/app?sslmode=disable"  # checkov:skip=CKV_SECRET_4: test
    monkeypatch.setenv("DATABASE_URL", refused)
    assert (
        cli.main(
            [
                "--environments-dir",
                str(ENVIRONMENTS),
                "validate",
                "--env",
                "local",
                "--service",
                "postgres",
                "--timeout",
                "1",
                "--deadline",
                "3",
            ]
        )
        == 1
    )
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("postgres: attempt")]
    assert lines, "no retry was shown"
    assert lines[0].startswith("postgres: attempt 1 failed (cannot connect: ")
    assert "Connection refused" in lines[0] and "retrying in" in lines[0]
