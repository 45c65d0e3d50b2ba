"""Each `python -m infrakit` subcommand on its own, through main([...]) in this process.

Real PostgreSQL and Redis (tests/servers.py) and the Qdrant stand-in (tests/standins/qdrant.py)
serve the endpoints, which come from environment variables, as they do for bring-your-own
endpoints. Each test runs in an empty directory, so no stack output (cdktf.out) is read.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import threading
import time
import tomllib
from importlib import metadata
from pathlib import Path

import psycopg
import pytest

from infrakit import cli
from tests.conftest import ENVIRONMENTS, PYTHON, ROOT
from tests.servers import PASSWORD, REDIS_PASSWORD
from tests.standins.neo4j import Neo4jStandIn
from tests.standins.qdrant import QdrantStandIn

QDRANT_KEY = "cli-test-qdrant-key-8d2e"  # checkov:skip=CKV_SECRET_6: test value
NEO4J_PASSWORD = "cli-test-neo4j-password"  # checkov:skip=CKV_SECRET_6: test value
MIGRATIONS = ROOT / "supabase" / "migrations"


# Every test runs from an empty directory, with no endpoint variable from the shell.
pytestmark = pytest.mark.usefixtures("elsewhere")


@pytest.fixture
def qdrant():
    with QdrantStandIn(api_key=QDRANT_KEY) as stand_in:
        yield stand_in


def run(command: str, *options: str) -> int:
    return cli.main(["--environments-dir", str(ENVIRONMENTS), command, "--env", "local", *options])


def use_endpoints(monkeypatch: pytest.MonkeyPatch, **urls: str) -> None:
    for name, value in urls.items():
        monkeypatch.setenv(name.upper(), value)


@pytest.fixture
def neo4j_server():
    with Neo4jStandIn(password=NEO4J_PASSWORD) as stand_in:
        yield stand_in


@pytest.fixture
def every_endpoint(monkeypatch, database_url, redis, qdrant, neo4j_server):
    """The commands' endpoints: the test's PostgreSQL and Redis, and the Qdrant and Neo4j stand-ins."""
    use_endpoints(
        monkeypatch,
        database_url=database_url,
        redis_url=redis.url(),
        qdrant_url=qdrant.url,
        qdrant_api_key=QDRANT_KEY,
        neo4j_uri=neo4j_server.bolt_url,
        neo4j_username="neo4j",
        neo4j_password=NEO4J_PASSWORD,
    )


def ledger_exists(database_url: str) -> bool:
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT to_regclass('supabase_migrations.schema_migrations')").fetchone()
    return row is not None and row[0] is not None


# ----------------------------------------------------------------------------- preflight


def test_preflight_alone_names_each_missing_prerequisite(monkeypatch, capsys, elsewhere):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{elsewhere}/no-docker.sock")
    assert run("preflight") == cli.EXIT_NOT_READY
    err = capsys.readouterr().err
    assert "cannot deploy 'local' yet; missing:" in err
    assert "the cdktf command (the CDK Terrain CLI) is not installed" in err
    assert f"Docker engine not reachable at unix://{elsewhere}/no-docker.sock (no such socket)" in err


def test_preflight_alone_passes_when_everything_is_there(monkeypatch, capsys, elsewhere):
    """Terraform is a script that reports 1.11.4, and Docker a socket that answers /_ping: this
    proves the command's wiring, not that a real engine or Terraform would be accepted."""
    cdktf = elsewhere / "node_modules" / ".bin" / "cdktf"
    cdktf.parent.mkdir(parents=True)
    cdktf.touch()
    terraform = elsewhere / "terraform"
    terraform.write_text('#!/bin/sh\necho \'{"terraform_version": "1.11.4"}\'\n')
    terraform.chmod(0o755)
    monkeypatch.setenv("TERRAFORM_BINARY_NAME", str(terraform))
    socket_path = elsewhere / "docker.sock"
    with socket.socket(socket.AF_UNIX) as docker:
        docker.bind(str(socket_path))
        docker.listen(1)
        threading.Thread(target=answer_ping, args=(docker,), daemon=True).start()
        monkeypatch.setenv("DOCKER_HOST", f"unix://{socket_path}")
        assert run("preflight") == 0
    assert "ready to deploy 'local'" in capsys.readouterr().err


def answer_ping(server: socket.socket) -> None:
    connection, _ = server.accept()
    with connection:
        connection.recv(1024)
        connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nOK")


# ----------------------------------------------------------------------------- migrate


def test_migrate_alone_reports_status_and_changes_nothing(monkeypatch, capsys, database_url):
    use_endpoints(monkeypatch, database_url=database_url)
    assert run("migrate", "--migrations-dir", str(MIGRATIONS)) == 0
    err = capsys.readouterr().err
    files = sorted(path.stem for path in MIGRATIONS.glob("*.sql"))
    assert f"0 applied, {len(files)} pending" in err
    for name in files:
        assert f"pending: {name}" in err
    assert not ledger_exists(database_url), "status only reads"


