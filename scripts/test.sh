#!/usr/bin/env bash
# The test command: the test servers (installed once, see scripts/test-servers.sh), lint (while the
# suite is byte-compiled), then the test suite on every core (pytest-xdist).
# Run scripts/setup.sh once first.
# Extra arguments go to pytest (and skip lint, for quick focused runs); `-n 0` runs in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "test: .venv is missing: run scripts/setup.sh first" >&2; exit 1; }
export PATH="$PWD/.venv/bin:$PATH" CHECKPOINT_DISABLE=1
scripts/test-servers.sh
# The suite's byte code, written once while lint runs, instead of by every worker on every run
# (scripts/compile_tests.py). Quiet unless a file does not compile; it never fails the command.
python scripts/compile_tests.py tests &
compiling=$!
trap 'kill "$compiling" 2>/dev/null || true' EXIT
[ $# -gt 0 ] || scripts/lint.sh
wait "$compiling" || true
trap - EXIT
# One worker more than there are cores: many tests wait on a server or a child process, and an
# extra worker fills that time (measured on 2 cores, 2026-12-06: 2 workers 143 s, 3 workers 124 s,
# 4 workers 125 s). worksteal rebalances the long tests that would otherwise finish last on one worker.
exec python -m pytest -n "$(( $(nproc) + 1 ))" --dist worksteal "$@"
