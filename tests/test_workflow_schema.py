"""Every workflow in .github/workflows is valid against GitHub's workflow schema, and the deploy
workflow keeps its promises (pinned actions, OIDC and least privilege, one deploy per environment at
a time, prod behind its environment, plans in pull requests, drift nightly).

check-jsonschema validates with the schema it ships (`vendor.github-workflows`, SchemaStore's),
offline. What this cannot prove: what GitHub checks beyond the schema (the contexts an expression may
use, that a pinned SHA exists: actionlint checks those, and its PyPI wrappers download a binary when
installed), the settings outside the repository (the `prod` environment's required reviewers, the
roles' trust policies), nor what the jobs do when they run.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infrakit import cli
from infrakit.config.loader import load_environment
from infrakit.stacks.names import stacks_in_deploy_order
from tests.conftest import ENVIRONMENTS, PYTHON, ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
DEPLOY = WORKFLOWS / "deploy.yml"
PINNED = re.compile(r"(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})")


def workflow_files(directory: Path = WORKFLOWS) -> list[Path]:
    return sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])


def check(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the key `on` as True
    return document


def jobs() -> dict[str, dict[str, Any]]:
    return load(DEPLOY)["jobs"]


def steps(job: str) -> list[dict[str, Any]]:
    return jobs()[job]["steps"]


def runs(job: str) -> str:
    return "\n".join(step["run"] for step in steps(job) if "run" in step)


def uses(job: str, action: str) -> dict[str, Any]:
    (step,) = [s for s in steps(job) if s.get("uses", "").split("@")[0] == action]
    return step


def cloud_environments() -> list[str]:
    names = [path.stem for path in sorted(ENVIRONMENTS.glob("*.toml"))]
    return [
        name for name in names if load_environment(ENVIRONMENTS / f"{name}.toml").config.state is not None
    ]


# ----------------------------------------------------------------------------- the schema


def test_every_workflow_is_valid_against_githubs_schema() -> None:
    files = workflow_files()
    assert {path.name for path in files} >= {"ci.yml", "deploy.yml"}
    result = check("vendor.github-workflows", files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_every_job_of_every_workflow_has_a_timeout() -> None:
    result = check("custom.github-workflows-require-timeout", workflow_files())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("planted", "where"),
    [
        (("      id-token: write  # the OIDC token, for AWS\n", "      id-token: writ\n"), "id-token"),
        (("    runs-on: ubuntu-24.04\n", "    run-on: ubuntu-24.04\n"), "run-on"),
        (
            ("      cancel-in-progress: false\n", "      cancel-in-progress: sometimes\n"),
            "cancel-in-progress",
        ),
    ],
)
def test_a_broken_workflow_fails_naming_its_file_and_the_problem(tmp_path, planted, where) -> None:
    """A planted mistake in a copy of the deploy workflow, beside a valid copy of ci.yml."""
    directory = tmp_path / "workflows"
    directory.mkdir()
    shutil.copy(WORKFLOWS / "ci.yml", directory / "ci.yml")
    old, new = planted
    text = DEPLOY.read_text()
    assert old in text
    (directory / "deploy.yml").write_text(text.replace(old, new, 1))
    result = check("vendor.github-workflows", workflow_files(directory))
    assert result.returncode == 1, result.stdout
    assert "Schema validation errors were encountered" in result.stdout + result.stderr
    assert str(directory / "deploy.yml") in result.stdout
    assert str(directory / "ci.yml") not in result.stdout
    assert where in result.stdout


# ----------------------------------------------------------------------------- the deploy workflow


def test_every_action_is_pinned_by_sha_the_same_as_in_ci() -> None:
    text = DEPLOY.read_text()
    pins = {}
    for line in text.splitlines():
        if "uses:" in line:
            found = PINNED.search(line)
            assert found, line
            assert re.search(r"@[0-9a-f]{40}\s+# v\d+\.\d+\.\d+$", line), f"name the version: {line}"
            assert pins.setdefault(found["action"], found["sha"]) == found["sha"], line
    ci = {m["action"]: m["sha"] for m in PINNED.finditer((WORKFLOWS / "ci.yml").read_text())}
    shared = set(ci) & set(pins)
    assert shared >= {"actions/checkout", "actions/setup-python", "actions/cache"}
    assert all(pins[action] == ci[action] for action in shared)
    assert {"aws-actions/configure-aws-credentials", "hashicorp/setup-terraform"} <= set(pins)


def test_triggers_pull_requests_main_and_a_nightly_schedule() -> None:
    on = load(DEPLOY)["on"]
    assert "pull_request" in on
    assert on["push"] == {"branches": ["main"]}
    (schedule,) = on["schedule"]
    assert len(schedule["cron"].split()) == 5


def test_least_privilege_and_oidc_not_stored_keys() -> None:
    document = load(DEPLOY)
    assert document["permissions"] == {"contents": "read"}
    for name, job in document["jobs"].items():
        expected = {"contents": "read", "id-token": "write"}
        if name == "plan":
            expected["pull-requests"] = "write"
        assert job["permissions"] == expected, name
        credentials = uses(name, "aws-actions/configure-aws-credentials")["with"]
        assert re.fullmatch(r"\$\{\{ vars\.AWS_(PLAN|DEPLOY)_ROLE_ARN \}\}", credentials["role-to-assume"])
        assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials), name
        # Nothing installed by the setup step runs with a credential in the job.
        order = [s.get("uses", s.get("run", "")).split("@")[0] for s in steps(name)]
        assert order.index("scripts/setup.sh local --skip-deploy") < order.index(
            "aws-actions/configure-aws-credentials"
        )
    text = DEPLOY.read_text()
    assert "arn:aws" not in text
    assert "AWS_ACCESS_KEY_ID" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    for token in ("SUPABASE_ACCESS_TOKEN", "QDRANT_CLOUD_API_KEY"):
        values = {step["env"][token] for job in jobs() for step in steps(job) if token in step.get("env", {})}
        assert values == {f"${{{{ secrets.{token} }}}}"}, token
    deploys = {name for name, job in jobs().items() if "AWS_DEPLOY_ROLE_ARN" in str(job)}
    assert deploys == {"deploy-staging", "deploy-prod"}


def test_pull_requests_plan_every_cloud_environment_and_post_the_markdown() -> None:
    job = jobs()["plan"]
    assert set(cloud_environments()) == {"dev", "staging", "prod"}
    assert sorted(job["strategy"]["matrix"]["environment"]) == sorted(cloud_environments())
    assert job["strategy"]["fail-fast"] is False
    assert job["env"]["TF_CLI_ARGS_plan"] == "-lock=false"  # never holds a deploy's state lock
    script = runs("plan")
    assert "--format markdown" in script and "$GITHUB_STEP_SUMMARY" in script
    assert 'for stack in "$ENV_NAME-images" "$ENV_NAME"' in script
    for name in cloud_environments():  # the loop names exactly the stacks of each environment
        environment = load_environment(ENVIRONMENTS / f"{name}.toml")
        assert stacks_in_deploy_order(environment) == [f"{name}-images", name]
    (comment,) = [s for s in steps("plan") if s.get("name", "").startswith("Comment")]
    assert comment["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert "!cancelled()" in comment["if"]
    assert "gh api --method PATCH" in comment["run"] and "gh api --method POST" in comment["run"]


def test_main_deploys_staging_then_prod_behind_its_environment_one_at_a_time() -> None:
    staging, prod = jobs()["deploy-staging"], jobs()["deploy-prod"]
    assert staging["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert staging["environment"] == "staging"
    assert prod["needs"] == "deploy-staging"
    assert prod["environment"] == "prod"
    for job, name in ((staging, "staging"), (prod, "prod")):
        assert job["concurrency"] == {"group": f"deploy-{name}", "cancel-in-progress": False}
        assert job["env"]["ENV_NAME"] == name
    for name in ("deploy-staging", "deploy-prod"):
        deploy = steps(name)[-1]
        assert deploy["run"] == 'scripts/setup.sh "$ENV_NAME" --auto-approve'  # the plan gate included
        assert set(deploy["env"]) == {
            "SUPABASE_ACCESS_TOKEN",
            "QDRANT_CLOUD_API_KEY",
            "QDRANT_CLOUD_ACCOUNT_ID",
        }
    # Only the deploys wait in a deploy's group: a job queued there would cancel a pending deploy.
    waiting = [name for name, job in jobs().items() if job["concurrency"]["group"].startswith("deploy-")]
    assert waiting == ["deploy-staging", "deploy-prod"]


def test_the_schedule_checks_drift_in_every_environment_and_fails_on_it() -> None:
    job = jobs()["drift"]
    assert "github.event_name == 'schedule'" in job["if"]
    assert sorted(job["strategy"]["matrix"]["environment"]) == sorted(cloud_environments())
    assert job["strategy"]["fail-fast"] is False
    script = runs("drift")
    assert '.venv/bin/infrakit drift --env "$ENV_NAME" --format markdown' in script
    assert "$GITHUB_STEP_SUMMARY" in script
    assert script.rstrip().endswith('exit "$status"')
    assert "::error title=Drift in $ENV_NAME::" in script


def test_every_infrakit_command_line_of_the_workflow_parses() -> None:
    """The options the workflow passes exist: a renamed option would fail only in GitHub."""
    commands = []
    for job in jobs():
        script = runs(job).replace("\\\n", " ")
        script = script.replace('"$ENV_NAME-images"', "dev-images").replace('"$stack"', "dev")
        script = script.replace('"$ENV_NAME"', "dev")
        for line in script.splitlines():
            if ".venv/bin/infrakit" in line:
                words = shlex.split(line.split(".venv/bin/infrakit", 1)[1])
                words = words[: next((i for i, w in enumerate(words) if w in (">", ">>", "||")), len(words))]
                commands.append(words)
    assert {words[0] for words in commands} == {"plan", "drift"}
    for words in commands:
        arguments = cli._parser().parse_args(words)
        assert arguments.format == "markdown" and arguments.env == "dev"
