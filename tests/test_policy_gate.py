"""checkov passes on every synthesized stack, with few, explained skips."""

from __future__ import annotations

import json
import re

from infrakit.policy_gate import checkov_input, summarize
from tests.conftest import ROOT, GateRun

CONFIG = ROOT / ".checkov.yaml"


def skip_entries() -> list[tuple[str, str]]:
    """(check id, reason) for each skip in .checkov.yaml; the reason is the comment above it."""
    lines = CONFIG.read_text().splitlines()
    entries = []
    for index, line in enumerate(lines):
        match = re.match(r"^\s+-\s+(CKV\w+)\s*$", line)
        if match:
            reason = lines[index - 1].strip()
            entries.append((match[1], reason.removeprefix("#").strip() if reason.startswith("#") else ""))
    return entries


def test_every_skip_has_a_reason_and_there_are_at_most_eight():
    entries = skip_entries()
    assert 0 < len(entries) <= 8
    for check, reason in entries:
        assert len(reason) > 20, f"{check} has no reason"


def test_checkov_reports_no_failed_checks_on_any_environment(gate_on_synthesized: GateRun):
    # The policy gate's checkov run (tests/conftest.py): built-in and custom checks on every
    # synthesized stack, with .checkov.yaml, its JSON report listing passed and skipped checks.
    report = gate_on_synthesized.report("terraform_json")
    summary = summarize(json.dumps(report))
    failures = [f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in summary.failed_checks]
    assert summary.parsing_errors == 0
    assert summary.failed == 0, "\n".join(failures)
    built_in = [c for c in report["results"]["passed_checks"] if not c["check_id"].startswith("CKV_IK_")]
    assert len(built_in) > 250
    assert "skipped_checks" in report["results"]  # listed, so the next line compares real ids
    assert summary.skipped_check_ids <= {check for check, _ in skip_entries()}
    assert gate_on_synthesized.result.returncode == 0, gate_on_synthesized.result.stdout


def test_checkov_input_keeps_line_numbers_and_changes_only_required_version(synthesized, tmp_path):
    original = (synthesized / "stacks" / "prod" / "cdk.tf.json").read_text().splitlines()
    copy = (
        (checkov_input(synthesized / "stacks", tmp_path / "copy") / "prod" / "cdk.tf.json")
        .read_text()
        .splitlines()
    )
    changed = [(a, b) for a, b in zip(original, copy, strict=True) if a != b]
    assert changed == [('    "required_version": ">= 1.10"', '    "required_version": {}')]
