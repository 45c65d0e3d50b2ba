"""Two environments that would publish the same host port are a configuration error.

Copying local.toml to start a new environment (as the README describes) keeps its host ports;
deploying the copy while local runs would fail on the first port, halfway through the apply.
Every file in the environments directory counts, even when only one environment is loaded.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from infrakit.config import ConfigError, load_environments
from tests.conftest import PYTHON, ROOT, local_text

FIX = "environments running side by side cannot publish the same host port: pick another"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """environments/local.toml and environments/copy.toml, a verbatim copy of it."""
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "local.toml").write_text(local_text())
    (tmp_path / "environments" / "copy.toml").write_text(local_text())
    return tmp_path


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # From another directory, `-m infrakit` must still import this checkout's infrakit.
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([PYTHON, *args], cwd=project, env=env, capture_output=True, text=True, timeout=120)


def test_synthesizing_the_copy_names_both_files_and_every_shared_port(project):
    result = run(
        project, str(ROOT / "main.py"), "copy", "--environments-dir", "environments", "--outdir", "out"
    )

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "infrakit: 6 configuration problems" in result.stderr
    for key, port in (
        ("database.host_port", 5432),
        ("cache.host_port", 6379),
        ("vector_store.host_port", 6333),
        ("graph.bolt_host_port", 7687),
        ("graph.http_host_port", 7474),
        ("api.host_port", 8080),
    ):
        assert (
            f"environments/copy.toml: {key}: host port {port} is also used by "
            f"environments/local.toml: {key}; {FIX} {key} in one of them"
        ) in result.stderr
    assert not (project / "out").exists()


def test_a_full_synth_reports_each_clash_once(project):
    result = run(project, str(ROOT / "main.py"), "--environments-dir", "environments", "--outdir", "out")

    assert result.returncode == 2, result.stderr
    assert result.stderr.count("is also used by") == 6


def test_the_infrakit_cli_checks_the_other_files_too(project):
    result = run(project, "-m", "infrakit", "preflight", "--env", "copy")

    assert result.returncode == 2, result.stderr
    assert "environments/copy.toml: database.host_port: host port 5432 is also used by" in result.stderr


def test_a_default_host_port_counts_like_a_written_one(project):
    copy = project / "environments" / "copy.toml"
    copy.write_text(local_text(port_offset=100).replace("host_port = 5532\n", "", 1))

    with pytest.raises(ConfigError) as raised:
        load_environments(project / "environments", ["copy"])

    (problem,) = raised.value.problems
    assert problem.key == "database.host_port"
    assert "host port 5432 is also used by" in problem.message
    assert "local.toml: database.host_port" in problem.message


def test_other_files_clashing_among_themselves_do_not_block_an_unrelated_environment(project):
    (project / "environments" / "third.toml").write_text(local_text(port_offset=200))

    (third,) = load_environments(project / "environments", ["third"])

    assert third.name == "third"


def test_moving_every_host_port_resolves_the_clash(project):
    (project / "environments" / "copy.toml").write_text(local_text(port_offset=100))

    loaded = load_environments(project / "environments")

    assert [e.name for e in loaded] == ["copy", "local"]


def test_only_services_running_in_docker_publish_a_host_port(tmp_path):
    (tmp_path / "local.toml").write_text(local_text())
    text = local_text()
    for service in ("database", "cache", "vector_store", "graph", "api"):
        text = text.replace(f'[{service}]\nbackend = "docker"', f'[{service}]\nbackend = "cloud"', 1)
    (tmp_path / "cloud.toml").write_text(text)  # invalid, and reported only when it is loaded

    (local,) = load_environments(tmp_path, ["local"])

    assert local.name == "local"


def test_neo4j_publishes_two_host_ports_and_each_counts_written_or_default(project):
    """[graph] publishes Bolt and HTTP: each key clashes on its own, and an omitted bolt_host_port
    counts as its default, 7687. What this cannot prove: that the ports are free on this machine."""
    copy = local_text(port_offset=100).replace("bolt_host_port = 7787\n", "", 1)
    (project / "environments" / "copy.toml").write_text(
        copy.replace("http_host_port = 7574", "http_host_port = 7474")
    )

    with pytest.raises(ConfigError) as raised:
        load_environments(project / "environments", ["copy"])

    problems = {p.key: p.message for p in raised.value.problems}
    assert sorted(problems) == ["graph.bolt_host_port", "graph.http_host_port"]
    assert problems["graph.bolt_host_port"].startswith("host port 7687 is also used by")
    assert "local.toml: graph.bolt_host_port;" in problems["graph.bolt_host_port"]
    assert problems["graph.http_host_port"].startswith("host port 7474 is also used by")
    assert "local.toml: graph.http_host_port;" in problems["graph.http_host_port"]
