"""Typed roles (infrakit/stacks/roles.py): EnvironmentStack wires backends through their roles only,
and building them that way leaves every environment's synthesized Terraform as it was.

tests/fixtures/synth_digests.json holds the sha256 of every file under stacks/ of a synth of all
environments in environments/. It was recorded from the commit before the roles refactor, and must
change only with a deliberate change to the output. The graph role (#20) is optional: each shipped
environment, with its [graph] tables taken out, must still synthesize to the recorded bytes. To
record it again after such a change:

    INFRAKIT_SYNTH_CACHE=0 .venv/bin/python main.py --outdir /tmp/out
    .venv/bin/python -c 'import hashlib, json, pathlib; r = pathlib.Path("/tmp/out/stacks"); \
print(json.dumps({str(p.relative_to(r)): hashlib.sha256(p.read_bytes()).hexdigest() \
for p in sorted(r.rglob("*")) if p.is_file()}, indent=2, sort_keys=True))' > tests/fixtures/synth_digests.json
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import tomllib
from pathlib import Path

from infrakit import synth_cache
from infrakit.cdk import Container
from tests.conftest import ENVIRONMENTS, ROOT

DIGESTS = ROOT / "tests" / "fixtures" / "synth_digests.json"


def digests(stacks: Path) -> dict[str, str]:
    return {
        str(path.relative_to(stacks)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(stacks.rglob("*"))
        if path.is_file()
    }


_TABLE_HEADER = re.compile(r"^\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*(#.*)?$")


def without_graph(text: str) -> str:
    """An environment file's text with [graph] and its [[graph.*]] arrays taken out, all else as written."""
    kept, in_graph = [], False
    for line in text.splitlines(keepends=True):
        header = _TABLE_HEADER.match(line.strip())
        if header:
            table = header[1]
            in_graph = table == "graph" or table.startswith("graph.")
        if not in_graph:
            kept.append(line)
    return "".join(kept)


def test_without_graph_takes_out_exactly_the_graph_tables():
    """The helper the digest test relies on. What this cannot prove: comments and blank lines are
    compared only through the synthesized bytes, which do not depend on them."""
    for path in sorted(ENVIRONMENTS.glob("*.toml")):
        expected = {k: v for k, v in tomllib.loads(path.read_text()).items() if k != "graph"}
        assert tomllib.loads(without_graph(path.read_text())) == expected, path.name


def test_every_environment_without_its_graph_synthesizes_byte_for_byte_as_recorded(
    tmp_path, main_in_process, monkeypatch
):
    """What this cannot prove: that an environment *with* [graph] synthesizes as intended (the
    tests of each graph backend do that); only that adding the role changed nothing for the rest."""
    environments = tmp_path / "environments"
    environments.mkdir()
    for path in ENVIRONMENTS.glob("*.toml"):
        (environments / path.name).write_text(without_graph(path.read_text()))
    monkeypatch.delenv("CDKTF_OUTDIR", raising=False)
    monkeypatch.setenv(synth_cache.DISABLE_VARIABLE, "0")
    result = main_in_process(
        "--environments-dir", str(environments), "--outdir", str(tmp_path / "out"), cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert digests(tmp_path / "out" / "stacks") == json.loads(DIGESTS.read_text())


def test_local_synthesizes_with_neo4j(local_json, resources):
    """local.toml has [graph]: its stack runs Neo4j, and the api and worker wait for it and receive
    its contract. What this cannot prove: that Neo4j starts (see test_local_rehearsal.py)."""
    containers = resources(local_json, Container.TF_RESOURCE_TYPE)
    (neo4j_id,) = [rid for rid, c in containers.items() if c["name"] == "infrakit-local-neo4j"]
    for service in ("api", "worker"):
        (app,) = [c for c in containers.values() if c["name"] == f"infrakit-local-{service}"]
        assert f"docker_container.{neo4j_id}" in app["depends_on"], service
        names = {entry.split("=", 1)[0] for entry in app["env"]}
        assert {"NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD"} <= names, service
    assert {"neo4j_uri", "neo4j_username", "neo4j_password"} <= local_json["output"].keys()


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
