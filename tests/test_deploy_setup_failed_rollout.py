"""Acceptance: a cloud `scripts/setup.sh dev` run against stubbed AWS answers with a failed first
deployment exits 1 and names the stopped-task reason.

setup.sh runs in a copy of the project: its own throwaway .venv (no pip; it sees the real venv's
packages through a .pth file), node_modules with a recording `cdktf` (which a cloud deploy no longer
runs), the `terraform` and `main.py` stand-ins of tests/test_plan_command.py, and dev.toml with its
placeholders replaced. Every Python process it starts loads tests/aws_sitecustomize.py, which
answers each boto3 call from a Stubber loaded with this test's answers (ECR: the images are there;
ECS: no service yet for the rollback plan, then the api's first deployment FAILED, its tasks
stopped with ResourceInitializationError). Nothing is sent out.
What this cannot prove: real ECS, Secrets Manager and IAM behaviour, or real cdktf and Terraform.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

from infrakit.config.loader import load_environment
from infrakit.placeholders import find_placeholders
from tests import rollout_stub as aws
from tests.conftest import ENVIRONMENTS, PYTHON, ROOT
from tests.ecr_stub import configs_found, images_found
from tests.test_plan import plan_json
from tests.test_plan_command import Project, executable
from tests.test_plan_in_deploy import CDKTF_RECORDER
from tests.test_rollback_plan import nothing_runs_yet

COPIED = (
    "scripts/setup.sh",
    "pyproject.toml",
    "constraints.txt",
    "package-lock.json",
    "tools/cdktf/package.json",
)
# The shipped dev.toml's example values, each replaced by one preflight accepts.
REAL_VALUES = {
    'bucket = "acme-infrakit-terraform-state"': 'bucket = "corp-infrakit-terraform-state"',
    'organization_id = "acme"': 'organization_id = "corp-org"',
    'domain_name = "api.dev.example.com"': 'domain_name = "api.dev.corp.io"',
    'hosted_zone_id = "Z0000000000000000000"': 'hosted_zone_id = "Z1D633PJN98FT9"',
    "oncall@example.com": "oncall@corp.io",
    'project_id = "00000000-0000-0000-0000-000000000000"': (
        'project_id = "6a2f9c1e-4b7d-4e21-9f3a-0c5d8e7b1a42"'
    ),
}


def fingerprint(root: Path, *names: str) -> str:
    """As setup.sh's `fingerprint`: sha256 of the files' concatenation."""
    return hashlib.sha256(b"".join((root / name).read_bytes() for name in names)).hexdigest()


def cloud_project(root: Path) -> None:
    for name in COPIED:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, root / name)
    dev = (ENVIRONMENTS / "dev.toml").read_text()
    for example, real in REAL_VALUES.items():
        assert example in dev, example
        dev = dev.replace(example, real)
    (root / "environments").mkdir()
    (root / "environments" / "dev.toml").write_text(dev)
    assert find_placeholders(load_environment(root / "environments" / "dev.toml").config) == []

    venv = root / ".venv"
    subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    (venv / ".infrakit-deps").write_text(fingerprint(root, "pyproject.toml", "constraints.txt") + "\n")
    site = next((venv / "lib").glob("python3*/site-packages"))
    shared = sysconfig.get_paths()["purelib"]
    (site / "infrakit-tests-shared.pth").write_text(f"import site; site.addsitedir({shared!r})\n")

    cdktf = root / "node_modules" / ".bin" / "cdktf"
    cdktf.parent.mkdir(parents=True)
    executable(cdktf, CDKTF_RECORDER)
    lock = fingerprint(root, "package-lock.json", "tools/cdktf/package.json")
    (root / "node_modules" / ".infrakit-lock").write_text(lock + "\n")


def test_setup_with_a_failed_first_deployment_exits_1_naming_the_service_and_the_reason(
    tmp_path, synthesized, monkeypatch, s3
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    project = Project(root, synthesized, monkeypatch)
    cloud_project(root)
    project.plans(
        **{
            "dev-images": plan_json(project.document("dev-images"), default=["no-op"]),
            "dev": plan_json(project.document("dev")),
        }
    )
    ecr = aws.Recorder()
    images_found(ecr)  # type: ignore[arg-type]
    configs_found(ecr, s3)  # type: ignore[arg-type]
    rollout = aws.failed_first_deployment(aws.SECRETS_UNREADABLE)
    # One ECS client serves the deploy: the rollback plan asks first (nothing runs yet), then the wait.
    answers = {"ecr": ecr.answers, **rollout, "ecs": [nothing_runs_yet(), *rollout["ecs"]]}
    (tmp_path / "answers.json").write_text(json.dumps(answers))
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(ROOT / "tests" / "aws_sitecustomize.py", site / "sitecustomize.py")
    environ = {
        **os.environ,
        "PYTHON": PYTHON,
        "PYTHONPATH": f"{site}{os.pathsep}{ROOT}",
        "INFRAKIT_TEST_AWS_ANSWERS": str(tmp_path / "answers.json"),
        "AWS_ACCESS_KEY_ID": "test-only",
        "AWS_SECRET_ACCESS_KEY": "test-only",  # checkov:skip=CKV_SECRET_6: test value
        "SUPABASE_ACCESS_TOKEN": "test-only",
        "QDRANT_CLOUD_API_KEY": "test-only",
        "QDRANT_CLOUD_ACCOUNT_ID": "test-only",
        "TF_VAR_neo4j_aura_client_id": "test-only",
        "TF_VAR_neo4j_aura_client_secret": "test-only",  # checkov:skip=CKV_SECRET_6: test value
    }
    environ.pop("TERRAFORM_BINARY_NAME", None)
    result = subprocess.run(
        ["bash", "scripts/setup.sh", "dev", "--auto-approve"],
        cwd=root,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1, result.stderr
    err = result.stderr
    assert not [c for c in project.calls() if c.startswith("cdktf")]
    assert [c.split(" ")[:2] for c in project.calls() if " apply " in c] == [
        ["dev-images", "apply"],
        ["dev", "apply"],
    ]
    assert "rollback plan for dev: no ECS service of it runs yet" in err
    assert f"infrakit: api: the deployment failed: {aws.CIRCUIT_BREAKER}" in err
    assert "ECS's reason for the last: ResourceInitializationError: unable to pull secrets" in err
    # ARNs as AWS wrote them: `:secret:` is not turned into an emoji
    assert "arn:aws:secretsmanager:eu-west-1:480937561234:secret:infrakit-dev-api/DATABASE_URL" in err
    assert "fix: the task could not get its secrets" in err
    assert "log group /infrakit/infrakit-dev-api" in err
    assert "setup: deploy of 'dev' stopped (see above)" in err
    assert "post-apply bootstrap" not in err
    assert "Traceback" not in err
