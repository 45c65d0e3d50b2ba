"""Environment files with a [graph] of the test's own, for the graph tests (whatever local.toml holds)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import local_text

GRAPH_BASE = """
[graph]
backend = "docker"
image = "neo4j:5.26.28-community"
memory_mb = 1536
cpus = 1.0
heap_mb = 512
page_cache_mb = 512
bolt_host_port = 27687
http_host_port = 27474
"""


def without_graph(text: str) -> str:
    """local.toml's text without its [graph] tables, if it has any."""
    kept: list[str] = []
    in_graph = False
    for line in text.splitlines(keepends=True):
        header = re.match(r"^\[\[?([A-Za-z_.]+)\]\]?\s*$", line)
        if header:
            in_graph = header[1] == "graph" or header[1].startswith("graph.")
        if not in_graph:
            kept.append(line)
    return "".join(kept)


def write_environment(directory: Path, graph_tables: str | None, name: str = "local") -> Path:
    """environments/<name>.toml: local.toml with `graph_tables` (after [graph]) as its graph, or none."""
    directory.mkdir(parents=True, exist_ok=True)
    text = without_graph(local_text())
    if graph_tables is not None:
        text += GRAPH_BASE + graph_tables
    (directory / f"{name}.toml").write_text(text)
    return directory
