"""The plan gate: plan each stack, show the summary, refuse data loss, and apply exactly that plan.

In cdktf.out/stacks/<stack>: `terraform init` when the stack was never initialised here, or
`terraform init -upgrade` when its lock file does not hold the provider versions the stack pins
(the pins moved since the last init: plain init and plan refuse a lock file that disagrees), then
`terraform plan -out=<temporary file>` (its output is the user's, shown as it comes) and
`terraform show -json` of that file, read here and never printed: it holds sensitive values in
plain text, and so does the plan file, which lives in a private temporary directory and is
removed however the gate ends. `check` stops there (`infrakit plan`); `apply` then runs what must
come before the apply (the rollback plan), asks for approval unless told not to, and runs
`terraform apply <that file>`: what is applied is what was summarized and judged, and every
resource is refreshed once, by the plan. Programs run through an injectable `RunProgram`, so tests
need neither Terraform nor a provider.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rich.console import RenderableType

from infrakit.bootstrap.redaction import redact
from infrakit.deploy.credentials import TASK_DEFINITION_TYPE
from infrakit.deploy.plan import PlanFormatError, PlanSummary, decide, parse_plan
from infrakit.deploy.plan_table import render_summary, verdict_lines
from infrakit.deploy.toolchain import child_environ

EXIT_FAILED = 1
EXIT_NOT_READY = 3
LOCK_TIMEOUT = "60s"  # another apply holding the state lock: wait a little, then say so
LOCK_FILE = ".terraform.lock.hcl"
# A provider block of the lock file, up to its selected version (its hashes hold no brace).
LOCKED = re.compile(r'^provider\s+"([^"]+)"\s*\{[^}]*?^\s*version\s*=\s*"([^"]*)"', re.MULTILINE)


@dataclass(frozen=True)
class Finished:
    code: int
    stdout: str = ""  # only when captured
    stderr: str = ""


class RunProgram(Protocol):
    def __call__(self, argv: Sequence[str], *, cwd: Path, capture: bool = False) -> Finished: ...


def run_program(
    argv: Sequence[str], *, cwd: Path, capture: bool = False, environ: Mapping[str, str] = os.environ
) -> Finished:
    """Run a program; its output goes to the terminal unless captured. On Ctrl-C, wait for it:
    Terraform stops at a safe point on the same Ctrl-C and releases its state lock, which a
    killed Terraform would leave held. A second Ctrl-C exits at once (infrakit.cli.Interruption)."""
    pipe = subprocess.PIPE if capture else None
    env = {**child_environ(environ), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    with subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=pipe, stderr=pipe, text=True) as process:
        try:
            stdout, stderr = process.communicate()
        except KeyboardInterrupt:
            process.communicate()  # reads what is left, so that a full pipe cannot block its exit
            raise
    return Finished(process.returncode, stdout or "", stderr or "")


def provider_name(source: str) -> str:
    """`namespace/type` in lower case, whichever registry host a source or lock address names;
    a bare type is in the hashicorp namespace, as for Terraform."""
    return "/".join(["hashicorp", *source.lower().split("/")][-2:])


def pin_changes(stack: Mapping[str, Any], lock: str) -> list[str]:
    """Each provider the stack pins in terraform.required_providers that the lock file's text does
    not hold at that version, as `hashicorp/aws 6.25.0 -> 6.69.1`; empty when all are locked."""
    locked = {provider_name(address): version for address, version in LOCKED.findall(lock)}
    terraform = stack.get("terraform")
    required = terraform.get("required_providers") if isinstance(terraform, dict) else None
    changes = []
    for local_name, provider in (required or {}).items():
        if not isinstance(provider, dict):
            continue
        name = provider_name(str(provider.get("source", local_name)))
        pinned, held = provider.get("version"), locked.get(name)
        if held is None or (pinned is not None and held != pinned):
            changes.append(f"{name} {held or 'not locked'} -> {pinned or 'any version'}")
    return changes


def read_pin_changes(directory: Path) -> list[str]:
    """pin_changes for a stack directory; a missing or unreadable lock file holds nothing. A stack
    that is not a JSON object pins nothing here: Terraform says what is wrong with it."""
    try:
        stack = json.loads((directory / "cdk.tf.json").read_text())
    except ValueError:
        return []
    try:
        lock = (directory / LOCK_FILE).read_text()
    except (OSError, UnicodeDecodeError):
        lock = ""
    return pin_changes(stack, lock) if isinstance(stack, dict) else []


class Stopped(Exception):
    """A step of the gate failed and said why; `code` is the exit code to stop with."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Planned:
    """A plan the gate let through, for what must happen before it is applied. Names only, never a
    value of the plan."""

    stack: str
    summary: PlanSummary
    # The task definition revisions the apply deregisters (ARNs; a bare family where the plan does
    # not say which revision): ECS will not point a service at one of them again.
    deregisters: frozenset[str] = frozenset()
    changes_anything: bool = True  # False: no resource and no output changes

    def deregistered(self, arn: str, family: str) -> bool:
        return arn in self.deregisters or family in self.deregisters


