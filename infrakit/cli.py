"""`infrakit <command> --env ENV`: the operator's commands around the deploy.

  preflight     check that `cdktf deploy ENV` has what it needs
  plan          plan a stack, show what it adds, changes, replaces and destroys; refuse data loss
  drift         plan every stack; exit 2 when what is deployed differs from the configuration
  migrate       show migration status; --apply applies, --dry-run prints the SQL
  collections   create missing Qdrant collections, report ones that differ from config
  graph         create missing Neo4j constraints and indexes, report ones that differ from config
  validate      check every service the environment defines
  bootstrap     migrate --apply, collections, graph, validate: what scripts/setup.sh runs after deploy

Exit codes: 0 success, 1 a step failed, 2 usage or configuration error, 3 not ready to deploy,
130 interrupted (Ctrl-C). `drift` exits as `terraform plan -detailed-exitcode`: 0 no changes,
2 drift, 1 any error (its usage and configuration errors included). `--version` prints the installed
version.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table

from infrakit.bootstrap.endpoints import Endpoints, EndpointsError, load_endpoints
from infrakit.bootstrap.migration_arguments import add_migrate_arguments, positive_seconds
from infrakit.bootstrap.redaction import redact, userinfo_problem
from infrakit.config import ConfigError, Environment, load_environments
from infrakit.interrupts import dropped_interrupts_redelivered
from infrakit.preflight import deploy_prerequisites

if TYPE_CHECKING:
    from infrakit.deploy.plan_gate import PlanGate

EXIT_FAILED = 1
EXIT_CONFIG_ERROR = 2
EXIT_NOT_READY = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what shells report for a command ended by Ctrl-C
# Supabase's transaction pooler does not keep session state such as advisory locks.
TRANSACTION_POOLER_PORT = 6543

console = Console(stderr=True, highlight=False, soft_wrap=True)


class StepFailed(Exception):
    """A user-facing failure of one step; its message is already redacted."""


Step = Callable[[Environment, Endpoints, argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exiting:
        # For `drift`, 2 means drift: its usage errors are errors (1), as for terraform plan.
        words = sys.argv[1:] if argv is None else argv
        if exiting.code == EXIT_CONFIG_ERROR and _command_in(words) == "drift":
            raise SystemExit(EXIT_FAILED) from None
        raise
    interruption = Interruption(args.command, _what_it_changes(args))
    with interruption.second_ctrl_c_exits_at_once():
        try:
            return _run(args, interruption)
        except KeyboardInterrupt as interrupt:
            # A migration interrupted mid-way knows exactly what of it stays (migration_apply).
            interruption.left_behind = getattr(interrupt, "left_behind", None)
            interruption.report()
            return EXIT_INTERRUPTED


def _run(args: argparse.Namespace, interruption: Interruption) -> int:
    try:
        (environment,) = load_environments(args.environments_dir, [args.env])
    except ConfigError as error:
        console.print(error.report(), markup=False)
        return EXIT_FAILED if args.command == "drift" else EXIT_CONFIG_ERROR  # drift: 2 means drift
    if args.command == "validate" and (problem := _services_it_lacks(environment, args.service or [])):
        console.print(f"{program_name()} validate: error: {problem}", markup=False)
        return EXIT_CONFIG_ERROR
    if args.command == "preflight":
        return _preflight(environment)
    if args.command == "deploy":
        return _deploy(environment, args)
    if args.command == "plan":
        return _plan(environment, args)
    if args.command == "drift":
        return _drift(environment, args)
    if args.command == "summary":
        return _summary(environment)
    if args.command == "drill":
        return _drill(environment, args, interruption)
    try:
        endpoints = load_endpoints(environment.name, project_root=Path.cwd())
    except EndpointsError as error:
        console.print(f"infrakit: {redact(str(error))}", markup=False)
        return EXIT_FAILED
    try:
        if args.command == "bootstrap":
            return _bootstrap(environment, endpoints, args, interruption)
        return _step(args.command)(environment, endpoints, args)
    except StepFailed as error:
        console.print(f"infrakit: {error}", markup=False)
        return EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=program_name(), description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--environments-dir", type=Path, default=Path("environments"), help="default: %(default)s"
    )
    parser.add_argument("--version", action="version", version=f"infrakit {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--env", required=True, metavar="ENV", help="environment name, e.g. local")
        return sub

    command("preflight", "check that `cdktf deploy ENV` has what it needs")
    deploy = command("deploy", "plan and apply in order: the images stack, the image check, the environment")
    deploy.add_argument(
        "--auto-approve",
        action="store_true",
        help="apply each plan without asking (local: passed to cdktf deploy)",
    )
    deploy.add_argument(
        "--skip-preflight",
        action="store_true",
        help="do not run preflight first (scripts/setup.sh has just run it)",
    )
    deploy.add_argument(
        "--wait-timeout",
        type=positive_seconds,
        default=900.0,
        help="seconds to wait, after the deploy, for ECS to roll the services out and the api to "
        "answer (default: %(default)s)",
    )
    deploy.add_argument(
        "--no-wait",
        action="store_true",
        help="end when the apply ends: do not wait for the rollout nor ask the api's health path",
    )
    deploy.add_argument(
        "--poll-interval",
        type=positive_seconds,
        default=5.0,
        help="seconds between two looks at the rollout (default: %(default)s)",
    )
    plan = command("plan", "plan a stack; refuse to replace or destroy a stateful resource")
    plan.add_argument("--stack", metavar="NAME", help="ENV (default) or ENV-images")
    drift = command("drift", "plan every stack; exit 2 when what is deployed differs from the configuration")
    for sub in (plan, drift):
        sub.add_argument(
            "--format",
            choices=("table", "markdown"),
            default="table",
            help="table (default): on the terminal; markdown: on stdout, for a pull request or a job "
            "summary (Terraform's own output then goes to stderr)",
        )
    for sub in (deploy, plan):
        sub.add_argument(
            "--allow-replace",
            action="append",
            default=[],
            metavar="ADDRESS",
            help="let the plan replace or destroy this stateful resource (repeatable)",
        )
    command("summary", "what is deployed and where; secret outputs by name only")
    drill = command("drill", "release a revision that fails its health check; watch ECS roll it back")
    drill.add_argument("--service", default="api", metavar="NAME", help="the ECS service (default: api)")
    drill.add_argument(
        "--timeout",
        type=positive_seconds,
        default=1200.0,
        metavar="SECONDS",
        help="seconds to wait for ECS's rollback before infrakit puts the service back itself "
        "(default: %(default)s)",
    )
    drill.add_argument("--allow-prod", action="store_true", help="drill prod (with --confirm prod)")
    drill.add_argument("--confirm", metavar="ENV", help="the environment's name again (prod needs it)")
    for name, help_text in (
        ("migrate", "migration status; --apply applies pending migrations"),
        ("bootstrap", "migrate --apply, collections, graph, validate"),
    ):
        sub = command(name, help_text)
        sub.add_argument("--migrations-dir", type=Path, default=Path("supabase/migrations"))
        if name == "migrate":
            add_migrate_arguments(sub)
        else:
            sub.add_argument(
                "--if-deployed",
                action="store_true",
                help="do nothing (exit 0) when the environment has no endpoints yet",
            )
    for name, what in (
        ("collections", "Qdrant collections"),
        ("graph", "Neo4j constraints and indexes"),
        ("bootstrap", "collections and Neo4j constraints and indexes"),
    ):
        sub = commands.choices.get(name) or command(name, f"create or check {what}")
        sub.add_argument(
            "--recreate-mismatched",
            action="store_true",
            help=f"DROP and recreate {what} whose config differs (a collection's data is lost)",
        )
        if name == "collections":  # bootstrap's --timeout, added below, serves all its steps
            sub.add_argument(
                "--timeout",
                type=positive_seconds,
                default=5.0,
                help="seconds per request to Qdrant, rounded up to whole seconds (default: %(default)s)",
            )
        if name == "graph":
            sub.add_argument(
                "--timeout",
                type=positive_seconds,
                default=5.0,
                help="seconds for the connection to Neo4j (default: %(default)s)",
            )
    for name in ("validate", "bootstrap"):
        sub = commands.choices.get(name) or command(name, "check every service the environment defines")
        if name == "validate":
            sub.add_argument(
                "--service",
                action="append",
                choices=("postgres", "redis", "qdrant", "supabase", "neo4j"),
                help="check only this service (repeatable)",
            )
            sub.add_argument("--json", action="store_true", help="print results as JSON on stdout")
        per = "attempt" if name == "validate" else "request or connection attempt, in every step"
        sub.add_argument(
            "--timeout", type=positive_seconds, default=5.0, help=f"seconds per {per} (default: %(default)s)"
        )
        sub.add_argument(
            "--deadline",
            type=positive_seconds,
            default=30.0,
            help="seconds for all checks (default: %(default)s)",
        )
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The command a command line names: its first word that is neither an option nor its value."""
    words = iter(argv)
    for word in words:
        if word == "--environments-dir":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def program_name() -> str:
    """How the user ran us, for usage lines: `infrakit` (the console script), else `python -m infrakit`
    (argv[0] is then the path of infrakit/__main__.py)."""
    name = Path(sys.argv[0]).name
    return "python -m infrakit" if name in ("__main__.py", "-m", "-c", "") else "infrakit"


