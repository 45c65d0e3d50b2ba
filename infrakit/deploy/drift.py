"""`infrakit drift --env ENV`: does what is deployed still match the configuration?

Each stack of the environment (`<env>-images`, then `<env>`) is planned as `terraform plan
-detailed-exitcode` plans it, and the command exits as that does: 0 when no stack has changes, 2 when
one has (listed), 1 on an error (a stack that could not be planned; an error outweighs drift). A
change is what an apply would do: an object changed or deleted outside Terraform (the plan puts it
back), or a configuration that was never applied. Terraform says which by its exit code (2: the plan
has resource or output changes); the plan's JSON (`terraform show -json`) says what: its
`resource_changes`, `output_changes` and `resource_drift`, the objects that the refresh found changed
outside Terraform.

An object changed outside Terraform only in attributes that the configuration ignores
(`lifecycle.ignore_changes`, e.g. an ECS service's `desired_count`, which autoscaling owns) or does
not set is listed, and is not drift: no apply would change it, and Terraform's own plan leaves it out.

What is listed: addresses, actions and attribute NAMES, never a value: the plan holds sensitive values
in plain text, and so does the plan file, which lives in a private temporary directory and is removed
however the command ends. The plan runs with `-lock=false`: it only reads, and a nightly check must
never hold up a deploy by holding the state lock.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from infrakit.bootstrap.redaction import redact
from infrakit.deploy.plan import Action, PlanFormatError, PlannedChange, parse_plan
from infrakit.deploy.plan_gate import RunProgram, read_pin_changes
from infrakit.deploy.plan_markdown import code, escape, table
from infrakit.deploy.plan_table import ACTION_STYLES

EXIT_NO_DRIFT = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2  # as `terraform plan -detailed-exitcode`: the plan has changes
MOST_NAMES = 8  # attribute names listed per resource; more are counted


@dataclass(frozen=True)
class Pending:
    """A change an apply would make, with the attributes it changes (names)."""

    change: PlannedChange
    attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outside:
    """An object the refresh found changed (or deleted) outside Terraform."""

    address: str
    deleted: bool = False
    attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StackDrift:
    stack: str
    pending: tuple[Pending, ...] = ()
    outputs: tuple[str, ...] = ()  # root outputs whose value an apply would change
    outside: tuple[Outside, ...] = ()
    terraform_has_changes: bool = False  # `plan -detailed-exitcode` exited 2
    error: str | None = None

    @property
    def drifted(self) -> bool:
        return self.error is None and (self.terraform_has_changes or bool(self.pending or self.outputs))

    @property
    def ignored(self) -> tuple[Outside, ...]:
        """Changed outside Terraform, where no apply would change anything: not drift."""
        planned = {p.change.address for p in self.pending}
        return tuple(o for o in self.outside if o.address not in planned)

    def changed_outside(self, address: str) -> Outside | None:
        return next((o for o in self.outside if o.address == address), None)


@dataclass(frozen=True)
class DriftReport:
    environment: str
    stacks: tuple[StackDrift, ...] = ()
    error: str | None = None  # before any stack was planned (the synth)

    @property
    def exit_code(self) -> int:
        if self.error is not None or any(s.error is not None for s in self.stacks):
            return EXIT_ERROR
        return EXIT_DRIFT if any(s.drifted for s in self.stacks) else EXIT_NO_DRIFT


# ----------------------------------------------------------------------------- reading the plan


def read_drift(document: Mapping[str, Any], stack: str, *, terraform_has_changes: bool) -> StackDrift:
    """What a plan's JSON says changed, by name; PlanFormatError when it cannot be read."""
    summary = parse_plan(document, stack)
    items = {
        (item.get("address"), item.get("deposed")): item
        for item in document.get("resource_changes") or ()
        if isinstance(item, dict)
    }
    pending = []
    for change in summary.changes:
        item = items.get((change.address, change.deposed), {})
        names = (
            changed_attributes(item.get("change") or {})
            if change.action in (Action.CHANGE, Action.REPLACE)
            else ()
        )
        pending.append(Pending(change, names))
    outputs = document.get("output_changes") or {}
    changed_outputs = sorted(
        str(name)
        for name, change in (outputs.items() if isinstance(outputs, dict) else ())
        if isinstance(change, dict) and tuple(change.get("actions") or ()) not in (("no-op",), ())
    )
    outside = []
    for item in document.get("resource_drift") or ():
        if not isinstance(item, dict) or item.get("mode", "managed") != "managed":
            continue
        refreshed = item.get("change")
        if not isinstance(refreshed, dict):
            refreshed = {}
        if tuple(refreshed.get("actions") or ()) == ("no-op",):
            continue
        deleted = "delete" in (refreshed.get("actions") or ()) and refreshed.get("after") is None
        names = () if deleted else changed_attributes(refreshed)
        outside.append(Outside(str(item.get("address") or "no address"), deleted, names))
    return StackDrift(
        stack,
        pending=tuple(pending),
        outputs=tuple(changed_outputs),
        outside=tuple(outside),
        terraform_has_changes=terraform_has_changes,
    )