@dataclass(frozen=True)
class Outcome:
    """How `PlanGate.apply` ended: `code` 0 when the stack was applied; `applying` tells whether
    `terraform apply` ran, so that a failure can say whether anything of the stack changed."""

    code: int
    applying: bool = False


BeforeApply = Callable[[Planned], None]


@dataclass
class PlanGate:
    """Plans each stack of a run; `check` returns the exit code to stop with, or 0 to go ahead, and
    `apply` plans, judges and applies that plan. The allowances span the run: see
    infrakit.deploy.plan.decide."""

    run: RunProgram
    stacks_dir: Path  # cdktf.out/stacks
    allow_replace: Collection[str]
    show: Callable[[RenderableType], None]
    say: Callable[[str], None]
    binary: str = "terraform"  # TERRAFORM_BINARY_NAME
    synth: Sequence[str] | None = None  # run once, before the first plan, in the project root
    project_root: Path = Path()
    # Asked before each apply of a plan that changes something; None applies without asking
    # (--auto-approve). A saved plan is applied by Terraform without a question of its own.
    confirm: Callable[[str], bool] | None = None
    matched: set[str] = field(default_factory=set, init=False)
    synthesized: bool = field(default=False, init=False)

    def check(self, stack: str, *, last: bool = True) -> int:
        """Plan the stack, show the summary, judge it; apply nothing."""
        return self._gate(stack, last=last, apply=None).code

    def apply(self, stack: str, *, last: bool = True, before: BeforeApply | None = None) -> Outcome:
        """Plan the stack, show the summary, judge it; if it passes, run `before`, ask (unless
        `confirm` is None), then apply exactly the plan file that was summarized."""
        return self._gate(stack, last=last, apply=before or (lambda planned: None))

    def _gate(self, stack: str, *, last: bool, apply: BeforeApply | None) -> Outcome:
        try:
            self._synthesize()
            directory = self._initialised(stack)
            # The plan file holds secrets in plain text: a directory only we may read (0700), removed
            # however this ends, a Ctrl-C during the apply included (run_program waits for Terraform).
            with tempfile.TemporaryDirectory(prefix="infrakit-plan-") as private:
                plan_file = str(Path(private) / f"{stack}.tfplan")
                document = self._plan(stack, directory, plan_file)
                summary = parse_plan(document, stack)
                verdict = decide(summary, self.allow_replace, matched_earlier=self.matched, last=last)
                self.matched |= verdict.matched
                self.show(render_summary(summary, verdict))
                for line in verdict_lines(verdict, stack):
                    self.say(line)
                if apply is None or verdict.exit_code != 0:
                    return Outcome(verdict.exit_code)
                planned = Planned(stack, summary, deregistrations(document), changes_anything(document))
                apply(planned)
                if not self._approved(planned):
                    self.say(f"{stack}: not applied (the plan was not approved); nothing of it changed")
                    return Outcome(EXIT_FAILED)
                return self._apply(stack, directory, plan_file)
        except Stopped as stopped:
            return Outcome(stopped.code)
        except PlanFormatError as error:
            self.say(str(error))
            return Outcome(EXIT_FAILED)
        except OSError as error:
            if error.filename != self.binary:
                raise
            self.say(
                f"could not run {self.binary}: {error.strerror}. Install Terraform >= 1.10, or "
                "OpenTofu >= 1.10 with TERRAFORM_BINARY_NAME=tofu"
            )
            return Outcome(EXIT_NOT_READY)

    def _synthesize(self) -> None:
        if self.synth is None or self.synthesized:
            return
        done = self.run(self.synth, cwd=self.project_root, capture=True)
        # The synth reports progress on stdout and problems on stderr: both are the user's to read.
        for line in (done.stdout + done.stderr).splitlines():
            self.say(line.removeprefix("infrakit: "))
        if done.code != 0:
            self.say("the synth failed (see above); nothing was planned")
            raise Stopped(done.code)
        self.synthesized = True

    def _init(self, directory: Path, options: list[str]) -> None:
        if self.run([self.binary, "init", "-input=false", *options], cwd=directory).code != 0:
            command = " ".join([self.binary, "init", *options])
            self.say(f"`{command}` failed in {directory} (see above); nothing was planned")
            raise Stopped(EXIT_FAILED)

    def _initialised(self, stack: str) -> Path:
        """The stack's directory, initialised for the providers it pins."""
        directory = self.stacks_dir / stack
        if not (directory / "cdk.tf.json").is_file():
            self.say(f"no synthesized stack in {directory}: run `python main.py {stack}` first")
            raise Stopped(EXIT_FAILED)
        if not (directory / ".terraform").is_dir():
            self.say(f"{stack}: {self.binary} init")
            self._init(directory, [])
        elif changes := read_pin_changes(directory):
            self.say(f"{stack}: provider pins changed ({', '.join(changes)}); {self.binary} init -upgrade")
            self._init(directory, ["-upgrade"])  # the pins are exact: it selects exactly them
        return directory

    def _plan(self, stack: str, directory: Path, plan_file: str) -> dict[str, Any]:
        """Plans into plan_file; returns the plan's JSON document, from Terraform."""
        self.say(f"{stack}: planning")
        planned = self.run(
            [self.binary, "plan", "-input=false", f"-out={plan_file}", f"-lock-timeout={LOCK_TIMEOUT}"],
            cwd=directory,
        )
        if planned.code != 0:
            self.say(f"`{self.binary} plan` failed for {stack} (see above); nothing was applied")
            raise Stopped(EXIT_FAILED)
        shown = self.run([self.binary, "show", "-json", plan_file], cwd=directory, capture=True)
        if shown.code != 0:
            self.say(f"`{self.binary} show -json` failed for {stack}: {redact(shown.stderr.strip())[:500]}")
            raise Stopped(EXIT_FAILED)
        try:
            document = json.loads(shown.stdout)
        except json.JSONDecodeError:
            raise PlanFormatError(f"`{self.binary} show -json` printed no JSON for {stack}") from None
        if not isinstance(document, dict):
            raise PlanFormatError(f"`{self.binary} show -json` printed no plan object for {stack}")
        return document

    def _approved(self, planned: Planned) -> bool:
        if self.confirm is None or not planned.changes_anything:
            return True
        return self.confirm(f"apply this plan to {planned.stack}? [y/N] ")

    def _apply(self, stack: str, directory: Path, plan_file: str) -> Outcome:
        """`terraform apply` of the saved plan: no new plan, no refresh, no question. Terraform
        refuses it (and changes nothing) if the state changed since the plan was made."""
        self.say(f"{stack}: applying the plan above")
        applied = self.run(
            [self.binary, "apply", "-input=false", f"-lock-timeout={LOCK_TIMEOUT}", plan_file], cwd=directory
        )
        if applied.code != 0:
            self.say(
                f"`{self.binary} apply` failed for {stack} (see above). What it applied before the error "
                "is in the state; if it says the saved plan is stale, the state changed since the plan "
                "and nothing was applied. Run the deploy again: it plans afresh"
            )
            return Outcome(applied.code, applying=True)
        return Outcome(0, applying=True)