def _version() -> str:
    """The installed distribution's version, which pip took from pyproject.toml; from a checkout
    that was never installed, pyproject.toml's own."""
    try:
        return metadata.version("infrakit")
    except metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text())["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown (not installed; run scripts/setup.sh)"


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


def _deploy(environment: Environment, args: argparse.Namespace) -> int:
    from infrakit.deploy.images import ImageCheckError
    from infrakit.deploy.order import deploy_in_order
    from infrakit.deploy.plan_gate import run_program

    def run(argv: Sequence[str]) -> int:
        # On Ctrl-C, wait for cdktf: Terraform stops at a safe point, saves its state and releases
        # the lock, where subprocess.run would kill it a quarter of a second later.
        try:
            return run_program(argv, cwd=Path.cwd()).code
        except OSError as error:
            console.print(
                f"infrakit: cannot run {argv[0]}: {error.strerror or error}\n"
                "  fix: run scripts/setup.sh, which installs node_modules/.bin/cdktf (npm ci); "
                f"`{program_name()} preflight --env {environment.name}` checks every prerequisite",
                markup=False,
            )
            return EXIT_NOT_READY

    def ecr() -> Any:
        import boto3

        region = environment.config.aws.region if environment.config.aws else None
        return boto3.client("ecr", region_name=region)

    made: list[Any] = []

    def ecs() -> Any:  # one client: it reads the rollback plan, then watches the rollout
        import boto3

        if not made:
            region = environment.config.aws.region if environment.config.aws else None
            made.append(boto3.client("ecs", region_name=region))
        return made[0]

    def confirm(question: str) -> bool:
        try:
            answer = console.input(f"infrakit: {question}", markup=False, emoji=False)
        except (EOFError, OSError) as error:  # stdin closed, or not readable
            console.print(
                f"\ninfrakit: no answer ({type(error).__name__}); --auto-approve applies without asking",
                markup=False,
            )
            return False
        return answer.strip().lower() in ("y", "yes")

    # What a deploy needs but cannot check half-way (Terraform, a Docker engine, credentials, no
    # placeholder left): checked first, so that nothing is half-deployed for want of it.
    if not args.skip_preflight:
        ready = _preflight(environment)
        if ready != 0:
            return ready

    # Only remote state can hold what a plan must not lose; `local` deploys as it always has.
    plan = _plan_gate(environment, args) if environment.config.state is not None else None
    if plan is not None:
        plan.confirm = None if args.auto_approve else confirm
    if plan is None and args.allow_replace:
        console.print(
            f"infrakit: --allow-replace: '{environment.name}' keeps its state in a local file and deploys "
            "without a plan gate, so there is nothing to allow; remove the flag",
            markup=False,
        )
        return EXIT_CONFIG_ERROR
    try:
        deployed = deploy_in_order(
            environment,
            run=run,
            ecr=ecr,
            cdktf=str(Path.cwd() / "node_modules" / ".bin" / "cdktf"),
            auto_approve=args.auto_approve,
            say=lambda line: console.print(f"infrakit: {line}", markup=False, emoji=False),
            plan=plan,
            ecs=ecs,
        )
    except ImageCheckError as error:
        console.print(f"infrakit: {error}", markup=False)
        return EXIT_FAILED
    if deployed != 0 or args.no_wait:
        return deployed
    return _until_serving(environment, args, ecs)


def _until_serving(environment: Environment, args: argparse.Namespace, ecs: Callable[[], Any]) -> int:
    """After the deploy: wait for the rollout, then ask the api's health path (deploy/serving.py)."""
    from infrakit.bootstrap.endpoints import stack_outputs
    from infrakit.deploy.rollout import Timing
    from infrakit.deploy.serving import check_serving, cluster_name, rollout_target

    def clients() -> tuple[Any, Any]:
        import boto3

        region = environment.config.aws.region if environment.config.aws else None
        return ecs(), boto3.client("elbv2", region_name=region)

    def outputs() -> dict[str, str]:
        found = stack_outputs(environment.name, Path.cwd(), os.environ)
        return {name: output.value for name, output in found.items() if not output.sensitive}

    try:
        return check_serving(
            environment,
            outputs=outputs,
            clients=clients,
            say=lambda line: console.print(f"infrakit: {line}", markup=False, emoji=False),
            timing=Timing(timeout=args.wait_timeout, interval=args.poll_interval),
        )
    except EndpointsError as error:
        console.print(f"infrakit: {redact(str(error))}; the deploy itself is done", markup=False)
        return EXIT_FAILED
    except KeyboardInterrupt as interrupt:
        target = rollout_target(environment)
        watch = (
            "; ECS carries on rolling out (`aws ecs wait services-stable --cluster "
            f"{cluster_name(environment)} --services {' '.join(target.services)} --region {target.region}` "
            "waits for it)"
            if target
            else ""
        )
        interrupt.left_behind = (  # type: ignore[attr-defined]
            f"the deploy itself is done: Terraform applied {environment.name}, and only the wait for it "
            f"to serve was cut short{watch}"
        )
        raise


def _plan(environment: Environment, args: argparse.Namespace) -> int:
    from infrakit.stacks.names import stacks_in_deploy_order

    stacks = stacks_in_deploy_order(environment)
    stack = args.stack or environment.name
    if stack not in stacks:
        console.print(
            f"infrakit: --stack {stack}: the stacks of '{environment.name}' are {', '.join(stacks)}",
            markup=False,
        )
        if args.format == "markdown":
            from infrakit.deploy.plan_markdown import render_failure

            problem = f"--stack {stack}: not a stack of '{environment.name}'"
            print(render_failure(stack, EXIT_CONFIG_ERROR, problem))
        return EXIT_CONFIG_ERROR
    if args.format == "markdown":
        from infrakit.deploy.plan_markdown import plan_as_markdown

        status, markdown = plan_as_markdown(_plan_gate(environment, args), stack)
        print(markdown)
        return status
    return _plan_gate(environment, args).check(stack)


def _drift(environment: Environment, args: argparse.Namespace) -> int:
    """Plans every stack of the environment, applies nothing; see infrakit/deploy/drift.py."""
    from infrakit.deploy.drift import DriftCheck, render_drift, render_drift_markdown, verdict_line
    from infrakit.deploy.plan_gate import run_program
    from infrakit.deploy.plan_markdown import OnStderr
    from infrakit.stacks.names import stacks_in_deploy_order

    markdown = args.format == "markdown"
    where = _plan_workspace(environment, args)
    check = DriftCheck(
        run=OnStderr(run_program) if markdown else run_program,
        stacks_dir=where.stacks_dir,
        say=lambda line: console.print(f"infrakit: {line}", markup=False),
        binary=where.binary,
        synth=where.synth,
        project_root=where.project_root,
    )
    report = check.check(environment.name, stacks_in_deploy_order(environment))
    deploy = f"{program_name()} deploy --env {environment.name}"
    if markdown:
        print(render_drift_markdown(report, deploy))
    else:
        console.print(render_drift(report))
    console.print(f"infrakit: {verdict_line(report, deploy)}", markup=False)
    return report.exit_code


def _plan_gate(environment: Environment, args: argparse.Namespace) -> PlanGate:
    """Plans in cdktf.out/stacks, after a synth of the environment into it, so that the plan is
    of the environment file as it is now (the synth is skipped when nothing changed)."""
    from infrakit.deploy.plan_gate import PlanGate, run_program

    where = _plan_workspace(environment, args)
    return PlanGate(
        run=run_program,
        stacks_dir=where.stacks_dir,
        allow_replace=args.allow_replace,
        show=console.print,
        say=lambda line: console.print(f"infrakit: {line}", markup=False),
        binary=where.binary,
        synth=where.synth,
        project_root=where.project_root,
    )


@dataclass(frozen=True)
class _PlanWorkspace:
    stacks_dir: Path
    binary: str
    synth: list[str]
    project_root: Path


def _plan_workspace(environment: Environment, args: argparse.Namespace) -> _PlanWorkspace:
    """Where plans run: cdktf.out/stacks of the project, after a synth of the environment into it
    (skipped when nothing changed); the same for the plan gate and the drift check."""
    project = Path.cwd()
    outdir = project / "cdktf.out"
    outdir.mkdir(exist_ok=True)  # main.py --outdir takes an existing directory only
    return _PlanWorkspace(
        stacks_dir=outdir / "stacks",
        binary=os.environ.get("TERRAFORM_BINARY_NAME", "terraform"),
        synth=[
            sys.executable,
            "main.py",
            "--environments-dir",
            str(args.environments_dir),
            "--outdir",
            outdir.name,
            environment.name,
        ],
        project_root=project,
    )


def _drill(environment: Environment, args: argparse.Namespace, interruption: Interruption) -> int:
    """A rollback drill (infrakit/deploy/drill.py): 0 when ECS rolled the unhealthy revision back."""
    from dataclasses import replace

    from infrakit.deploy import drill
    from infrakit.deploy.serving import rollout_target

    target = rollout_target(environment)
    services = target.services if target else ()
    refused = drill.refusal(
        environment.name, services, args.service, allow_prod=args.allow_prod, confirm=args.confirm
    )
    if refused or target is None:
        console.print(f"{program_name()} drill: error: {refused}", markup=False)
        return EXIT_CONFIG_ERROR

    def left_behind(text: str) -> None:  # what a second Ctrl-C, during the clean-up, says
        interruption.left_behind = text

    import boto3

    region = target.region or None
    try:  # a client finds its credentials when it is made
        ecs, cloudwatch = (boto3.client(name, region_name=region) for name in ("ecs", "cloudwatch"))
    except drill.AWS_ERRORS as error:
        console.print(f"infrakit: cannot call AWS ({error}); {args.service} was not drilled", markup=False)
        return EXIT_FAILED
    return drill.run_drill(
        drill.DrillTarget(target.cluster, args.service, target.region),
        ecs=ecs,
        cloudwatch=cloudwatch,
        say=lambda line: console.print(f"infrakit: {line}", markup=False, emoji=False),
        note=left_behind,
        timing=replace(drill.DEFAULT_TIMING, timeout=args.timeout),
    )


def _summary(environment: Environment) -> int:
    from infrakit.deploy.summary import deployed_summary

    try:
        lines = deployed_summary(environment, project_root=Path.cwd())
    except EndpointsError as error:
        console.print(f"infrakit: {redact(str(error))}", markup=False)
        return EXIT_FAILED
    console.print("\n".join(lines), markup=False)
    return 0


def _migrate(environment: Environment, endpoints: Endpoints, args: argparse.Namespace) -> int:
    import shlex

    from infrakit.bootstrap import migrations as m

    secrets = endpoints.secrets()

    def say(text: str) -> None:
        console.print(redact(text, secrets), markup=False)

    repairing = getattr(args, "action", None) == "repair"
    include_all = bool(getattr(args, "include_all", False))
    timeout = float(getattr(args, "timeout", 5.0))  # bootstrap passes its own --timeout
    if repairing and (args.apply or args.dry_run or include_all):
        say("infrakit: `migrate repair` changes only the ledger: leave out --apply, --dry-run, --include-all")
        return EXIT_CONFIG_ERROR
    # Completes the commands that messages suggest, so that they can be pasted as they are.
    command_options = ["--env", environment.name]
    if args.migrations_dir != Path("supabase/migrations"):
        command_options += ["--migrations-dir", str(args.migrations_dir)]
    options = shlex.join(command_options)
    try:
        migrations = m.load_migrations(args.migrations_dir, warn=lambda text: say(f"infrakit: {text}"))
        url = _migration_url(endpoints)
        if repairing:
            changes = m.repair_ledger(
                url, migrations, args.status, args.versions, progress=say, timeout=timeout
            )
            for line in changes:
                say(f"repair: {line}")
            return 0
        if args.apply:
            with console.status("applying migrations..."):
                applied = m.apply_migrations(
                    url,
                    migrations,
                    progress=say,
                    include_all=include_all,
                    timeout=timeout,
                    command_options=options,
                )
            say(f"migrations: {len(applied)} applied" if applied else "migrations: up to date")
            return 0
        status = m.migration_status(url, migrations, timeout=timeout)
        found = m.findings(
            status, include_all=include_all, directory=args.migrations_dir, command_options=options
        )
        if args.dry_run and found:
            raise m.MigrationError(m.refusal(found, status.database))
        if args.dry_run:
            print(redact(m.dry_run_sql(status.pending), secrets))
            return 0
        say(m.status_report(status, found))
        return EXIT_FAILED if found else 0
    except m.MigrationConfigError as error:
        say(f"infrakit: {error}")
        return EXIT_CONFIG_ERROR
    except m.MigrationError as error:
        raise StepFailed(redact(str(error), secrets)) from None


def _migration_url(endpoints: Endpoints) -> str:
    url = endpoints.database_migration_url or endpoints.database_url
    if not url:
        raise StepFailed("no database endpoint: deploy the stack, or set DATABASE_URL")
    name = "database_migration_url" if endpoints.database_migration_url else "database_url"
    where = f"the `{name}` stack output" if endpoints.sources.get(name) == "stack output" else name.upper()
    if problem := userinfo_problem(url, where):
        raise StepFailed(problem)
    try:
        port = urlsplit(url).port
    except ValueError:
        port = None  # libpq reports it, without the password (migration_ledger.target_of)
    if port == TRANSACTION_POOLER_PORT:
        raise StepFailed(
            "DATABASE_URL points at Supabase's transaction pooler (port 6543), which cannot hold the "
            "migration lock; set DATABASE_MIGRATION_URL to the session pooler (port 5432) or a "
            "direct connection"
        )
    return url


def _collections(environment: Environment, endpoints: Endpoints, args: argparse.Namespace) -> int:
    from infrakit.bootstrap.collections import (
        READY_WITHIN_SECONDS,
        CollectionsError,
        connect_when_ready,
        sync_collections,
    )

    specs = environment.config.vector_store.collections
    if not specs:
        console.print("collections: none declared")
        return 0
    if not endpoints.qdrant_url:
        raise StepFailed("no Qdrant endpoint: deploy the stack, or set QDRANT_URL and QDRANT_API_KEY")
    try:
        # A new Qdrant Cloud cluster is created before it serves (provider: create returns first):
        # wait for it, bounded, one line per retry. The local container is healthy before this runs.
        cloud = environment.config.vector_store.backend == "qdrant_cloud"
        client = connect_when_ready(
            endpoints.qdrant_url,
            endpoints.qdrant_api_key,
            timeout=args.timeout,
            within=READY_WITHIN_SECONDS if cloud else 0,
            progress=lambda line: console.print(redact(line, endpoints.secrets()), markup=False),
        )
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
            f"{', '.join(mismatched)} differ from config (see above); a collection is never changed in "
            "place, and nothing was dropped. Either change [[vector_store.collections]] in "
            f"{environment.file} to match the server, or drop and recreate them, losing their points: "
            f"`{program_name()} collections --env {environment.name} --recreate-mismatched`"
        )
    return 0


