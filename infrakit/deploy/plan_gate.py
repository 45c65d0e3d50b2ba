"""The plan gate: before a stack is applied, plan it, show the summary, and refuse data loss.

In cdktf.out/stacks/<stack>: `terraform init` when the stack was never initialised here, or
`terraform init -upgrade` when its lock file does not hold the provider versions the stack pins
(the pins moved since the last init: plain init and plan refuse a lock file that disagrees), then
`terraform plan -out=<temporary file>` (its output is the user's, shown as it comes) and
`terraform show -json` of that file, read here and never printed: it holds sensitive values in
plain text, and so does the plan file, which lives in a private temporary directory and is
removed however the gate ends. Programs run through an injectable `RunProgram`, so tests need
neither Terraform nor a provider.
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
from infrakit.deploy.plan import PlanFormatError, decide, parse_plan
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


@dataclass
class PlanGate:
    """Plans each stack of a run before it is applied; `check` returns the exit code to stop with,
    or 0 to go ahead. The allowances span the run: see infrakit.deploy.plan.decide."""

    run: RunProgram
    stacks_dir: Path  # cdktf.out/stacks
    allow_replace: Collection[str]
    show: Callable[[RenderableType], None]
    say: Callable[[str], None]
    binary: str = "terraform"  # TERRAFORM_BINARY_NAME
    synth: Sequence[str] | None = None  # run once, before the first plan, in the project root
    project_root: Path = Path()
    matched: set[str] = field(default_factory=set, init=False)
    synthesized: bool = field(default=False, init=False)

    def check(self, stack: str, *, last: bool = True) -> int:
        try:
            self._synthesize()
            summary = parse_plan(self._plan(stack), stack)
        except Stopped as stopped:
            return stopped.code
        except PlanFormatError as error:
            self.say(str(error))
            return EXIT_FAILED
        except OSError as error:
            if error.filename != self.binary:
                raise
            self.say(
                f"could not run {self.binary}: {error.strerror}. Install Terraform >= 1.10, or "
                "OpenTofu >= 1.10 with TERRAFORM_BINARY_NAME=tofu"
            )
            return EXIT_NOT_READY
        verdict = decide(summary, self.allow_replace, matched_earlier=self.matched, last=last)
        self.matched |= verdict.matched
        self.show(render_summary(summary, verdict))
        for line in verdict_lines(verdict, stack):
            self.say(line)
        return verdict.exit_code

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

    def _plan(self, stack: str) -> dict[str, Any]:
        """The plan's JSON document, from Terraform in the stack's directory."""
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
        self.say(f"{stack}: planning")
        with tempfile.TemporaryDirectory(prefix="infrakit-plan-") as private:
            plan_file = str(Path(private) / f"{stack}.tfplan")
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
