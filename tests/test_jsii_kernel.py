"""jsii's kernel run in place (infrakit/jsii_kernel.js, set up by jsii_node.run_kernel_in_place):
one Node per kernel instead of jsii's relay and the Node it starts, with what the kernel's
JavaScript prints reaching Python as the relay would send it, and the installed jsii's kernel
bundle one that can run so. tests/test_fast_synth.py compares the bytes of a synth either way.

What these cannot prove: the time it saves (scripts/bench_synth.py measures that), or that a later
jsii still works in place (test_the_installed_jsii_kernel_runs_in_place fails on an upgrade that
moves what jsii_kernel.js changes, and synths then go through the relay).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from unittest import mock

import pytest

from infrakit import jsii_node
from tests.conftest import PYTHON, ROOT

NODE = Path(PYTHON).parent / "node"

# Preloaded into every Node of a synth: records each Node's script, and when the kernel first
# loads a package (the `constructs` assembly), prints on stdout and stderr, non-ASCII included.
PROBE = r"""
const fs = require("node:fs");
const Module = require("node:module");
fs.appendFileSync(process.env.PROBE_RECORD, `${process.argv[1]}\n`);
const load = Module._load;
let printed = false;
Module._load = function (request, ...rest) {
  if (!printed && /(^|[\\/])constructs$/.test(request)) {
    printed = true;
    console.log("probe: stdout from jsii's Node, ünïcode ✓");
    console.error("probe: stderr from jsii's Node");
  }
  return load.call(this, request, ...rest);
};
"""


@pytest.fixture
def environ_restored():
    """run_kernel_in_place() sets variables in os.environ: put the worker's back afterwards."""
    with mock.patch.dict(os.environ):
        yield