def _graph(environment: Environment, endpoints: Endpoints, args: argparse.Namespace) -> int:
    from infrakit.bootstrap.graph import GraphError, connect, graph_fix, sync_graph_schema

    graph = environment.config.graph
    if graph is None:
        console.print("graph: no [graph] in this environment", markup=False)
        return 0
    if not graph.constraints and not graph.indexes:
        console.print("graph: no constraints or indexes declared", markup=False)
        return 0
    uri, password = endpoints.neo4j_uri, endpoints.neo4j_password
    if not uri or not password:
        raise StepFailed(
            "no Neo4j endpoint: deploy the stack, or set NEO4J_URI, NEO4J_USERNAME and NEO4J_PASSWORD"
        )
    secrets = endpoints.secrets()
    try:
        driver = connect(uri, endpoints.neo4j_username or "neo4j", password, timeout=args.timeout)
        try:
            reports = sync_graph_schema(
                driver,
                graph,
                uri=uri,
                password=password,
                recreate_mismatched=args.recreate_mismatched,
                progress=lambda line: console.print(redact(line, secrets), markup=False),
            )
        finally:
            driver.close()
    except GraphError as error:
        raise StepFailed(redact(str(error), secrets)) from None
    for report in reports:
        console.print(
            f"{report.kind} {report.name}: {report.state}"
            + "".join(f"\n  - {line}" for line in report.details),
            markup=False,
        )
    if any(r.state == "mismatch" for r in reports):
        raise StepFailed(graph_fix(reports, environment.name, environment.file, program_name()))
    return 0


