"""jsii's Node stopping on its own, with no Ctrl-C: a synth says what Node said, as text, then one
line naming what to check, exits 1 and replaces nothing; no traceback. Real Nodes refuse a
NODE_OPTIONS, or exit while loading a provider.

What these cannot prove: every way Node can die (out of memory, killed by the kernel's OOM killer),
which end the same way here only if jsii's channel sees them as these do (an empty reply or a
broken pipe).
"""

from __future__ import annotations

import io
import os
import subprocess
import threading
from pathlib import Path

import pytest

from infrakit import synth
from tests.conftest import ENVIRONMENTS, PYTHON, ROOT

# Preloaded into jsii's Node: it exits as soon as the kernel loads the Docker provider, mid-synth.
EXITS_LOADING_DOCKER = """
const Module = require("node:module");
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/provider-docker/.test(request)) process.exit(9);
  return load.call(this, request, ...rest);
};
"""


def main_py(tmp_path: Path, *names: str, options: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "main.py", *names, "--outdir", str(tmp_path / "out")],
        cwd=ROOT,
        env={**os.environ, "INFRAKIT_SYNTH_CACHE": "0", "NODE_OPTIONS": options, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_node_option_node_refuses_is_reported_as_node_said_it_then_one_line(tmp_path):
    result = main_py(tmp_path, "local", options="--no-opt")

    assert result.returncode == 1
    assert result.stderr.endswith(f"not allowed in NODE_OPTIONS\n{synth.NODE_STOPPED}\n")
    assert result.stderr.count(": --no-opt is not allowed in NODE_OPTIONS\n") == 1
    assert "b'" not in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not any((tmp_path / "out").rglob("*"))  # nothing written, no staging left behind


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_node_that_exits_mid_synth_fails_it_with_one_line_and_replaces_nothing(tmp_path, jobs):
    """In one process, and in the second of two (which synthesizes `local`, the only environment
    with the Docker provider), whose failure the first then reports as well."""
    probe = tmp_path / "exits.js"
    probe.write_text(EXITS_LOADING_DOCKER)
    environments = tmp_path / "environments"
    environments.mkdir()
    for name in ("dev", "local"):
        (environments / f"{name}.toml").write_text((ENVIRONMENTS / f"{name}.toml").read_text())

    temporary = tmp_path / "tmp"
    temporary.mkdir()

    result = main_py(
        tmp_path,
        "--environments-dir",
        str(environments),
        options=f'--require "{probe}"',
        INFRAKIT_SYNTH_JOBS=jobs,
        TMPDIR=str(temporary),
    )

    assert result.returncode == 1
    assert synth.NODE_STOPPED in result.stderr
    assert "Traceback" not in result.stderr
    assert list(temporary.iterdir()) == []  # Node's own directory (infrakit-node-*) removed too
    assert not any((tmp_path / "out").rglob("*"))  # nothing written, no staging left behind


def test_what_node_wrote_outside_javascript_is_released_as_text():
    """jsii prints such a line with print(bytes): the repr, then a newline of print's own."""
    real = io.StringIO()
    held = synth._HeldFromOtherThreads(real)  # noqa: SLF001 - the class under test
    lines = [b"node: --no-opt is not allowed in NODE_OPTIONS\n", "plain text from Node\n", b"no newline"]

    def jsii_stderr_sink() -> None:
        for line in lines:
            print(line, file=held)

    thread = threading.Thread(target=jsii_stderr_sink)
    thread.start()
    thread.join()
    assert real.getvalue() == ""
    held.release()

    assert real.getvalue() == (
        "node: --no-opt is not allowed in NODE_OPTIONS\nplain text from Node\n\nb'no newline'\n"
    )
