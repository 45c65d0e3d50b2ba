"""The Node that jsii starts for a synth: NODE_OPTIONS as infrakit/jsii_node.py sets it, and
provider_modules.js run by a real Node on a stand-in provider package written in the shape the
prebuilt providers ship (tests/test_fast_synth.py runs it on the real ones, in a real synth).
What this cannot prove: the time it saves (scripts/bench_synth.py measures that)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from infrakit import jsii_node
from tests.conftest import PYTHON

PRELOAD = f'--require "{jsii_node.PRELOAD}"'
HELPERS = """"use strict";
var __importStar = (this && this.__importStar) || function (mod) { return mod; };
Object.defineProperty(exports, "__esModule", { value: true });
exports.other = exports.vpc = void 0;
"""
ES_MODULE = 'Object.defineProperty(exports, "__esModule", { value: true });'


@pytest.mark.parametrize(
    ("before", "eager", "after"),
    [
        (None, None, PRELOAD),
        ("--max-old-space-size=4069", None, f"--max-old-space-size=4069 {PRELOAD}"),
        (PRELOAD, None, PRELOAD),  # set once, however often configured
        (None, "1", None),
        (f"--trace-warnings {PRELOAD}", "1", "--trace-warnings"),  # inherited, then turned off
    ],
)
def test_node_options(monkeypatch, before, eager, after):
    for name, value in (("NODE_OPTIONS", before), (jsii_node.EAGER_VARIABLE, eager)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    jsii_node.load_provider_modules_on_demand()
    assert os.environ.get("NODE_OPTIONS") == after


def package(root: Path, index: str, submodules: dict[str, str]) -> Path:
    lib = root / "node_modules" / "@cdktn" / "provider-standin" / "lib"
    for directory, source in submodules.items():
        (lib / directory).mkdir(parents=True)
        (lib / directory / "index.js").write_text(source)
    (lib / "index.js").write_text(index)
    return lib / "index.js"


def node(script: str, cwd: Path) -> str:
    node_binary = Path(PYTHON).parent / "node"
    done = subprocess.run(
        [
            str(node_binary if node_binary.exists() else "node"),
            "--require",
            str(jsii_node.PRELOAD),
            "-e",
            script,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


LOADED = "Object.keys(require.cache).filter(f => /standin[\\\\/]lib[\\\\/]\\w+[\\\\/]/.test(f)).length"


def test_a_provider_index_loads_each_submodule_when_first_read(tmp_path):
    index = package(
        tmp_path,
        HELPERS
        + 'exports.vpc = __importStar(require("./vpc/index"));\n'
        + 'exports.other = __importStar(require("./other/index"));\n'
        + "//# sourceMappingURL=data:application/json;base64,e30=\n",
        {
            "vpc": ES_MODULE + " exports.Vpc = class Vpc {};",
            "other": "throw new Error('loaded other');",
        },
    )
    script = (
        f"const p = require({str(index)!r}); const before = {LOADED};"
        f"console.log(before, p.vpc.Vpc.name, p.vpc === require({str(index.parent / 'vpc' / 'index.js')!r}),"
        f" {LOADED}, Object.keys(p).join(','))"
    )
    assert node(script, tmp_path) == "0 Vpc true 1 vpc,other"


def test_an_index_of_another_shape_loads_as_usual(tmp_path):
    index = package(
        tmp_path,
        HELPERS + 'exports.vpc = __importStar(require("./vpc/index"));\nconsole.error("side effect");\n',
        {"vpc": ES_MODULE + " exports.Vpc = 1;"},
    )
    assert node(f"require({str(index)!r}); console.log({LOADED})", tmp_path) == "1"


@pytest.mark.parametrize(("before", "after"), [(None, "1"), ("0", "0")], ids=["default", "kept"])
def test_cdktn_creation_stacks_are_off_unless_the_user_turns_them_on(monkeypatch, before, after):
    """Off by default; a value the user set wins. That no byte of the output changes is proven in
    tests/test_parallel_synth.py, which synthesizes with them on and off."""
    # Set first, so that monkeypatch restores the variable however the test leaves it.
    monkeypatch.setenv(jsii_node.CREATION_STACK_VARIABLE, before or "")
    if before is None:
        monkeypatch.delenv(jsii_node.CREATION_STACK_VARIABLE)
    jsii_node.skip_creation_stacks()
    assert os.environ[jsii_node.CREATION_STACK_VARIABLE] == after