def _validate(environment: Environment, endpoints: Endpoints, args: argparse.Namespace) -> int:
    from infrakit.bootstrap.validate import Timing, planned_checks, run_checks, to_json

    plan = planned_checks(environment, endpoints, args.timeout, only=getattr(args, "service", None) or ())

    def retrying(service: str, attempt: int, reason: str, wait: float) -> None:
        # One line per retry: a check that keeps failing is seen failing, and why, not just waited on.
        console.print(
            f"{service}: attempt {attempt} failed ({reason}); retrying in {wait:.1f} s "
            f"(until the {args.deadline:g} s deadline)",
            markup=False,
        )

    with console.status(f"checking {', '.join(plan)}..."):
        results = run_checks(
            plan,
            Timing(attempt_timeout=args.timeout, deadline=args.deadline),
            endpoints.secrets(),
            on_retry=retrying,
        )
    table = Table(title=f"{environment.name}: connection checks", title_justify="left")
    for column in ("service", "result", "detail", "seconds", "attempts"):
        table.add_column(column)
    for r in results:
        table.add_row(
            r.service,
            "[yellow]skipped[/]" if r.skipped else "[green]ok[/]" if r.ok else "[red]FAILED[/]",
            r.detail,
            f"{r.seconds:.2f}",
            str(r.attempts),
        )
    console.print(table)
    if getattr(args, "json", False):
        print(to_json(environment.name, results))
    return 0 if results and all(r.ok for r in results) else EXIT_FAILED