def changed_attributes(change: Mapping[str, Any]) -> tuple[str, ...]:
    """The attribute paths whose value differs between `before` and `after`, or that `after_unknown`
    leaves unknown: `tags.Owner`, `ingress[0].cidr_blocks`. Values are compared, never kept."""
    return tuple(_paths(change.get("before"), change.get("after"), change.get("after_unknown"), ""))


def _paths(before: Any, after: Any, unknown: Any, path: str) -> list[str]:
    if unknown is True:
        return [path]
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted({*before, *after, *(unknown if isinstance(unknown, dict) else ())})
        found = []
        for key in keys:
            below = unknown.get(key) if isinstance(unknown, dict) else None
            found += _paths(before.get(key), after.get(key), below, f"{path}.{key}" if path else str(key))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        found = []
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            below = unknown[index] if isinstance(unknown, list) and index < len(unknown) else None
            found += _paths(old, new, below, f"{path}[{index}]")
        return found
    return [] if before == after else [path or "(the whole object)"]


def _names(attributes: Sequence[str]) -> str:
    shown = ", ".join(attributes[:MOST_NAMES])
    return shown + (f" and {len(attributes) - MOST_NAMES} more" if len(attributes) > MOST_NAMES else "")


# ----------------------------------------------------------------------------- planning