def synth_with_probe(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    probe = tmp_path / "probe.js"
    probe.write_text(PROBE)
    record = tmp_path / "node-processes"
    result = subprocess.run(
        [PYTHON, "main.py", "local", "--outdir", str(tmp_path / "out")],
        cwd=ROOT,
        env={
            **os.environ,
            "INFRAKIT_SYNTH_CACHE": "0",
            "NODE_OPTIONS": f'--require "{probe}"',
            "PROBE_RECORD": str(record),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result, record.read_text().split()


def test_the_installed_jsii_kernel_runs_in_place():
    """The jsii installed here ships a kernel bundle that jsii_kernel.js can change, and configure()
    names the launcher in JSII_RUNTIME. A jsii upgrade that moves either change fails here."""
    program = jsii_node.kernel_program()
    assert program is not None
    assert program.name == "lib__program.js"
    assert os.environ[jsii_node.RUNTIME_VARIABLE] == str(jsii_node.KERNEL)  # conftest configured
    assert os.environ[jsii_node.PROGRAM_VARIABLE] == str(program)


@pytest.mark.parametrize(
    ("relay", "scripts"),
    [(None, ["jsii_kernel.js"]), ("1", ["jsii-runtime.js", "program.js"])],
    ids=["in place", "relay"],
)
def test_a_synth_starts_one_node_and_what_it_prints_reaches_python_as_through_the_relay(
    tmp_path, relay, scripts
):
    """A real `main.py local`: in place, jsii starts one Node, running jsii_kernel.js; behind the
    relay (INFRAKIT_JSII_RELAY=1), two. Either way what the kernel's JavaScript writes to stdout
    and stderr arrives decoded on main.py's stdout and stderr: no JSON, no bytes repr.

    It cannot prove the same for what Node itself writes to fd 2 outside JavaScript (a fatal V8
    error): jsii's Python prints such lines as a bytes repr, for the relay's own lines too."""
    env = {} if relay is None else {jsii_node.RELAY_VARIABLE: relay}
    result, started = synth_with_probe(tmp_path, **env)

    assert result.returncode == 0, result.stderr
    assert sorted(Path(script).name for script in started) == scripts
    assert "probe: stdout from jsii's Node, ünïcode ✓\n" in result.stdout
    assert "probe: stderr from jsii's Node\n" in result.stderr
    assert "infrakit: synthesized local\n" in result.stdout
    for output in (result.stdout, result.stderr):
        assert "b'" not in output
        assert '{"std' not in output


# A stand-in for jsii's kernel bundle, holding each text jsii_kernel.js changes once: it answers
# on the channel's write side what those texts became, and prints through console.log.
STAND_IN_KERNEL = """
const channel = {readFD:3,writeFD:3};
const worker = require("node:path").join(__dirname, "runtime-index-worker.js");
require("node:fs").writeSync(channel.writeFD, JSON.stringify({ channel, worker }) + "\\n");
console.log("printed by the kernel");
"""


def embedded(tmp_path: Path, program: str, worker: bool = True) -> Path:
    directory = tmp_path / "embedded"
    directory.mkdir()
    (directory / "lib__program.js").write_text(program)
    if worker:
        (directory / "lib__runtime-index-worker.js").write_text("")
    return directory


def launch(program: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NODE), str(jsii_node.KERNEL)],
        env={**os.environ, jsii_node.PROGRAM_VARIABLE: str(program), "NODE_OPTIONS": ""},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_launcher_moves_the_channel_to_stdin_and_stdout_and_forwards_what_javascript_prints(tmp_path):
    """A real Node runs jsii_kernel.js on the stand-in: the channel is fd 0 and 1, the index
    worker is the file jsii ships beside the bundle, and console.log leaves as the relay's
    {"stdout": base64} line on stderr. Cannot prove the real kernel reads what it is sent (the
    synths above do)."""
    directory = embedded(tmp_path, STAND_IN_KERNEL)
    assert jsii_node.usable_program(directory) == directory / "lib__program.js"

    result = launch(directory / "lib__program.js")

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["channel"] == {"readFD": 0, "writeFD": 1}
    assert answer["worker"] == str(directory / "lib__runtime-index-worker.js")
    forwarded = json.loads(result.stderr)
    assert base64.b64decode(forwarded["stdout"]) == b"printed by the kernel\n"


def test_an_exception_nothing_catches_leaves_as_the_relay_sends_it_and_ends_the_kernel(tmp_path):
    """What Node would print raw on fd 2 (which jsii's Python shows as a bytes repr) leaves as a
    {"stderr": base64} line, and the kernel exits 1, as Node does."""
    thrown = 'setImmediate(() => { throw new Error("thrown later by the kernel"); });\n'
    directory = embedded(tmp_path, STAND_IN_KERNEL + thrown)

    result = launch(directory / "lib__program.js")

    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    printed = b"".join(base64.b64decode(line["stderr"]) for line in lines if "stderr" in line)
    assert printed.startswith(b"Error: thrown later by the kernel\n    at ")


@pytest.mark.parametrize(
    ("program", "worker"),
    [
        (STAND_IN_KERNEL.replace("readFD:3,writeFD:3", "readFD: 3, writeFD: 3"), True),  # moved
        (STAND_IN_KERNEL + "const again = {readFD:3,writeFD:3};\n", True),  # twice
        (STAND_IN_KERNEL.replace('"runtime-index-worker.js"', '"index-worker.js"'), True),
        (STAND_IN_KERNEL, False),  # no worker beside it
    ],
    ids=["channel moved", "channel twice", "worker renamed", "no worker"],
)
def test_a_kernel_bundle_of_another_shape_is_left_to_the_relay(
    tmp_path, monkeypatch, environ_restored, program, worker
):
    """usable_program turns such a bundle down, so configure() leaves JSII_RUNTIME unset and jsii
    starts its relay; given one anyway, the launcher stops before running it, naming the way out."""
    directory = embedded(tmp_path, program, worker)
    assert jsii_node.usable_program(directory) is None

    monkeypatch.setattr(jsii_node, "kernel_program", lambda: jsii_node.usable_program(directory))
    jsii_node.run_kernel_in_place()
    assert jsii_node.RUNTIME_VARIABLE not in os.environ
    assert jsii_node.PROGRAM_VARIABLE not in os.environ

    if worker:
        result = launch(directory / "lib__program.js")
        assert result.returncode != 0
        assert result.stdout == ""
        assert "set INFRAKIT_JSII_RELAY=1" in result.stderr


@pytest.mark.parametrize(
    ("runtime", "relay", "expected"),
    [
        (None, None, str(jsii_node.KERNEL)),
        ("/opt/my-jsii-runtime.js", None, "/opt/my-jsii-runtime.js"),  # the user's own: kept
        (None, "1", None),
        (str(jsii_node.KERNEL), "1", None),  # inherited from a parent that ran it in place
    ],
)
def test_jsii_runtime(monkeypatch, environ_restored, runtime, relay, expected):
    for name, value in ((jsii_node.RUNTIME_VARIABLE, runtime), (jsii_node.RELAY_VARIABLE, relay)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    jsii_node.run_kernel_in_place()
    assert os.environ.get(jsii_node.RUNTIME_VARIABLE) == expected


def test_a_package_loaded_for_the_first_time_is_indexed_in_place(tmp_path):
    """jsii's kernel indexes each package the first time it takes it from its package cache, in a
    worker thread, so that later processes load only the types they use. In place, that worker
    is the file jsii ships beside the bundle: with an empty package cache, a real kernel writes
    the index of the random provider (small, so quick). Without the change to the worker's path
    the worker fails to start, silently, and no index is ever written.

    It cannot prove how long a fresh machine's short synths go without the AWS provider's index
    (the worker stops with the kernel, and the index of the 155 MB assembly takes seconds)."""
    cache = tmp_path / "package-cache"
    script = (
        "import glob, os, sys, time\n"
        "from infrakit import jsii_node\n"
        "jsii_node.configure()\n"
        "assert os.environ['JSII_RUNTIME'] == str(jsii_node.KERNEL)\n"
        "import cdktn_provider_random\n"
        "deadline = time.monotonic() + 30\n"
        "while time.monotonic() < deadline:\n"
        "    if glob.glob(sys.argv[1] + '/@cdktn/provider-random/*/*/.jsii.runtime.v1.json'):\n"
        "        sys.exit(0)\n"
        "    time.sleep(0.1)\n"
        "sys.exit(3)\n"
    )
    result = subprocess.run(
        [PYTHON, "-c", script, str(cache)],
        cwd=ROOT,
        env={**os.environ, "JSII_RUNTIME_PACKAGE_CACHE_ROOT": str(cache), "JSII_RUNTIME": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert list(cache.glob("@cdktn/provider-random/*/*/.jsii.runtime-index.v1"))
