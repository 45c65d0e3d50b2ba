"""The policy gate: checkov on synthesized stacks (built-in and custom policies) and a secret
scan of the stacks and the repository. Offline, and the same in tests, scripts/scan.sh and CI.

  python -m infrakit.policy_gate [--stacks cdktf.out/stacks] [--reports reports] [--list-passed]

Exit status 0 only when nothing failed. SARIF goes to reports/checkov.sarif, checkov's JSON report
to reports/results_json.json (failed checks and totals; every passed check too with --list-passed).
"""

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
    stacks: Path,
    *,
    config_file: Path,
    work_dir: Path,
    extra_args: list[str] | None = None,
    quiet: bool = True,
) -> subprocess.CompletedProcess[str]:
    """checkov over a copy of `stacks`; `quiet=False` lists passed checks too, not only their total."""
    target = checkov_input(stacks, work_dir / "stacks")
    checkov = Path(sys.executable).with_name("checkov")
    flags = OFFLINE_FLAGS if quiet else [flag for flag in OFFLINE_FLAGS if flag != "--quiet"]
    command = [str(checkov), "-d", str(target), "--config-file", str(config_file), *flags]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    return subprocess.run(
        [*command, *(extra_args or [])], capture_output=True, text=True, env=env, timeout=600, check=False
    )


def summarize(json_report: str) -> ScanSummary:
    """Totals across checkov's JSON report, which is a list when several frameworks ran."""
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


# Never part of the repository scan (regular expressions): dependencies, generated output, caches, the
# custom policies' deliberately failing fixtures.
# Directories of the repository the secret scan skips: installed, generated, built or cached copies,
# and the policy fixtures (which hold failing examples on purpose).
REPOSITORY_SKIPS = (
    ".venv", "node_modules", ".git", "cdktf.out", "reports", ".pytest_cache", ".mypy_cache",
    ".ruff_cache", "tests/fixtures", "site", "build",
)  # fmt: skip


def skip_patterns(repository: Path) -> list[str]:
    """--skip-path values for the secret scan, anchored to the repository's own directories.

    checkov skips a path when a --skip-path value matches it as a regular expression OR appears
    in it as a plain substring (checkov/common/runners/base_runner.py, filter_ignored_paths), and
    the path it tests is absolute. A bare "site" or "build" therefore skipped the whole repository
    when it was checked out under /srv/site/... or GitLab's /builds/...: the secret scan found
    nothing, and passed. Anchored at the repository, a pattern matches only the directory it names
    and what is in it (the runners test directories and files alike); a ^ cannot occur in a real
    path, so the substring test never fires.
    """
    names = "|".join(re.escape(name) for name in REPOSITORY_SKIPS)
    return [f"^{re.escape(str(repository.resolve()))}/(?:{names})(?:/|$)", "/__pycache__(?:/|$)"]


@dataclass(frozen=True)
class GateResult:
    iac: ScanSummary
    workflows: ScanSummary  # .github/workflows, checked by checkov's github_actions framework
    stack_secrets: list[dict[str, Any]]
    repository_secrets: list[dict[str, Any]]
    suppressed_secrets: int
    returncode: int


