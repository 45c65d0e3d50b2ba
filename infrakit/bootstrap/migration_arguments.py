"""The `migrate` command's arguments: status by default, `--apply`, `--dry-run`, and `repair`.

Only argparse here: building the parser must not import the database driver.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_TIMEOUT_SECONDS = 5.0
TIMEOUT_HELP = (
    "seconds to wait for the database to accept the connection (default: %(default)s); libpq waits "
    "whole seconds and at least 2, so a smaller value means 2 and a fraction is rounded up"
)


def add_migrate_arguments(migrate: argparse.ArgumentParser) -> None:
    """Add to `migrate` (which already has --env and --migrations-dir) its modes and `repair`."""
    mode = migrate.add_mutually_exclusive_group()
    mode.add_argument("--apply", action="store_true", help="apply pending migrations")
    mode.add_argument("--dry-run", action="store_true", help="print the SQL --apply would run")
    migrate.add_argument(
        "--include-all",
        action="store_true",
        help="also apply pending migrations older than the newest applied one (as `supabase db push "
        "--include-all`); without it they are refused",
    )
    migrate.add_argument(
        "--timeout", type=positive_seconds, default=DEFAULT_TIMEOUT_SECONDS, help=TIMEOUT_HELP
    )
    # argparse would print the optional `repair` action as a positional everyone must give.
    migrate.usage = (
        "%(prog)s [-h] --env ENV [--migrations-dir DIR] [--apply | --dry-run] [--include-all] "
        "[--timeout SECONDS]\n"
        "       %(prog)s repair --status {applied,reverted} VERSION [VERSION ...] --env ENV"
    )
    actions = migrate.add_subparsers(dest="action", metavar="repair", title="action (default: show status)")
    repair = actions.add_parser(
        "repair",
        prog=f"{migrate.prog} repair",  # not migrate's usage, which would then be repeated here
        help="record versions as applied or reverted in the ledger, without running them",
        description="Change only the ledger (supabase_migrations.schema_migrations), in one transaction "
        "under the migration lock, as `supabase migration repair` does. `applied` records each "
        "version with its local file's name and statements (for a version already recorded, it "
        "accepts the file as it is now); `reverted` deletes each version's row.",
    )
    repair.add_argument(
        "--status",
        required=True,
        choices=("applied", "reverted"),
        help="applied: record without running; reverted: delete the ledger row, leaving the schema as is",
    )
    repair.add_argument(
        "versions", nargs="+", type=migration_version, metavar="VERSION", help="e.g. 20261124090000"
    )
    # `migrate repair ... --env ENV` reads naturally, but argparse hands everything after `repair` to
    # repair's parser: these take the options there too (SUPPRESS: absent, they leave migrate's value).
    required_env = migrate._option_string_actions["--env"]
    repair.add_argument(
        "--env",
        action=_StandsIn,
        stands_in_for=required_env,
        default=argparse.SUPPRESS,
        metavar="ENV",
        help="as for migrate",
    )
    repair.add_argument("--migrations-dir", type=Path, default=argparse.SUPPRESS, help="as for migrate")
    repair.add_argument("--timeout", type=positive_seconds, default=argparse.SUPPRESS, help="as for migrate")


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds above 0")
    return value


def migration_version(text: str) -> str:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a migration version: give the digits before the first _ of the file "
            "name, e.g. 20261124090000"
        )
    return text


class _StandsIn(argparse.Action):
    """An option of `repair` that also satisfies `migrate`'s required option of the same name."""

    def __init__(
        self, option_strings: Sequence[str], dest: str, *, stands_in_for: argparse.Action, **kw: Any
    ):
        super().__init__(option_strings, dest, **kw)
        self.stands_in_for = stands_in_for

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        # migrate checks its required options after repair's parser has run, so this still counts.
        self.stands_in_for.required = False
