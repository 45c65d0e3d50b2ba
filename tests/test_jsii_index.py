"""`python -m infrakit.jsii_index`: jsii's index of the provider packages, written once per machine
by a real kernel into a throwaway package cache (JSII_RUNTIME_PACKAGE_CACHE_ROOT), on the random
provider (small, so quick; the AWS provider takes seconds and hundreds of megabytes).

What these cannot prove: the time the index saves a synth (`python main.py dev` took 4.3 s without
it and 2.0 s with it, measured by hand; a benchmark would need a package cache built afresh), or
that a later jsii keeps its index where --check looks (a jsii upgrade that moves it fails
test_a_package_is_indexed_once_and_then_found_up_to_date).
"""

from __future__ import annotations

import importlib.metadata
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from infrakit import jsii_index, jsii_node
from tests.conftest import PYTHON, ROOT, start_foreground_job

PACKAGE = "cdktn_provider_random"

# Preloaded into jsii's Node: records each Node process that starts, and holds each worker thread
# (the index worker is the only one) for $HOLD_WORKER_MS first, so that indexing takes a while.
PROBE = """
const fs = require("node:fs");
const threads = require("node:worker_threads");
if (threads.isMainThread) fs.appendFileSync(process.env.NODE_STARTED, `${process.pid}\\n`);
else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.env.HOLD_WORKER_MS || 0));
"""


@pytest.fixture
def cache(tmp_path: Path) -> dict[str, str]:
    """The environment of a run with an empty package cache of its own, and the probe preloaded."""
    probe = tmp_path / "probe.js"
    probe.write_text(PROBE)
    return {
        **os.environ,
        "JSII_RUNTIME_PACKAGE_CACHE_ROOT": str(tmp_path / "package-cache"),
        "NODE_OPTIONS": f'--require "{probe}"',
        "NODE_STARTED": str(tmp_path / "node-started"),
    }


def index(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "infrakit.jsii_index", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def nodes_started(env: dict[str, str]) -> int:
    path = Path(env["NODE_STARTED"])
    return len(path.read_text().split()) if path.exists() else 0


def index_files(env: dict[str, str]) -> list[Path]:
    return list(
        Path(env["JSII_RUNTIME_PACKAGE_CACHE_ROOT"]).glob("@cdktn/provider-random/*/*/.jsii.runtime*")
    )


def test_a_package_is_indexed_once_and_then_found_up_to_date(cache):
    assert index(cache, "--check", PACKAGE).returncode == jsii_index.EXIT_NOT_INDEXED

    first = index(cache, PACKAGE)

    assert first.returncode == 0, first.stderr
    assert first.stderr.startswith(f"infrakit: indexing {PACKAGE} in ")
    assert "infrakit: indexed in " in first.stderr
    assert len(index_files(cache)) == 3  # the manifest, the index and the definitions
    assert index(cache, "--check", PACKAGE).returncode == 0
    assert nodes_started(cache) == 1

    again = index(cache, PACKAGE)

    assert again.returncode == 0
    assert again.stderr == f"infrakit: jsii's index of {PACKAGE} is up to date\n"
    assert nodes_started(cache) == 1  # no Node started to find that out


def test_a_kernel_not_asked_to_finish_indexing_stops_before_the_index_is_written(cache):
    """Why the index step exists: a kernel that loads a package for the first time and then exits,
    as a synth does, leaves no index, however small the package."""
    script = (
        f"from infrakit import jsii_node\njsii_node.configure()\nimport {PACKAGE}\njsii_node.stop_kernel()\n"
    )
    result = subprocess.run(
        [PYTHON, "-c", script], cwd=ROOT, env=cache, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    assert nodes_started(cache) == 1
    assert index_files(cache) == []


def test_waiting_for_the_index_says_so(cache):
    """The kernel's exit waits for an index worker held for 6.5 s, saying so every 5 s."""
    result = index({**cache, "HOLD_WORKER_MS": "6500"}, PACKAGE)

    assert result.returncode == 0, result.stderr
    assert "infrakit: still indexing (5 s)\n" in result.stderr
    assert len(index_files(cache)) == 3


def test_ctrl_c_while_indexing_prints_one_line_exits_130_and_the_next_run_finishes(cache, tmp_path):
    """A terminal's Ctrl-C reaches Python and Node alike, while the index worker is held."""
    process = start_foreground_job(
        [PYTHON, "-m", "infrakit.jsii_index", PACKAGE], cwd=ROOT, env={**cache, "HOLD_WORKER_MS": "20000"}
    )
    deadline = time.monotonic() + 60
    while nodes_started(cache) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # the package loaded, its worker held
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == jsii_index.EXIT_INTERRUPTED
    assert stdout == ""
    assert stderr.splitlines()[-1] == (
        "infrakit: indexing interrupted; the next run finishes it (synths work meanwhile, only slower)"
    )
    assert "Traceback" not in stderr
    assert index_files(cache) == []

    finished = index(cache, PACKAGE)
    assert finished.returncode == 0, finished.stderr
    assert len(index_files(cache)) == 3


def test_a_node_that_will_not_start_is_reported_in_lines_not_a_traceback(cache):
    """Node refuses the NODE_OPTIONS: what it said, as text and once (stopping the kernel must not
    start another Node to ask it), then one line; exit 1. Setup carries on after that."""
    result = index({**cache, "NODE_OPTIONS": "--no-opt"}, PACKAGE)

    assert result.returncode == 1
    assert result.stderr.count(": --no-opt is not allowed in NODE_OPTIONS\n") == 1
    assert result.stderr.endswith("Check NODE_OPTIONS and JSII_NODE (synths work, only slower)\n")
    assert "Traceback" not in result.stderr
    assert "b'" not in result.stderr


def test_usage_and_a_cache_turned_off(cache):
    unknown = index(cache, "no_such_package")
    assert unknown.returncode == jsii_index.EXIT_USAGE
    assert unknown.stderr == "infrakit: not an installed jsii package: no_such_package\n"

    off = index({**cache, "JSII_RUNTIME_PACKAGE_CACHE": "disabled"}, PACKAGE)
    assert off.returncode == 0
    assert "package cache is off" in off.stderr
    assert nodes_started(cache) == 0


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({}, "linux", "/home/u/.cache/aws/jsii/package-cache"),
        ({}, "darwin", "/home/u/Library/Caches/com.amazonaws.jsii/package-cache"),
        ({"JSII_RUNTIME_PACKAGE_CACHE_ROOT": "/c"}, "linux", "/c"),
        ({"JSII_RUNTIME_PACKAGE_CACHE_ROOT": ""}, "linux", "/home/u/.cache/aws/jsii/package-cache"),
        ({"JSII_RUNTIME_PACKAGE_CACHE": "Disabled"}, "linux", None),
        ({"JSII_RUNTIME_PACKAGE_CACHE": "ENABLED"}, "linux", "/home/u/.cache/aws/jsii/package-cache"),
    ],
)
def test_cache_root_is_where_jsii_puts_it(environ, platform, expected):
    """As jsii 1.142's kernel decides (lib__program.js: defaultCacheRoot, openCache)."""
    root = jsii_index.cache_root(environ, Path("/home/u"), platform)
    assert (str(root) if root else None) == expected


def test_the_installed_providers_are_found_by_their_assemblies():
    version = importlib.metadata.version("cdktn-provider-aws")  # the npm package's, too
    assert jsii_index.assembly("cdktn_provider_aws") == ("@cdktn/provider-aws", version)
    assert jsii_index.assembly("os") is None
    assert jsii_node.KERNEL.is_file()
