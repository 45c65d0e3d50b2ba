"""Typed roles (infrakit/stacks/roles.py): EnvironmentStack wires backends through their roles only,
and building them that way leaves every environment's synthesized Terraform as it was.

tests/fixtures/synth_digests.json holds the sha256 of every file under stacks/ of a synth of all
environments in environments/. It was recorded from the commit before the roles refactor, and must
change only with a deliberate change to the output. To record it again after such a change:

    INFRAKIT_SYNTH_CACHE=0 .venv/bin/python main.py --outdir /tmp/out
    .venv/bin/python -c 'import hashlib, json, pathlib; r = pathlib.Path("/tmp/out/stacks"); \
print(json.dumps({str(p.relative_to(r)): hashlib.sha256(p.read_bytes()).hexdigest() \
for p in sorted(r.rglob("*")) if p.is_file()}, indent=2, sort_keys=True))' > tests/fixtures/synth_digests.json
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
from pathlib import Path

from infrakit import synth_cache
from tests.conftest import PYTHON, ROOT

DIGESTS = ROOT / "tests" / "fixtures" / "synth_digests.json"


def digests(stacks: Path) -> dict[str, str]:
    return {
        str(path.relative_to(stacks)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(stacks.rglob("*"))
        if path.is_file()
    }


def test_every_environment_synthesizes_byte_for_byte_as_recorded(tmp_path):
    environ = {k: v for k, v in os.environ.items() if k != "CDKTF_OUTDIR"}
    environ[synth_cache.DISABLE_VARIABLE] = "0"
    result = subprocess.run(
        [PYTHON, "main.py", "--outdir", str(tmp_path)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert digests(tmp_path / "stacks") == json.loads(DIGESTS.read_text())


WIRING = [
    ROOT / "infrakit" / "stacks" / "environment_stack.py",
    ROOT / "infrakit" / "stacks" / "fargate_wiring.py",
]


def names_used(source: Path) -> set[str]:
    """Every name the module reads or imports (comments and docstrings do not count)."""
    tree = ast.parse(source.read_text())
    read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    imported = {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    return read | imported


def test_the_stack_wiring_asks_for_roles_not_for_attributes_it_hopes_for():
    for source in WIRING:
        assert not names_used(source) & {"getattr", "hasattr", "Any"}, source.name
