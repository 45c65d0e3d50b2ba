"""The policy gate passes on every environment and fails, with the location, on a planted secret."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.conftest import PYTHON, ROOT, GateRun

# Shaped like an AWS access key id, which checkov's secret detectors recognise.
PLANTED = "AKIAZ7Q3M4N5P6R2S8T1"  # checkov:skip=CKV_SECRET_2: test value


def gate(stacks: Path, reports: Path, repository: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            PYTHON, "-m", "infrakit.policy_gate",
            "--stacks", str(stacks), "--reports", str(reports),
            "--root", str(ROOT), "--repository", str(repository),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip


def only_stack(synthesized: Path, tmp_path: Path, env: str) -> Path:
    stacks = tmp_path / "stacks"
    shutil.copytree(synthesized / "stacks" / env, stacks / env)
    return stacks


def test_the_gate_passes_on_every_environment_and_the_repository(gate_on_synthesized: GateRun):
    # The shared run (tests/conftest.py) of `gate(synthesized / "stacks", ..., ROOT)` with --list-passed.
    result = gate_on_synthesized.result
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed, 0 skipped, 0 parsing errors" in result.stdout
    assert "secrets in synthesized stacks: 0 found" in result.stdout
    assert "secrets in repository: 0 found" in result.stdout
    sarif = json.loads((gate_on_synthesized.reports / "checkov.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"]
    # --list-passed lists every passed check in the JSON report; the printed total counts the same.
    iac = gate_on_synthesized.report("terraform_json")
    passed = len(iac["results"]["passed_checks"])
    assert passed == iac["summary"]["passed"] > 0
    assert f"checkov: {passed} passed, 0 failed" in result.stdout


def test_a_secret_planted_in_a_synthesized_file_fails_with_its_location(synthesized, tmp_path):
    stacks = only_stack(synthesized, tmp_path, "dev")
    stack = stacks / "dev" / "cdk.tf.json"
    lines = stack.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if '"version": "' in line)
    lines[index] = lines[index].replace('"version": "', f'"note": "{PLANTED}", "version": "', 1)
    stack.write_text("\n".join(lines) + "\n")
    (tmp_path / "repo").mkdir()
    result = gate(stacks, tmp_path / "reports", tmp_path / "repo")
    assert result.returncode == 1
    assert "secrets in synthesized stacks: 1 found" in result.stdout
    assert f"dev/cdk.tf.json:{index + 1}-" in result.stdout
    assert PLANTED not in result.stdout


def test_a_secret_planted_in_an_environment_file_fails_with_its_location(synthesized, tmp_path):
    """The repository sits under directories named like those the scan skips (GitLab CI checks out
    under /builds/): checkov skips a path that merely contains a --skip-path value, and the scan
    of such a checkout skipped everything and passed. Cannot prove every other checkout path."""
    repository = tmp_path / "srv" / "site" / "builds" / "reports" / "repo"
    shutil.copytree(ROOT / "environments", repository / "environments")
    config = repository / "environments" / "dev.toml"
    lines = config.read_text().splitlines()
    lines.insert(3, f'aws_access_key_id = "{PLANTED}"')
    config.write_text("\n".join(lines) + "\n")
    result = gate(only_stack(synthesized, tmp_path, "local"), tmp_path / "reports", repository)
    assert result.returncode == 1
    assert "secrets in repository: 1 found" in result.stdout
    assert "/environments/dev.toml:4-" in result.stdout


def test_a_failed_policy_fails_the_gate(synthesized, tmp_path):
    stacks = only_stack(synthesized, tmp_path, "prod")
    stack = stacks / "prod" / "cdk.tf.json"
    stack.write_text(
        stack.read_text().replace('"transit_encryption_enabled": true', '"transit_encryption_enabled": false')
    )
    (tmp_path / "repo").mkdir()
    result = gate(stacks, tmp_path / "reports", tmp_path / "repo")
    assert result.returncode == 1
    assert "FAILED CKV_AWS_30" in result.stdout
    assert "prod/cdk.tf.json" in result.stdout
    # Without --list-passed, checkov runs --quiet: its JSON report has the failures and totals only.
    iac = GateRun(result, tmp_path / "reports").report("terraform_json")
    assert "passed_checks" not in iac["results"] and iac["summary"]["passed"] > 0
    assert "CKV_AWS_30" in {check["check_id"] for check in iac["results"]["failed_checks"]}