# ----------------------------------------------------------------------------- collections


def test_collections_alone_creates_the_declared_collections(monkeypatch, capsys, qdrant):
    use_endpoints(monkeypatch, qdrant_url=qdrant.url, qdrant_api_key=QDRANT_KEY)
    assert run("collections") == 0
    assert "collection documents: created" in capsys.readouterr().err
    info = qdrant.collection_info("documents")
    assert info["config"]["params"]["vectors"] == {"size": 1536, "distance": "Cosine"}
    assert info["payload_schema"]["tenant_id"]["data_type"] == "keyword"


def test_collections_has_its_own_timeout(monkeypatch, capsys):
    with QdrantStandIn(api_key=QDRANT_KEY, delay_seconds=5) as slow:
        use_endpoints(monkeypatch, qdrant_url=slow.url, qdrant_api_key=QDRANT_KEY)
        started = time.monotonic()
        assert run("collections", "--timeout", "1") == cli.EXIT_FAILED
        assert time.monotonic() - started < 4, "the default 5 s timeout was used, not --timeout 1"
    err = capsys.readouterr().err
    assert "did not answer within the 1 s timeout" in err
    assert QDRANT_KEY not in err


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf"])
def test_a_timeout_that_is_not_a_positive_number_is_a_usage_error(value, capsys):
    with pytest.raises(SystemExit) as exited:
        run("collections", "--timeout", value)
    assert exited.value.code == cli.EXIT_CONFIG_ERROR
    assert "argument --timeout" in capsys.readouterr().err


# ----------------------------------------------------------------------------- validate


def test_validate_alone_checks_each_service_and_prints_json(capsys, every_endpoint):
    assert run("collections") == 0
    capsys.readouterr()
    assert run("validate", "--json", "--timeout", "2", "--deadline", "10") == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["environment"] == "local" and report["ok"] is True
    assert [check["service"] for check in report["checks"]] == ["postgres", "redis", "qdrant", "neo4j"]
    assert "local: connection checks" in err
    for secret in (PASSWORD, REDIS_PASSWORD, QDRANT_KEY):
        assert secret not in out + err


# ----------------------------------------------------------------------------- bootstrap


def test_bootstrap_alone_migrates_creates_and_validates(capsys, database_url, every_endpoint):
    code = run("bootstrap", "--migrations-dir", str(MIGRATIONS), "--timeout", "2", "--deadline", "10")
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"migrations: {len(list(MIGRATIONS.glob('*.sql')))} applied" in err
    assert "collection documents: created" in err
    assert "local: connection checks" in err
    assert ledger_exists(database_url)


def test_bootstrap_gives_each_step_every_option_the_step_has_alone(monkeypatch):
    """Each step gets the namespace its own command would parse, with bootstrap's shared values."""
    received: dict[str, argparse.Namespace] = {}

    def recorder(name: str):
        def step(environment, endpoints, args: argparse.Namespace) -> int:
            received[name] = args
            return 0

        return step

    for name in cli.BOOTSTRAP_STEPS:
        monkeypatch.setattr(cli, f"_{name}", recorder(name))
    assert run("bootstrap", "--timeout", "7", "--recreate-mismatched") == 0

    assert list(received) == list(cli.BOOTSTRAP_STEPS)
    for name, args in received.items():
        alone = cli._parser().parse_args([name, "--env", "local"])
        missing = set(vars(alone)) - set(vars(args))
        assert not missing, f"bootstrap's {name} step lacks {sorted(missing)}"
        assert args.command == name
        if "timeout" in vars(alone):
            assert args.timeout == 7.0, name
    assert received["migrate"].apply is True and received["migrate"].dry_run is False
    assert received["collections"].recreate_mismatched is True


# ----------------------------------------------------------------------------- --version


@pytest.mark.parametrize("command", [["infrakit"], [PYTHON, "-m", "infrakit"]], ids=["infrakit", "python -m"])
def test_version_prints_the_version_pyproject_declares(command: list[str]):
    """`infrakit` is the console script setup.sh installs into .venv/bin: run as an activated venv
    finds it, first on PATH. Cannot prove a user's shell profile puts it there."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    venv_bin = str(Path(PYTHON).parent)
    result = subprocess.run(
        [*command, "--version"],
        cwd="/",
        env={**os.environ, "PATH": f"{venv_bin}{os.pathsep}/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"infrakit {declared}\n"


def test_version_falls_back_to_pyproject_when_not_installed(monkeypatch, capsys):
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(cli.metadata, "version", not_installed)
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert capsys.readouterr().out == f"infrakit {declared}\n"