def run_gate(
    stacks: Path, *, root: Path, repository: Path, reports: Path, list_passed: bool = False
) -> GateResult:
    """One checkov run: IaC checks (built-in and custom) on the stacks, and the secret scan of
    the stacks and the repository. One run because each checkov start costs seconds.

    Secrets are looked for in every file (--enable-secret-scan-all-files): by default checkov
    skips .toml and .tf.json. Inline `checkov:skip=CKV_SECRET_n` comments mark test values.
    `list_passed` runs checkov without --quiet, so that reports/results_json.json lists every
    passed (and skipped) check, not only their totals; the outcome and the summary are the same.
    """
    import tempfile

    reports.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        copy = checkov_input(stacks, Path(work) / "stacks")
        command = [
            str(Path(sys.executable).with_name("checkov")),
            "-d", str(copy), "-d", str(repository.resolve()),
            "--framework", "terraform_json", "secrets", "github_actions", "--enable-secret-scan-all-files",
            "--config-file", str(root / ".checkov.yaml"),
            "--skip-download", "--compact", *([] if list_passed else ["--quiet"]),
            "-o", "json", "-o", "sarif", "--output-file-path", str(reports),
        ]  # fmt: skip
        if (root / "policies").is_dir():
            command += ["--external-checks-dir", str(root / "policies")]
        for pattern in skip_patterns(repository):
            command += ["--skip-path", pattern]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
            timeout=900,
        )
        raw = json.loads((reports / "results_json.json").read_text())
        sarif = reports / "results_sarif.sarif"
        if sarif.exists():
            # Findings point into the scanned copy; point them back at the synthesized stacks.
            (reports / "checkov.sarif").write_text(sarif.read_text().replace(str(copy), str(stacks)))
            sarif.unlink()
    reports_by_type = {item.get("check_type"): item for item in (raw if isinstance(raw, list) else [raw])}
    iac = summarize(json.dumps(reports_by_type.get("terraform_json", {})))
    workflows = summarize(json.dumps(reports_by_type.get("github_actions", {})))
    secrets = reports_by_type.get("secrets", {}).get("results", {})
    found = secrets.get("failed_checks", [])
    in_stacks = [c for c in found if str(c.get("file_abs_path", "")).startswith(str(copy))]
    for check in in_stacks:
        check["file_path"] = str(stacks / Path(check["file_abs_path"]).relative_to(copy))
    return GateResult(
        iac=iac,
        workflows=workflows,
        stack_secrets=in_stacks,
        repository_secrets=[c for c in found if c not in in_stacks],
        suppressed_secrets=int(reports_by_type.get("secrets", {}).get("summary", {}).get("skipped", 0)),
        returncode=result.returncode,
    )


def _finding(check: dict[str, Any], path: str) -> str:
    start, end = check.get("file_line_range", [0, 0])
    name, resource = check.get("check_name", ""), check.get("resource", "")
    return f"  FAILED {check['check_id']} {name}: {resource} at {path}:{start}-{end}"


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m infrakit.policy_gate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--stacks", type=Path, default=Path("cdktf.out/stacks"))
    parser.add_argument("--reports", type=Path, default=Path("reports"))
    parser.add_argument("--root", type=Path, default=Path("."), help="where .checkov.yaml and policies/ are")
    parser.add_argument("--repository", type=Path, default=Path("."), help="tree to scan for secrets")
    parser.add_argument(
        "--list-passed",
        action="store_true",
        help="list passed checks in the JSON report, not only their total",
    )
    args = parser.parse_args(argv)
    if not any(args.stacks.glob("*/cdk.tf.json")):
        print(f"scan: no synthesized stacks in {args.stacks}: run `python main.py` first", file=sys.stderr)
        return 2
    gate = run_gate(
        args.stacks,
        root=args.root,
        repository=args.repository,
        reports=args.reports,
        list_passed=args.list_passed,
    )
    iac = gate.iac
    print(
        f"checkov: {iac.passed} passed, {iac.failed} failed, {iac.skipped} skipped, "
        f"{iac.parsing_errors} parsing errors (stacks in {args.stacks})"
    )
    for check in iac.failed_checks:
        print(_finding(check, f"{args.stacks}{check.get('file_path', '')}"))
    print(f"workflows: {gate.workflows.passed} passed, {gate.workflows.failed} failed")
    for check in gate.workflows.failed_checks:
        print(_finding(check, str(check.get("file_abs_path", check.get("file_path")))))
    print(f"secrets in synthesized stacks: {len(gate.stack_secrets)} found")
    for check in gate.stack_secrets:
        print(_finding(check, check["file_path"]))
    found, marked = len(gate.repository_secrets), gate.suppressed_secrets
    print(f"secrets in repository: {found} found, {marked} marked as test values")
    for check in gate.repository_secrets:
        print(_finding(check, str(check.get("file_abs_path", check.get("file_path")))))
    print(f"SARIF: {args.reports / 'checkov.sarif'}")
    failed = (
        iac.failed
        + iac.parsing_errors
        + gate.workflows.failed
        + len(gate.stack_secrets)
        + len(gate.repository_secrets)
    )
    return 1 if failed or gate.returncode not in (0, 1) else 0


if __name__ == "__main__":
    sys.exit(main())
