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
from urllib.parse import quote, unquote

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


# Directories of the repository the secret scan skips: installed, generated, built or cached copies,
# and the policy fixtures (which hold failing examples on purpose). __pycache__ is skipped anywhere.
REPOSITORY_SKIPS = (
    ".venv", "node_modules", ".git", "cdktf.out", "reports", ".pytest_cache", ".mypy_cache",
    ".ruff_cache", "tests/fixtures", "site", "build",
)  # fmt: skip


def repository_input(repository: Path, destination: Path, *, leave_out: Path | None = None) -> list[str]:
    """Copies what the scan reads of `repository` into `destination`; returns the files it could not
    read, as "path: reason".

    The gate gives checkov one directory, holding this copy beside the stacks' copy. checkov 3.3
    keeps one report per framework across several -d directories (RunnerRegistry._merge_reports
    merges a later directory's report into the first one's, which then goes unprinted), so with
    the stacks and the repository as two directories, a secret in the repository went unreported
    whenever a stack held one too.

    The copy leaves out REPOSITORY_SKIPS at the top, __pycache__ anywhere, and `leave_out` (the
    stacks, when they sit inside the repository: they are scanned as stacks). Like checkov's own
    walk (os.walk), it does not enter a symlinked directory and reads a symlinked file's target.
    """
    repository = repository.resolve()
    skipped = {repository / name for name in REPOSITORY_SKIPS}
    if leave_out is not None:
        skipped.add(leave_out.resolve())
    unreadable: list[str] = []
    for directory, subdirectories, files in os.walk(
        repository, onerror=lambda e: unreadable.append(f"{e.filename}: {e.strerror}")
    ):
        here = Path(directory)
        subdirectories[:] = [
            name for name in subdirectories if name != "__pycache__" and here / name not in skipped
        ]
        target = destination / here.relative_to(repository)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            source = here / name
            if source in skipped or not source.is_file():  # a dangling link, a pipe or a socket
                continue
            try:
                shutil.copyfile(source, target / name)
            except OSError as error:
                unreadable.append(f"{source}: {error.strerror or error}")
    return unreadable


class GateFailed(Exception):
    """checkov itself failed: no report, so no finding can be trusted."""


@dataclass(frozen=True)
class GateResult:
    iac: ScanSummary
    workflows: ScanSummary  # .github/workflows, checked by checkov's github_actions framework
    stack_secrets: list[dict[str, Any]]
    repository_secrets: list[dict[str, Any]]
    suppressed_secrets: int
    unreadable: list[str]  # repository files the scan could not read, as "path: reason"
    returncode: int


def run_gate(
    stacks: Path, *, root: Path, repository: Path, reports: Path, list_passed: bool = False
) -> GateResult:
    """One checkov run: IaC checks (built-in and custom) on the stacks, and the secret scan of
    the stacks and the repository. One run because each checkov start costs seconds.

    checkov scans one directory holding a copy of each (checkov_input, repository_input); every
    path in the findings, the SARIF and the JSON report is then put back to the original file.
    Secrets are looked for in every file (--enable-secret-scan-all-files): by default checkov
    skips .toml and .tf.json. Inline `checkov:skip=CKV_SECRET_n` comments mark test values.
    `list_passed` runs checkov without --quiet, so that reports/results_json.json lists every
    passed (and skipped) check, not only their totals; the outcome and the summary are the same.
    """
    import tempfile

    root, reports = root.resolve(), reports.resolve()
    reports.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch).resolve()  # checkov reports resolved paths
        copy = checkov_input(stacks, work / "stacks")
        repository_copy = work / "repository"
        unreadable = repository_input(repository, repository_copy, leave_out=stacks)
        command = [
            str(Path(sys.executable).with_name("checkov")),
            "-d", str(work),
            "--framework", "terraform_json", "secrets", "github_actions", "--enable-secret-scan-all-files",
            "--config-file", str(root / ".checkov.yaml"),
            "--skip-download", "--compact", *([] if list_passed else ["--quiet"]),
            "-o", "json", "-o", "sarif", "--output-file-path", str(reports),
        ]  # fmt: skip
        if (root / "policies").is_dir():
            command += ["--external-checks-dir", str(root / "policies")]
        result = subprocess.run(
            command,
            # checkov writes a finding's path relative to its working directory (Record.
            # _determine_repo_file_path): from here, "stacks/..." or "repository/...".
            cwd=work,
            capture_output=True,
            text=True,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
            timeout=900,
        )
        originals = {copy: stacks.resolve(), repository_copy: repository.resolve()}
        results_json = reports / "results_json.json"
        try:
            raw = json.loads(results_json.read_text())
        except (OSError, ValueError):
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            start = next((i for i, line in enumerate(lines) if "error" in line.lower()), len(lines) - 5)
            said = "\n".join(lines[max(start, 0) :][:5])
            raise GateFailed(f"checkov exited {result.returncode} without a report:\n{said}") from None
        reports_by_type = {item.get("check_type"): item for item in (raw if isinstance(raw, list) else [raw])}
        for item in reports_by_type.values():
            _restore_paths(item, originals)
        results_json.write_text(json.dumps(raw, indent=4))
        sarif = reports / "results_sarif.sarif"
        if sarif.exists():
            restored = _restore_sarif_uris(
                json.loads(sarif.read_text()), work, originals, repository.resolve()
            )
            (reports / "checkov.sarif").write_text(json.dumps(restored, indent=2))
            sarif.unlink()
    iac = summarize(json.dumps(reports_by_type.get("terraform_json", {})))
    workflows = summarize(json.dumps(reports_by_type.get("github_actions", {})))
    secrets = reports_by_type.get("secrets", {})
    found = secrets.get("results", {}).get("failed_checks", [])
    in_stacks = [c for c in found if Path(str(c.get("file_abs_path", ""))).is_relative_to(stacks.resolve())]
    return GateResult(
        iac=iac,
        workflows=workflows,
        stack_secrets=in_stacks,
        repository_secrets=[c for c in found if c not in in_stacks],
        suppressed_secrets=int(secrets.get("summary", {}).get("skipped", 0)),
        unreadable=unreadable,
        returncode=result.returncode,
    )


