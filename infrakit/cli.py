"""`python -m infrakit <command> --env ENV`: the operator's commands around `cdktf deploy`.

  preflight     check that `cdktf deploy ENV` has what it needs
  migrate       show migration status; --apply applies, --dry-run prints the SQL
  collections   create missing Qdrant collections, report ones that differ from config
  validate      check every service the environment defines
  bootstrap     migrate --apply, collections, validate: what scripts/setup.sh runs after deploy

Exit codes: 0 success, 1 a step failed, 2 usage or configuration error, 3 not ready to deploy.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table

from infrakit.bootstrap.endpoints import Endpoints, EndpointsError, load_endpoints
from infrakit.bootstrap.redaction import redact
from infrakit.config import ConfigError, Environment, load_environments
from infrakit.preflight import deploy_prerequisites

EXIT_FAILED = 1
EXIT_CONFIG_ERROR = 2
EXIT_NOT_READY = 3
# Supabase's transaction pooler does not keep session state such as advisory locks.
TRANSACTION_POOLER_PORT = 6543

console = Console(stderr=True, highlight=False, soft_wrap=True)


class StepFailed(Exception):
    """A user-facing failure of one step; its message is already redacted."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        (environment,) = load_environments(args.environments_dir, [args.env])
    except ConfigError as error:
        console.print(error.report(), markup=False)
        return EXIT_CONFIG_ERROR
    if args.command == "preflight":
        return _preflight(environment)
    try:
        endpoints = load_endpoints(environment.name, project_root=Path.cwd())
    except EndpointsError as error:
        console.print(f"infrakit: {redact(str(error))}", markup=False)
        return EXIT_FAILED
    try:
        if args.command == "bootstrap":
            return _bootstrap(environment, endpoints, args)
        return {"migrate": _migrate, "collections": _collections, "validate": _validate}[args.command](
            environment, endpoints, args
        )
    except StepFailed as error:
        console.print(f"infrakit: {error}", markup=False)
        return EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infrakit", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--environments-dir", type=Path, default=Path("environments"), help="default: %(default)s"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--env", required=True, metavar="ENV", help="environment name, e.g. local")
        return sub

    command("preflight", "check that `cdktf deploy ENV` has what it needs")
    for name, help_text in (
        ("migrate", "migration status; --apply applies pending migrations"),
        ("bootstrap", "migrate --apply, collections, validate"),
    ):
        sub = command(name, help_text)
        sub.add_argument("--migrations-dir", type=Path, default=Path("supabase/migrations"))
        if name == "migrate":
            mode = sub.add_mutually_exclusive_group()
            mode.add_argument("--apply", action="store_true", help="apply pending migrations")
            mode.add_argument("--dry-run", action="store_true", help="print the SQL --apply would run")
        else:
            sub.add_argument(
                "--if-deployed",
                action="store_true",
                help="do nothing (exit 0) when the environment has no endpoints yet",
            )
    for name in ("collections", "bootstrap"):
        sub = commands.choices.get(name) or command(name, "create or check Qdrant collections")
        sub.add_argument(
            "--recreate-mismatched",
            action="store_true",
            help="DROP and recreate collections whose config differs (their data is lost)",
        )
    for name in ("validate", "bootstrap"):
        sub = commands.choices.get(name) or command(name, "check every service the environment defines")
        if name == "validate":
            sub.add_argument(
                "--service",
                action="append",
                choices=("postgres", "redis", "qdrant", "supabase"),
                help="check only this service (repeatable)",
            )
            sub.add_argument("--json", action="store_true", help="print results as JSON on stdout")
        sub.add_argument(
            "--timeout", type=float, default=5.0, help="seconds per attempt (default: %(default)s)"
        )
        sub.add_argument(
            "--deadline", type=float, default=30.0, help="seconds for all checks (default: %(default)s)"
        )
    return parser


# ----------------------------------------------------------------------------- commands


def _preflight(environment: Environment) -> int:
    missing = deploy_prerequisites(environment, project_root=Path.cwd())
    if not missing:
        console.print(f"infrakit: ready to deploy '{environment.name}'")
        return 0
    console.print(f"infrakit: cannot deploy '{environment.name}' yet; missing:", markup=False)
    for item in missing:
        console.print(f"  - {item}", markup=False)
    return EXIT_NOT_READY


