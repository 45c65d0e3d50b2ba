"""The GitHub Actions workflow is valid, pinned, and runs only the project's own scripts."""

from __future__ import annotations

import re

import yaml

from tests.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
PROJECT_SCRIPT = re.compile(r"^(sudo )?(scripts|\.ci)/[\w.-]+\.sh( |$)")


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps() -> list[dict]:
    return [step for job in workflow()["jobs"].values() for step in job["steps"]]


def test_workflow_has_the_shape_github_actions_requires():
    document = workflow()
    # YAML 1.1 reads the key `on` as True; GitHub reads it as the trigger list.
    assert document.get("on") or document.get(True)
    for name, job in document["jobs"].items():
        assert job["runs-on"], name
        assert job["steps"], name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step


def test_every_action_is_pinned_to_a_commit_sha():
    for step in steps():
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    assert re.findall(r"@[0-9a-f]{40}\s+# v\d", WORKFLOW.read_text()), "each pin names its version"


def test_run_steps_call_only_project_scripts_and_the_same_ones_as_ci_run():
    runs = [step["run"].strip() for step in steps() if "run" in step]
    assert all(PROJECT_SCRIPT.match(command) for command in runs), runs
    scripts = {re.search(r"(scripts|\.ci)/[\w.-]+\.sh", command)[0] for command in runs}
    ci_run = set(re.findall(r"^((?:scripts|\.ci)/[\w.-]+\.sh)", (ROOT / ".ci" / "run").read_text(), re.M))
    assert ci_run <= scripts
    assert {"scripts/lint.sh", "scripts/test.sh", "scripts/scan.sh"} <= scripts


def test_python_and_npm_are_cached_and_sarif_is_uploaded():
    by_uses = {step["uses"].split("@")[0]: step for step in steps() if "uses" in step}
    assert by_uses["actions/setup-python"]["with"]["cache"] == "pip"
    assert "package-lock.json" in by_uses["actions/cache"]["with"]["key"]
    upload = by_uses["github/codeql-action/upload-sarif"]
    assert upload["with"]["sarif_file"] == "reports/checkov.sarif"
    assert upload["if"] == "always()"
