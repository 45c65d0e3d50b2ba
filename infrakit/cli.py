"""`python -m infrakit <command>`: operator commands around `cdktf deploy`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from infrakit.config import ConfigError, load_environments
from infrakit.preflight import deploy_prerequisites

EXIT_CONFIG_ERROR = 2
EXIT_NOT_READY = 3


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infrakit")
    parser.add_argument(
        "--environments-dir", type=Path, default=Path("environments"), help="default: %(default)s"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    preflight = commands.add_parser("preflight", help="check that `cdktf deploy ENV` has what it needs")
    preflight.add_argument("--env", required=True, metavar="ENV")
    args = parser.parse_args(argv)

    try:
        (environment,) = load_environments(args.environments_dir, [args.env])
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return EXIT_CONFIG_ERROR

    missing = deploy_prerequisites(environment, project_root=Path.cwd())
    if not missing:
        print(f"infrakit: ready to deploy '{environment.name}'", file=sys.stderr)
        return 0
    print(f"infrakit: cannot deploy '{environment.name}' yet; missing:", file=sys.stderr)
    for item in missing:
        print(f"  - {item}", file=sys.stderr)
    return EXIT_NOT_READY