def _migrate(environment: Environment, endpoints: Endpoints, args: argparse.Namespace) -> int:
    from infrakit.bootstrap.migrations import (
        MigrationError,
        apply_migrations,
        dry_run_sql,
        load_migrations,
        migration_status,
    )

    secrets = endpoints.secrets()
    try:
        migrations = load_migrations(args.migrations_dir)
        url = _migration_url(endpoints)
        status = migration_status(url, migrations)
        if args.dry_run:
            print(redact(dry_run_sql(status.pending), secrets))
            return 0
        if not args.apply:
            console.print(
                f"{len(status.applied)} applied, {len(status.pending)} pending"
                + "".join(f"\n  pending: {m.version}_{m.name}" for m in status.pending),
                markup=False,
            )
            return 0
        with console.status("applying migrations..."):
            applied = apply_migrations(
                url, migrations, progress=lambda line: console.print(line, markup=False)
            )
    except MigrationError as error:
        raise StepFailed(redact(str(error), secrets)) from None
    console.print(f"migrations: {len(applied)} applied" if applied else "migrations: up to date")
    return 0


def _migration_url(endpoints: Endpoints) -> str:
    url = endpoints.database_migration_url or endpoints.database_url
    if not url:
        raise StepFailed("no database endpoint: deploy the stack, or set DATABASE_URL")
    if urlsplit(url).port == TRANSACTION_POOLER_PORT:
        raise StepFailed(
            "DATABASE_URL points at Supabase's transaction pooler (port 6543), which cannot hold the "
            "migration lock; set DATABASE_MIGRATION_URL to the session pooler (port 5432) or a "
            "direct connection"
        )
    return url


def _collections(environment: Environment, endpoints: Endpoints, args: argparse.Namespace) -> int:
    from infrakit.bootstrap.collections import CollectionsError, connect, sync_collections

    specs = environment.config.vector_store.collections
    if not specs:
        console.print("collections: none declared")
        return 0
    if not endpoints.qdrant_url:
        raise StepFailed("no Qdrant endpoint: deploy the stack, or set QDRANT_URL and QDRANT_API_KEY")
    try:
        client = connect(endpoints.qdrant_url, endpoints.qdrant_api_key, timeout=args.timeout)
        reports = sync_collections(
            client,
            specs,
            recreate_mismatched=args.recreate_mismatched,
            progress=lambda line: console.print(line, markup=False),
        )
    except CollectionsError as error:
        raise StepFailed(redact(str(error), endpoints.secrets())) from None
    for report in reports:
        console.print(
            f"collection {report.name}: {report.state}"
            + "".join(f"\n  - {line}" for line in (*report.mismatches, *report.changes)),
            markup=False,
        )
    mismatched = [r.name for r in reports if r.state == "mismatch"]
    if mismatched:
        raise StepFailed(
            f"{', '.join(mismatched)} differ from config; nothing was dropped. Fix the config, or re-run "
            "with --recreate-mismatched to drop and recreate them (their data is lost)"
        )
    return 0


def _validate(environment: Environment, endpoints: Endpoints, args: argparse.Namespace) -> int:
    from infrakit.bootstrap.validate import Timing, planned_checks, run_checks, to_json

    plan = planned_checks(environment, endpoints, args.timeout, only=getattr(args, "service", None) or ())
    with console.status(f"checking {', '.join(plan)}..."):
        results = run_checks(
            plan, Timing(attempt_timeout=args.timeout, deadline=args.deadline), endpoints.secrets()
        )
    table = Table(title=f"{environment.name}: connection checks", title_justify="left")
    for column in ("service", "result", "detail", "seconds", "attempts"):
        table.add_column(column)
    for r in results:
        table.add_row(
            r.service,
            "[green]ok[/]" if r.ok else "[red]FAILED[/]",
            r.detail,
            f"{r.seconds:.2f}",
            str(r.attempts),
        )
    console.print(table)
    if getattr(args, "json", False):
        print(to_json(environment.name, results))
    return 0 if results and all(r.ok for r in results) else EXIT_FAILED


def _bootstrap(environment: Environment, endpoints: Endpoints, args: argparse.Namespace) -> int:
    if args.if_deployed and not endpoints.present():
        console.print(
            f"post-apply: '{environment.name}' has no endpoints yet (not deployed from here, and no "
            "DATABASE_URL, REDIS_URL, QDRANT_URL set); skipped"
        )
        return 0
    args.apply, args.dry_run = True, False
    for step in (_migrate, _collections, _validate):
        console.rule(step.__name__.strip("_"))
        if (code := step(environment, endpoints, args)) != 0:
            return code
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