@dataclass
class DriftCheck:
    """Plans each stack without applying anything; programs run through `run` (plan_gate.RunProgram),
    so that tests need neither Terraform nor a provider."""

    run: RunProgram
    stacks_dir: Path  # cdktf.out/stacks
    say: Callable[[str], None]
    binary: str = "terraform"  # TERRAFORM_BINARY_NAME
    synth: Sequence[str] | None = None  # run once, first, in the project root
    project_root: Path = Path()

    def check(self, environment: str, stacks: Sequence[str]) -> DriftReport:
        if self.synth is not None:
            done = self.run(self.synth, cwd=self.project_root, capture=True)
            for line in (done.stdout + done.stderr).splitlines():
                self.say(line.removeprefix("infrakit: "))
            if done.code != 0:
                return DriftReport(environment, error="the synth failed (see above); nothing was planned")
        return DriftReport(environment, tuple(self._stack(stack) for stack in stacks))

    def _stack(self, stack: str) -> StackDrift:
        try:
            return self._plan(stack)
        except _Failed as failed:
            self.say(f"{stack}: {failed}")
            return StackDrift(stack, error=str(failed))
        except PlanFormatError as error:
            self.say(str(error))
            return StackDrift(stack, error=str(error))
        except OSError as error:
            if error.filename != self.binary:
                raise
            problem = (
                f"could not run {self.binary}: {error.strerror}. Install Terraform >= 1.10, or "
                "OpenTofu >= 1.10 with TERRAFORM_BINARY_NAME=tofu"
            )
            self.say(problem)
            return StackDrift(stack, error=problem)

    def _plan(self, stack: str) -> StackDrift:
        directory = self.stacks_dir / stack
        if not (directory / "cdk.tf.json").is_file():
            raise _Failed(f"no synthesized stack in {directory}: run `python main.py {stack}` first")
        if not (directory / ".terraform").is_dir():
            self._init(stack, directory, [])
        elif changes := read_pin_changes(directory):
            self.say(f"{stack}: provider pins changed ({', '.join(changes)})")
            self._init(stack, directory, ["-upgrade"])
        self.say(f"{stack}: planning (refreshes every resource; applies nothing, takes no state lock)")
        with tempfile.TemporaryDirectory(prefix="infrakit-drift-") as private:
            plan_file = str(Path(private) / f"{stack}.tfplan")
            planned = self.run(
                [
                    self.binary,
                    "plan",
                    "-input=false",
                    "-detailed-exitcode",
                    "-lock=false",
                    f"-out={plan_file}",
                ],
                cwd=directory,
            )
            if planned.code not in (0, 2):
                raise _Failed(f"`{self.binary} plan` failed (exit {planned.code}; see above)")
            shown = self.run([self.binary, "show", "-json", plan_file], cwd=directory, capture=True)
        if shown.code != 0:
            raise _Failed(f"`{self.binary} show -json` failed: {redact(shown.stderr.strip())[:500]}")
        try:
            document = json.loads(shown.stdout)
        except json.JSONDecodeError:
            raise _Failed(f"`{self.binary} show -json` printed no JSON") from None
        if not isinstance(document, dict):
            raise _Failed(f"`{self.binary} show -json` printed no plan object")
        return read_drift(document, stack, terraform_has_changes=planned.code == 2)

    def _init(self, stack: str, directory: Path, options: list[str]) -> None:
        self.say(f"{stack}: {' '.join([self.binary, 'init', *options])}")
        if self.run([self.binary, "init", "-input=false", *options], cwd=directory).code != 0:
            raise _Failed(f"`{' '.join([self.binary, 'init', *options])}` failed (see above)")


class _Failed(Exception):
    """A stack that could not be planned; the message says why."""


# ----------------------------------------------------------------------------- the report


def _what(change: PlannedChange, outside: Outside | None) -> str:
    if outside is None:
        return change.action.value
    return f"{change.action.value} ({'deleted' if outside.deleted else 'changed'} outside Terraform)"


def _holds(change: PlannedChange) -> str:
    if change.holds is not None:
        loses = "LOSES " if change.action.loses_the_object else ""
        return f"{loses}{change.holds}"
    return f"API key: {change.grants}" if change.grants else ""


def _attributes(pending: Pending, outside: Outside | None) -> str:
    names = list(pending.attributes)
    if outside is not None and outside.attributes:
        names += [n for n in outside.attributes if n not in names]
    if pending.change.forced_by:
        names += [f"{n} (forces replacement)" for n in pending.change.forced_by if n not in names]
    return _names(names)


def stack_title(drift: StackDrift) -> str:
    if drift.error is not None:
        return f"{drift.stack}: could not be planned"
    if not drift.drifted:
        ignored = len(drift.ignored)
        return f"{drift.stack}: no changes" + (
            f" ({ignored} changed outside Terraform where no apply would change anything)" if ignored else ""
        )
    counts = {action: sum(p.change.action is action for p in drift.pending) for action in Action}
    parts = [f"{count} to {action.value}" for action, count in counts.items() if count]
    if drift.outputs:
        parts.append(f"{len(drift.outputs)} output{'s' if len(drift.outputs) > 1 else ''} to change")
    outside = sum(drift.changed_outside(p.change.address) is not None for p in drift.pending)
    if outside:
        parts.append(f"{outside} of them changed outside Terraform")
    return f"{drift.stack}: DRIFT: " + (", ".join(parts) or "Terraform reports changes (see its plan above)")