def _services_it_lacks(environment: Environment, asked: Sequence[str]) -> str | None:
    """A --service the environment does not define can never be checked: a usage error, not a pass."""
    from infrakit.bootstrap.validate import defined_services

    defined = defined_services(environment)
    lacking = [service for service in dict.fromkeys(asked) if service not in defined]
    if not lacking:
        return None
    return (
        f"--service {', '.join(lacking)}: environment '{environment.name}' ({environment.file}) has no "
        f"such service; it has {', '.join(defined)}"
    )


BOOTSTRAP_STEPS = ("migrate", "collections", "graph", "validate")
# Beyond its own defaults and the options it shares with bootstrap, what each step runs with.
BOOTSTRAP_STEP_SETTINGS: dict[str, dict[str, object]] = {"migrate": {"apply": True, "dry_run": False}}


def _bootstrap(
    environment: Environment, endpoints: Endpoints, args: argparse.Namespace, interruption: Interruption
) -> int:
    if args.if_deployed and not endpoints.present():
        console.print(
            f"post-apply: '{environment.name}' has no endpoints yet (not deployed from here, and no "
            "DATABASE_URL, REDIS_URL, QDRANT_URL or NEO4J_URI set); skipped"
        )
        return 0
    for name in BOOTSTRAP_STEPS:
        interruption.step = name
        console.rule(name)
        if (code := _step(name)(environment, endpoints, bootstrap_step_args(name, args))) != 0:
            return code
    return 0


