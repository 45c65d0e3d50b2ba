#!/usr/bin/env bash
# Lint: ruff (rules and formatting) and mypy (strict, on infrakit/). Configured in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "lint: .venv is missing: run scripts/setup.sh first" >&2; exit 1; }
export PATH="$PWD/.venv/bin:$PATH"
echo "==> ruff" >&2
ruff check .
ruff format --check .
echo "==> mypy" >&2
mypy
