#!/usr/bin/env bash
# The policy gate: synthesize every environment, then run checkov (built-in checks and the
# custom policies in policies/) and a secret scan of the stacks and the repository.
# Prints a summary, writes SARIF to reports/checkov.sarif, and exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "scan: .venv is missing: run scripts/setup.sh first" >&2; exit 1; }
export PATH="$PWD/.venv/bin:$PATH" CHECKPOINT_DISABLE=1
python main.py
exec python -m infrakit.policy_gate "$@"
