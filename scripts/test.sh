#!/usr/bin/env bash
# Run the test suite. Run scripts/setup.sh once first; extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "test: .venv is missing: run scripts/setup.sh first" >&2; exit 1; }
export PATH="$PWD/.venv/bin:$PATH" CHECKPOINT_DISABLE=1
exec python -m pytest "$@"