def _rows(drift: StackDrift) -> list[tuple[str, str, str, str, Action | None]]:
    """(what, resource, attributes, stateful, action) for each line of the stack's table."""
    rows: list[tuple[str, str, str, str, Action | None]] = []
    for pending in drift.pending:
        outside = drift.changed_outside(pending.change.address)
        rows.append(
            (
                _what(pending.change, outside),
                pending.change.label,
                _attributes(pending, outside),
                _holds(pending.change),
                pending.change.action,
            )
        )
    rows += [("output", name, "", "", None) for name in drift.outputs]
    for ignored in drift.ignored:
        what = (
            "deleted outside Terraform" if ignored.deleted else "changed outside Terraform, nothing to apply"
        )
        rows.append((what, ignored.address, _names(ignored.attributes), "", None))
    return rows


def render_drift(report: DriftReport) -> RenderableType:
    """The report as the terminal shows it: one title or table per stack."""
    parts: list[RenderableType] = []
    for drift in report.stacks:
        rows = _rows(drift) if drift.error is None else []
        if not rows:
            parts.append(Text(stack_title(drift)))
            continue
        grid = Table(title=Text(stack_title(drift)), title_justify="left")
        for column in ("what", "resource", "attributes (names only)", "stateful: holds"):
            grid.add_column(column, overflow="fold")
        for what, address, attributes, holds, action in rows:
            style = ACTION_STYLES[action] if action is not None else "dim"
            grid.add_row(Text(what, style=style), Text(address), Text(attributes), Text(holds))
        parts.append(grid)
    return Group(*parts)


def verdict_line(report: DriftReport, deploy_command: str, quote: Callable[[str], str] | None = None) -> str:
    """One line: no drift, drift and how to end it, or the error. `quote` formats the command and
    escapes the rest (Markdown); without it, plain text with the command in backticks."""
    plain = quote is None
    say = (lambda text: text) if plain else escape
    command = f"`{deploy_command}`" if quote is None else quote(deploy_command)
    if report.error is not None:
        return say(f"error: {report.error}")
        return f"error: {report.error}"
    failed = [s.stack for s in report.stacks if s.error is not None]
    drifted = [s.stack for s in report.stacks if s.drifted]
    if failed:
        also = f" (and drift in {', '.join(drifted)})" if drifted else ""
        return say(f"error: {', '.join(failed)} could not be planned (see above){also}")
    if drifted:
        return (
            say(f"drift in {', '.join(drifted)}: what is deployed differs from the configuration. Apply it (")
            + command
            + say("), or change it to match what was changed on purpose")
        )
    return say(f"no drift: {', '.join(s.stack for s in report.stacks)} match their configuration")


def render_drift_markdown(report: DriftReport, deploy_command: str) -> str:
    """The report as Markdown, for a job summary: a verdict, then a section per stack."""
    verdict = {EXIT_NO_DRIFT: "no drift", EXIT_DRIFT: "DRIFT", EXIT_ERROR: "error"}[report.exit_code]
    lines = [
        f"## Drift of {code(report.environment)}: {verdict} (exit {report.exit_code})",
        "",
        verdict_line(report, deploy_command, quote=code),
        "",
    ]
    for drift in report.stacks:
        lines += [f"### {escape(stack_title(drift))}", ""]
        if drift.error is not None:
            lines += [escape(drift.error), ""]
            continue
        rows = _rows(drift)
        if rows:
            cells = [
                [
                    f"**{escape(what)}**" if action is not None and action.loses_the_object else escape(what),
                    code(address),
                    escape(attributes),
                    f"**{escape(holds)}**" if holds.startswith("LOSES") else escape(holds),
                ]
                for what, address, attributes, holds, action in rows
            ]
            lines += [*table(["what", "resource", "attributes (names only)", "stateful: holds"], cells), ""]
    return "\n".join(lines)
