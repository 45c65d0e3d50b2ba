"""Run checkov on synthesized stacks, offline, the same way in tests, scripts and CI."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Without these, checkov calls a remote API and prints tracebacks on a machine without network.
OFFLINE_FLAGS = ["--framework", "terraform_json", "--skip-download", "--compact", "--quiet"]
_REQUIRED_VERSION = re.compile(r'^(\s*"required_version": )"[^"]*"', re.M)


@dataclass(frozen=True)
class ScanSummary:
    passed: int
    failed: int
    skipped: int
    parsing_errors: int
    failed_checks: list[dict[str, Any]]
    skipped_check_ids: set[str]


def checkov_input(stacks: Path, destination: Path) -> Path:
    """A copy of the synthesized stacks that checkov 3.3 can parse.

    Its terraform_json parser raises on the scalar `terraform.required_version`
    (bridgecrewio/checkov#7454). The copy writes that value as `{}` on the same line, so line
    numbers in findings still match cdk.tf.json. Nothing else changes.
    """
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(stacks, destination)
    for stack in destination.rglob("cdk.tf.json"):
        stack.write_text(_REQUIRED_VERSION.sub(r"\1{}", stack.read_text()))
    return destination


def run_checkov(
    stacks: Path, *, config_file: Path, work_dir: Path, extra_args: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    target = checkov_input(stacks, work_dir / "stacks")
    checkov = Path(sys.executable).with_name("checkov")
    command = [str(checkov), "-d", str(target), "--config-file", str(config_file), *OFFLINE_FLAGS]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    return subprocess.run(
        [*command, *(extra_args or [])], capture_output=True, text=True, env=env, timeout=600, check=False
    )


def summarize(json_report: str) -> ScanSummary:
    report = json.loads(json_report)
    reports = report if isinstance(report, list) else [report]
    summary = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0}
    failed: list[dict[str, Any]] = []
    skipped: set[str] = set()
    for item in reports:
        for key in summary:
            summary[key] += int(item.get("summary", {}).get(key, 0))
        results = item.get("results", {})
        failed += results.get("failed_checks", [])
        skipped |= {check["check_id"] for check in results.get("skipped_checks", [])}
    return ScanSummary(**summary, failed_checks=failed, skipped_check_ids=skipped)
