"""The policy gate passes on every environment and fails, with the location, on a planted secret."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from infrakit import policy_gate
from infrakit.policy_gate import repository_input
from tests.conftest import PYTHON, ROOT, GateRun

# Shaped like an AWS access key id, which checkov's secret detectors recognise.
PLANTED = "AKIAZ7Q3M4N5P6R2S8T1"  # checkov:skip=CKV_SECRET_2: test value


def gate(
    stacks: Path, reports: Path, repository: Path, cwd: Path = ROOT, root: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            PYTHON, "-m", "infrakit.policy_gate",
            "--stacks", str(stacks), "--reports", str(reports),
            "--root", str(root), "--repository", str(repository),
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip


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


@dataclass(frozen=True)
class Planted:
    """One gate run over planted findings: a secret in dev's stack, a failed policy in prod's, and a
    secret in an environment file of the repository."""

    result: subprocess.CompletedProcess[str]
    reports: Path
    stacks: Path
    repository: Path
    secret_line: int  # of the secret in dev/cdk.tf.json


@pytest.fixture(scope="module")
def planted(synthesized: Path, tmp_path_factory: pytest.TempPathFactory) -> Planted:
    """One checkov start for the tests below, each of which reads its own finding. Together they are
    also the case checkov lost a finding in: with a secret in a stack and one in the repository,
    the repository's went unreported (tests/test_scan.py, test_a_secret_in_a_stack_and_one_in_...).

    The repository sits under directories named like those the scan skips (GitLab CI checks out
    under /builds/): checkov skips a path that merely contains a --skip-path value, and the scan of
    such a checkout once skipped everything and passed."""
    tmp_path = tmp_path_factory.mktemp("planted")
    stacks = tmp_path / "stacks"
    for env in ("dev", "prod"):
        shutil.copytree(synthesized / "stacks" / env, stacks / env)
    stack = stacks / "dev" / "cdk.tf.json"
    lines = stack.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if '"version": "' in line)
    lines[index] = lines[index].replace('"version": "', f'"note": "{PLANTED}", "version": "', 1)
    stack.write_text("\n".join(lines) + "\n")
    prod = stacks / "prod" / "cdk.tf.json"
    prod.write_text(
        prod.read_text().replace('"transit_encryption_enabled": true', '"transit_encryption_enabled": false')
    )
    repository = tmp_path / "srv" / "site" / "builds" / "reports" / "repo"
    shutil.copytree(ROOT / "environments", repository / "environments")
    config = repository / "environments" / "dev.toml"
    config_lines = config.read_text().splitlines()
    config_lines.insert(3, f'aws_access_key_id = "{PLANTED}"')
    config.write_text("\n".join(config_lines) + "\n")
    reports = tmp_path / "reports"
    # Run from inside the temporary directory, as from a checkout under /tmp: checkov's
    # SARIF paths are relative to its working directory, and the gate must not depend on where that is.
    result = gate(stacks, reports, repository, cwd=tmp_path)
    return Planted(result, reports, stacks, repository, index + 1)


def test_a_secret_planted_in_a_synthesized_file_fails_with_its_location(planted: Planted):
    assert planted.result.returncode == 1
    assert "secrets in synthesized stacks: 1 found" in planted.result.stdout
    assert f"{planted.stacks}/dev/cdk.tf.json:{planted.secret_line}-" in planted.result.stdout
    assert PLANTED not in planted.result.stdout


def test_a_secret_planted_in_an_environment_file_fails_with_its_location(planted: Planted):
    """Cannot prove every other checkout path."""
    assert planted.result.returncode == 1
    assert "secrets in repository: 1 found" in planted.result.stdout
    assert f"{planted.repository}/environments/dev.toml:4-" in planted.result.stdout


def test_a_secret_in_a_stack_and_one_in_the_repository_are_both_reported(planted: Planted):
    """checkov 3.3 keeps one report per framework across several -d directories: the gate gave it the
    stacks and the repository as two, and the repository's secret went missing from the summary
    and the reports whenever a stack held one too. Both are in the SARIF, with the paths of the
    original files (relative to the repository for its own), never the scanned copy's.

    Cannot prove that GitHub's code scanning shows them on the right lines: that needs an upload."""
    sarif = json.loads((planted.reports / "checkov.sarif").read_text())
    locations = {
        (result["ruleId"], location["physicalLocation"]["artifactLocation"]["uri"])
        for run in sarif["runs"]
        for result in run["results"]
        for location in result["locations"]
    }
    stack_uri = f"{str(planted.stacks).lstrip('/')}/dev/cdk.tf.json"
    assert {("CKV_SECRET_2", stack_uri), ("CKV_SECRET_2", "environments/dev.toml")} <= locations
    assert ("CKV_AWS_30", f"{str(planted.stacks).lstrip('/')}/prod/cdk.tf.json") in locations
    secrets = GateRun(planted.result, planted.reports).report("secrets")["results"]["failed_checks"]
    assert {(check["file_path"], check["file_abs_path"]) for check in secrets} == {
        ("/dev/cdk.tf.json", str(planted.stacks / "dev" / "cdk.tf.json")),
        ("/environments/dev.toml", str(planted.repository / "environments" / "dev.toml")),
    }
    for report in (planted.reports / "results_json.json", planted.reports / "checkov.sarif"):
        assert f"{tempfile.gettempdir().lstrip('/')}/tmp" not in report.read_text()