def _restore_paths(report: dict[str, Any], originals: dict[Path, Path]) -> None:
    """Points each check of one framework's JSON report back at the original file: its absolute
    paths at the file, its `file_path` relative to the stacks or the repository, as a scan of each
    on its own gives it."""
    for checks in report.get("results", {}).values():
        for check in checks if isinstance(checks, list) else []:
            path = Path(str(check.get("file_abs_path", "")))
            for copy, original in originals.items():
                if path.is_relative_to(copy):
                    check["file_abs_path"] = check["repo_file_path"] = str(original / path.relative_to(copy))
                    check["file_path"] = f"/{path.relative_to(copy)}"


def _restore_sarif_uris(sarif: Any, work: Path, originals: dict[Path, Path], repository: Path) -> Any:
    """checkov's SARIF with each location in a copy moved to the original file. checkov writes a
    location as the URL-quoted path relative to its working directory, `work`, without a leading
    "/" (checkov/common/output/sarif.py). An original inside the repository becomes relative to
    it, which is what GitHub's code scanning needs to show a finding on its file; one outside
    keeps checkov's form of an absolute path."""
    if isinstance(sarif, list):
        return [_restore_sarif_uris(item, work, originals, repository) for item in sarif]
    if not isinstance(sarif, dict):
        return sarif
    restored = {key: _restore_sarif_uris(value, work, originals, repository) for key, value in sarif.items()}
    uri = restored.get("uri")
    if isinstance(uri, str):
        path = work / unquote(uri)
        for copy, original in originals.items():
            if path.is_relative_to(copy):
                file = original / path.relative_to(copy)
                shown = file.relative_to(repository) if file.is_relative_to(repository) else file
                restored["uri"] = quote(str(shown).lstrip("/"))
    return restored


def _finding(check: dict[str, Any]) -> str:
    start, end = check.get("file_line_range", [0, 0])
    name, resource = check.get("check_name", ""), check.get("resource", "")
    where = check.get("file_abs_path", check.get("file_path"))
    return f"  FAILED {check['check_id']} {name}: {resource} at {where}:{start}-{end}"


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
    if not args.repository.is_dir():
        print(f"scan: --repository {args.repository} is not a directory", file=sys.stderr)
        return 2
    if not any(args.stacks.glob("*/cdk.tf.json")):
        print(f"scan: no synthesized stacks in {args.stacks}: run `python main.py` first", file=sys.stderr)
        return 2
    if not (args.root / ".checkov.yaml").is_file():
        print(f"scan: {args.root / '.checkov.yaml'} is missing: --root must be the project", file=sys.stderr)
        return 2
    try:
        gate = run_gate(
            args.stacks,
            root=args.root,
            repository=args.repository,
            reports=args.reports,
            list_passed=args.list_passed,
        )
    except GateFailed as error:
        print(f"scan: {error}", file=sys.stderr)
        return 2
    iac = gate.iac
    print(
        f"checkov: {iac.passed} passed, {iac.failed} failed, {iac.skipped} skipped, "
        f"{iac.parsing_errors} parsing errors (stacks in {args.stacks})"
    )
    for check in iac.failed_checks:
        print(_finding(check))
    print(f"workflows: {gate.workflows.passed} passed, {gate.workflows.failed} failed")
    for check in gate.workflows.failed_checks:
        print(_finding(check))
    print(f"secrets in synthesized stacks: {len(gate.stack_secrets)} found")
    for check in gate.stack_secrets:
        print(_finding(check))
    found, marked = len(gate.repository_secrets), gate.suppressed_secrets
    print(f"secrets in repository: {found} found, {marked} marked as test values")
    for check in gate.repository_secrets:
        print(_finding(check))
    for entry in gate.unreadable:
        print(f"  NOT SCANNED {entry}")
    print(f"SARIF: {args.reports / 'checkov.sarif'}")
    failed = (
        iac.failed
        + iac.parsing_errors
        + gate.workflows.failed
        + len(gate.stack_secrets)
        + len(gate.repository_secrets)
        + len(gate.unreadable)
    )
    return 1 if failed or gate.returncode not in (0, 1) else 0


if __name__ == "__main__":
    sys.exit(main())