def bootstrap_step_args(step: str, bootstrap_args: argparse.Namespace) -> argparse.Namespace:
    """What `python -m infrakit STEP` would get: the step's own defaults, then bootstrap's value for
    each option the two share (--timeout, --migrations-dir, ...), so no step meets a missing one."""
    own = vars(_parser().parse_args([step, "--env", bootstrap_args.env]))
    shared = {key: value for key, value in vars(bootstrap_args).items() if key in own and key != "command"}
    return argparse.Namespace(**{**own, **shared, **BOOTSTRAP_STEP_SETTINGS.get(step, {})})


def _step(name: str) -> Step:
    steps: dict[str, Step] = {
        "migrate": _migrate,
        "collections": _collections,
        "graph": _graph,
        "validate": _validate,
    }
    return steps[name]


# ----------------------------------------------------------------------------- Ctrl-C

# What an interruption leaves behind, per step; each is true of how the step changes things.
LEFT_BEHIND = {
    "migrate --apply": "nothing half-done was kept: each migration commits together with its ledger row "
    "in one transaction, so the one running was rolled back (a `-- infrakit: no-transaction` file keeps "
    "the statements it finished, unrecorded); run it again to apply the rest",
    "migrate repair": "nothing half-done was kept: a repair changes the ledger in one transaction, all "
    "or nothing; run `migrate` to see the ledger",
    "migrate": "nothing was changed (without --apply it only reads)",
    "collections": "nothing half-done was kept: each collection and payload index is made by one request "
    "to Qdrant; run it again to create what is still missing",
    "graph": "nothing half-done was kept: each constraint and index is made by one statement, which "
    "Neo4j applies whole or not at all; run it again to create what is still missing",
    "validate": "nothing was changed (validation only reads)",
    "preflight": "nothing was changed (preflight only reads)",
    "deploy": "Terraform stops at a safe point and keeps its state; run the deploy again to finish",
    "plan": "nothing was changed (a plan only reads; Terraform was left to stop and release its state "
    "lock, and the plan file was removed)",
    "summary": "nothing was changed (summary only reads)",
    "drill": "nothing was changed: the drill had not started",
    "drift": "nothing was changed (a drift check only reads, and takes no state lock; the plan file was "
    "removed)",
}


