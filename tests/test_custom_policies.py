"""The custom checkov policies in policies/ (CKV_IK_n) load under terraform_json, fail what they
are written to catch, and pass every synthesized stack.

Each policy has a fixture pair in tests/fixtures/policies/<module>/: every resource it applies to
in failing/cdk.tf.json must fail it, and every one in passing/cdk.tf.json must pass it. Counting
the results, not only the failures, proves the check ran: checkov reports nothing at all for a
check that did not load, or for a resource type it does not target.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infrakit.policy_gate import ScanSummary, run_checkov, summarize
from tests.conftest import ENVIRONMENTS, ROOT, GateRun

POLICIES_DIR = ROOT / "policies"
FIXTURES = ROOT / "tests" / "fixtures" / "policies"
CONFIG = ROOT / ".checkov.yaml"


def _every_resource(conf: dict[str, Any]) -> bool:
    return True


@dataclass(frozen=True)
class Policy:
    check_id: str
    module: str  # policies/<module>.py and tests/fixtures/policies/<module>/
    resource_type: str
    applies_to: Callable[[dict[str, Any]], bool] = _every_resource


POLICIES = [
    Policy("CKV_IK_1", "docker_container_healthcheck_and_restart", "docker_container"),
    Policy("CKV_IK_2", "docker_container_non_root_user", "docker_container"),
    Policy("CKV_IK_3", "docker_container_pinned_image", "docker_container"),
    Policy("CKV_IK_4", "docker_container_not_privileged", "docker_container"),
    Policy("CKV_IK_5", "docker_container_ports_on_loopback", "docker_container"),
    Policy("CKV_IK_6", "docker_image_pinned_name", "docker_image"),
    # Only Redis groups have an eviction policy; checkov reports nothing for a memcached group.
    Policy(
        "CKV_IK_7",
        "elasticache_redis_noeviction",
        "aws_elasticache_parameter_group",
        applies_to=lambda conf: str(conf.get("family", "")).startswith("redis"),
    ),
    Policy("CKV_IK_8", "ecs_containers_non_root_read_only", "aws_ecs_task_definition"),
]
ALL_CHECK_IDS = ",".join(policy.check_id for policy in POLICIES)


def scan(
    stacks: Path, check_ids: str, work_dir: Path, *, quiet: bool = True
) -> tuple[ScanSummary, dict[str, Any]]:
    """checkov with only the given custom checks; returns the totals and the raw JSON report."""
    result = run_checkov(
        stacks,
        config_file=CONFIG,
        work_dir=work_dir,
        extra_args=["--external-checks-dir", str(POLICIES_DIR), "--check", check_ids, "-o", "json"],
        quiet=quiet,
    )
    assert result.stdout, f"checkov printed no report (exit {result.returncode}):\n{result.stderr}"
    return summarize(result.stdout), json.loads(result.stdout)


@functools.cache
def every_fixture_scanned() -> dict[str, Any]:
    """Every policy's failing and passing fixtures in one checkov run with every custom check
    (a run is mostly seconds of start-up), passed checks listed: shared by the tests below."""
    with tempfile.TemporaryDirectory() as work:
        summary, report = scan(FIXTURES, ALL_CHECK_IDS, Path(work), quiet=False)
    assert summary.parsing_errors == 0, report
    return report


def fixture_scans(policy: Policy) -> dict[str, ScanSummary]:
    """What the policy's own check found in its failing and in its passing fixture: the other
    checks' results, and the other fixtures, left out."""
    results = every_fixture_scanned()["results"]
    scans = {}
    for kind in ("failing", "passing"):

        def own(check: dict[str, Any], kind: str = kind) -> bool:
            return bool(
                check["check_id"] == policy.check_id
                and check["file_path"].startswith(f"/{policy.module}/{kind}/")
            )

        passed = [check for check in results.get("passed_checks", []) if own(check)]
        failed = [check for check in results.get("failed_checks", []) if own(check)]
        scans[kind] = ScanSummary(
            passed=len(passed),
            failed=len(failed),
            skipped=0,
            parsing_errors=0,
            failed_checks=failed,
            skipped_check_ids=set(),
        )
    return scans


def applicable_resources(stack_file: Path, policy: Policy) -> set[str]:
    resources = json.loads(stack_file.read_text()).get("resource", {}).get(policy.resource_type, {})
    return {name for name, conf in resources.items() if policy.applies_to(conf)}