def test_a_failed_policy_fails_the_gate(planted: Planted):
    assert planted.result.returncode == 1
    assert "FAILED CKV_AWS_30" in planted.result.stdout
    assert f"{planted.stacks}/prod/cdk.tf.json" in planted.result.stdout
    # Without --list-passed, checkov runs --quiet: its JSON report has the failures and totals only.
    iac = GateRun(planted.result, planted.reports).report("terraform_json")
    assert "passed_checks" not in iac["results"] and iac["summary"]["passed"] > 0
    assert "CKV_AWS_30" in {check["check_id"] for check in iac["results"]["failed_checks"]}


def test_a_repository_that_is_not_a_directory_is_an_error_naming_it(synthesized, tmp_path):
    result = gate(synthesized / "stacks", tmp_path / "reports", tmp_path / "missing")
    assert result.returncode == 2
    assert result.stderr == f"scan: --repository {tmp_path / 'missing'} is not a directory\n"


def test_a_root_without_the_checkov_settings_is_an_error_naming_the_file(synthesized, tmp_path):
    result = gate(synthesized / "stacks", tmp_path / "reports", tmp_path, root=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"scan: {tmp_path / '.checkov.yaml'} is missing: --root must be the project\n"


def test_checkov_failing_without_a_report_fails_the_gate_with_what_it_said(
    synthesized, tmp_path, monkeypatch, capsys
):
    """checkov stopping before it scans (here: what checkov 3.3.30 prints and its status for a
    .checkov.yaml that is not YAML, seen by hand) writes no report: exit 2 and checkov's own words,
    never a traceback, and no report is never taken for no finding. checkov is stood in for at
    subprocess.run, to spare a checkov start. Cannot prove every way checkov can fail."""
    said = (
        "usage: checkov [-h] [-v] [--support]\n               [--custom-tool-name CUSTOM_TOOL_NAME]\n"
        "checkov: error: Couldn't parse config file: while parsing a flow node\n"
        "did not find expected node content\n"
    )
    monkeypatch.setattr(
        policy_gate.subprocess, "run", lambda command, **_: subprocess.CompletedProcess(command, 2, "", said)
    )
    code = policy_gate.main(
        [
            "--stacks",
            str(synthesized / "stacks"),
            "--reports",
            str(tmp_path / "reports"),
            "--root",
            str(ROOT),
            "--repository",
            str(tmp_path),
        ]  # fmt: skip
    )
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == (
        "scan: checkov exited 2 without a report:\n"
        "checkov: error: Couldn't parse config file: while parsing a flow node\n"
        "did not find expected node content\n"
    )


# ------------------------------------------------------------------ what the scan reads of the repository


def test_the_repository_copy_holds_what_checkov_would_read_and_nothing_it_skips(tmp_path):
    """The copy leaves out the skipped directories, __pycache__, the stacks when they are inside the
    repository, and what is not a regular file; like checkov's os.walk, it reads a linked file and
    does not enter a linked directory. Cannot prove checkov reads nothing else than what is copied:
    the planted tests above scan the copy for real."""
    repository = tmp_path / "repo"
    for name in ("README.md", "infrakit/a.py", "infrakit/__pycache__/a.pyc", ".venv/lib/x.py",
                 "tests/fixtures/bad.tf.json", "tests/test_a.py", "out/stacks/dev/cdk.tf.json",
                 "site/index.html", ".github/workflows/ci.yml", "outside/kept.txt"):  # fmt: skip
        (repository / name).parent.mkdir(parents=True, exist_ok=True)
        (repository / name).write_text(name)
    (repository / "linked.txt").symlink_to(repository / "outside" / "kept.txt")
    (repository / "linked-dir").symlink_to(repository / "outside")
    (repository / "dangling.txt").symlink_to(tmp_path / "nowhere")
    os.mkfifo(repository / "pipe")
    copy = tmp_path / "copy"
    assert repository_input(repository, copy, leave_out=repository / "out" / "stacks") == []
    copied = sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file())
    assert copied == [
        ".github/workflows/ci.yml", "README.md", "infrakit/a.py", "linked.txt", "outside/kept.txt",
        "tests/test_a.py",
    ]  # fmt: skip
    assert (copy / "linked.txt").read_text() == "outside/kept.txt"


def test_a_repository_file_that_cannot_be_read_fails_the_gate_naming_it(tmp_path, monkeypatch, capsys):
    """Root reads any file, and CI runs as root, so the unreadable file is made by refusing its copy.
    Cannot prove which errors a real unreadable file gives on other filesystems."""
    repository = tmp_path / "repo"
    repository.mkdir()
    (repository / "secret.env").write_text("x")
    copyfile = shutil.copyfile

    def refuse(source, destination, **kwargs):
        if Path(source).name == "secret.env":
            raise PermissionError(13, "Permission denied")
        return copyfile(source, destination, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", refuse)
    assert repository_input(repository, tmp_path / "copy") == [
        f"{repository / 'secret.env'}: Permission denied"
    ]