def _what_it_changes(args: argparse.Namespace) -> str:
    if args.command != "migrate":
        return str(args.command)
    if getattr(args, "action", None) == "repair":
        return "migrate repair"
    return "migrate --apply" if args.apply else "migrate"


@dataclass
class Interruption:
    """What a Ctrl-C interrupts, said once in one line on stderr, however often it is pressed."""

    command: str
    changes: str  # a key of LEFT_BEHIND
    step: str | None = None  # bootstrap's running step
    reported: bool = False
    left_behind: str | None = None  # what the interrupted step knows it left, e.g. a migration's statements

    def message(self) -> str:
        if self.command != "bootstrap":
            left = self.left_behind or LEFT_BEHIND[self.changes]
            return f"infrakit: {self.command} interrupted (Ctrl-C); {left}"
        if self.step is None:
            return "infrakit: bootstrap interrupted (Ctrl-C) before its first step; nothing was changed"
        left = self.left_behind or LEFT_BEHIND["migrate --apply" if self.step == "migrate" else self.step]
        return f"infrakit: bootstrap interrupted (Ctrl-C) during {self.step}; {left}"

    def report(self) -> None:
        if not self.reported:
            self.reported = True
            console.print(self.message(), markup=False)

    @contextmanager
    def second_ctrl_c_exits_at_once(self) -> Iterator[None]:
        """The first Ctrl-C raises KeyboardInterrupt as usual, so that open transactions roll back
        and the spinner stops while it unwinds. A second one, during that cleanup, exits at once with
        the same one line: the servers drop whatever an unfinished request or transaction left."""
        if (
            threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        ):
            yield  # a host that handles or ignores Ctrl-C itself keeps doing so
            return

        def exit_now(signum: int, frame: FrameType | None) -> None:
            with suppress(Exception):  # stdout may be mid-write: flushing is worth a try, no more
                sys.stdout.flush()
            if not self.reported:
                self.reported = True
                # A spinner cut short leaves the terminal's cursor hidden.
                show_cursor = "\x1b[?25h" if os.isatty(2) else ""
                # Not console.print: this may run inside a write to stderr, which must not re-enter.
                with suppress(OSError):
                    os.write(2, f"{show_cursor}{self.message()}\n".encode())
            os._exit(EXIT_INTERRUPTED)

        def first(signum: int, frame: FrameType | None) -> None:
            signal.signal(signal.SIGINT, exit_now)
            raise KeyboardInterrupt

        def rearm() -> None:  # a first Ctrl-C that Python dropped never reached the command
            signal.signal(signal.SIGINT, first)

        signal.signal(signal.SIGINT, first)
        try:
            with dropped_interrupts_redelivered(rearm):
                yield
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