def resource_name(check: dict[str, Any]) -> str:
    # terraform_json reports a resource as "resource.<name>"; the name is what follows the last dot.
    return str(check["resource"]).rsplit(".", 1)[-1]


def describe(summary: ScanSummary) -> str:
    return "\n".join(f"{c['check_id']} {c['resource']}: {c.get('details')}" for c in summary.failed_checks)


def test_every_policy_module_is_listed_here_with_a_fixture_pair():
    """A new policy without fixtures would otherwise go untested."""
    sources = "".join(module.read_text() for module in POLICIES_DIR.glob("*.py"))
    declared = set(re.findall(r'id="(CKV_IK_\d+)"', sources))
    assert declared == {policy.check_id for policy in POLICIES}
    for policy in POLICIES:
        assert f'id="{policy.check_id}"' in (POLICIES_DIR / f"{policy.module}.py").read_text()
        for kind in ("failing", "passing"):
            assert applicable_resources(FIXTURES / policy.module / kind / "cdk.tf.json", policy), (
                f"{policy.module}/{kind} has no {policy.resource_type} that {policy.check_id} applies to"
            )


@pytest.mark.parametrize("policy", POLICIES, ids=lambda policy: policy.check_id)
def test_policy_fails_every_resource_in_its_failing_fixture(policy: Policy):
    expected = applicable_resources(FIXTURES / policy.module / "failing" / "cdk.tf.json", policy)
    summary = fixture_scans(policy)["failing"]
    assert summary.parsing_errors == 0
    assert {check["check_id"] for check in summary.failed_checks} == {policy.check_id}
    assert {resource_name(check) for check in summary.failed_checks} == expected
    assert (summary.failed, summary.passed) == (len(expected), 0)
    # Each finding says what is wrong, not only that the check failed.
    assert all(check["details"] for check in summary.failed_checks), describe(summary)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda policy: policy.check_id)
def test_policy_passes_every_resource_in_its_passing_fixture(policy: Policy):
    expected = applicable_resources(FIXTURES / policy.module / "passing" / "cdk.tf.json", policy)
    summary = fixture_scans(policy)["passing"]
    assert summary.parsing_errors == 0
    assert summary.failed == 0, describe(summary)
    assert summary.passed == len(expected) > 0


def test_unparsable_container_definitions_fail_with_the_parse_error_instead_of_crashing():
    ecs_policy = next(policy for policy in POLICIES if policy.resource_type == "aws_ecs_task_definition")
    findings = {resource_name(c): c for c in fixture_scans(ecs_policy)["failing"].failed_checks}
    details = " ".join(findings["definitions_not_json"]["details"])
    assert "container_definitions is not valid JSON" in details
    assert "line 1 column" in details


def test_synthesized_stacks_pass_every_custom_policy(synthesized: Path, gate_on_synthesized: GateRun):
    stacks = sorted((synthesized / "stacks").glob("*/cdk.tf.json"))
    # Every environment, and the images stack of each cloud one.
    assert {stack.parent.name.removesuffix("-images") for stack in stacks} == {
        env.stem for env in ENVIRONMENTS.glob("*.toml")
    }
    applicable = {
        policy.check_id: sorted(
            (stack.parent.name, name) for stack in stacks for name in applicable_resources(stack, policy)
        )
        for policy in POLICIES
    }
    assert all(applicable.values()), f"some policy targets nothing in the stacks: {applicable}"

    # The policy gate's checkov run (tests/conftest.py): every check, built-in and custom, on every
    # synthesized stack, its JSON report listing passed checks (file_path is /<stack>/cdk.tf.json).
    report = gate_on_synthesized.report("terraform_json")
    summary = summarize(json.dumps(report))
    custom = [c for c in summary.failed_checks if c["check_id"] in ALL_CHECK_IDS.split(",")]

    assert report["check_type"] == "terraform_json"
    assert summary.parsing_errors == 0
    assert not custom, describe(dataclasses.replace(summary, failed_checks=custom))
    # One passed result per policy and applicable resource, and none elsewhere: every policy ran.
    passed = {
        policy.check_id: sorted(
            (Path(c["file_path"]).parent.name, resource_name(c))
            for c in report["results"]["passed_checks"]
            if c["check_id"] == policy.check_id
        )
        for policy in POLICIES
    }
    assert passed == applicable