def deregistrations(document: Mapping[str, Any]) -> frozenset[str]:
    """The task definition revisions the plan deregisters: each aws_ecs_task_definition it deletes
    or replaces, unless skip_destroy keeps the old revision registered. Its ARN, else its family."""
    found = set()
    for item in document.get("resource_changes") or ():
        if not isinstance(item, dict) or item.get("type") != TASK_DEFINITION_TYPE:
            continue
        change = item.get("change")
        if not isinstance(change, dict):
            continue
        before = change.get("before")
        if "delete" not in (change.get("actions") or ()) or not isinstance(before, dict):
            continue
        if before.get("skip_destroy") is True:
            continue
        named = before.get("arn") or before.get("family")
        if isinstance(named, str) and named:
            found.add(named)
    return frozenset(found)


def changes_anything(document: Mapping[str, Any]) -> bool:
    """Whether applying the plan changes a resource or an output."""
    resources = document.get("resource_changes") or ()
    outputs = document.get("output_changes") or {}
    changes = [item.get("change") for item in resources if isinstance(item, dict)]
    changes += list(outputs.values()) if isinstance(outputs, dict) else []
    return any(
        isinstance(change, dict) and tuple(change.get("actions") or ()) not in (("no-op",), ("read",))
        for change in changes
    )
