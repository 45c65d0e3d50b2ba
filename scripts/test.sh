#!/usr/bin/env bash
# The test command: lint, then the test suite. Run scripts/setup.sh once first.
# Extra arguments go to pytest (and skip lint, for quick focused runs).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "test: .venv is missing: run scripts/setup.sh first" >&2; exit 1; }
export PATH="$PWD/.venv/bin:$PATH" CHECKPOINT_DISABLE=1
[ $# -gt 0 ] || scripts/lint.sh
exec python -m pytest "$@"
