"""The plan summary in Markdown (`infrakit plan --format markdown`), for a pull-request comment or
a GitHub job summary: the same table and verdict lines as the terminal (plan_table.py), without
colour or ANSI codes.

Markdown on stdout, and nothing else there: what Terraform and the synth print goes to stderr, so
that `infrakit plan --format markdown > plan.md` holds only the summary. The plan gate itself
(plan_gate.py) plans and judges, exactly as without `--format`, and its exit code is the command's.
The summary is rebuilt here from the plan JSON that the gate reads with `terraform show -json`,
with the same pure functions (plan.parse_plan, plan.decide): the JSON is kept in memory and never
printed, since it holds sensitive values in plain text.

Addresses are code spans, fenced by more backticks than they hold and with `|` escaped in table
cells; every other text is escaped as Markdown, so that a resource name cannot start a link, an
emphasis or a new table cell. Names, actions and Terraform's reasons only: never a value.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infrakit.deploy.plan import Action, PlanFormatError, PlanSummary, Verdict, decide, parse_plan
from infrakit.deploy.plan_table import stateful_cell, summary_counts, verdict_lines

if TYPE_CHECKING:
    from infrakit.deploy.plan_gate import Finished, PlanGate, RunProgram

# What can start or end Markdown syntax inside a line (CommonMark lets a backslash escape any ASCII
# punctuation); what else is special only where a block starts is escaped there (see escape).
INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
ORDERED = re.compile(r"\d+(?=[.)])")


def escape(text: str) -> str:
    """Plain text, as Markdown that renders it as it is, on one line (a list item, a cell, a title)."""
    text = INLINE.sub(r"\\\1", " ".join(text.splitlines()))
    if number := ORDERED.match(text):  # `1.` or `1)` would start an ordered list
        return f"{number[0]}\\{text[number.end() :]}"
    return f"\\{text}" if text[:1] in ("#", "+", "-", "=") else text


def code(text: str) -> str:
    """A code span: fenced by one backtick more than the longest run inside, padded with a space
    where the text starts or ends with a backtick (CommonMark strips one space from each side)."""
    text = " ".join(text.splitlines())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    padded = text.startswith("`") or text.endswith("`") or (text[:1] == text[-1:] == " " and text.strip())
    return f"{fence} {text} {fence}" if padded else f"{fence}{text}{fence}"


def cell(markdown: str) -> str:
    """Markdown for one table cell: GitHub splits cells at every `|` not escaped, code spans included."""
    return markdown.replace("|", "\\|")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub table; the cells are Markdown already (pipes are escaped here)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return lines


def bullets(lines: Sequence[str]) -> list[str]:
    """Plain-text lines as a Markdown list; a line indented `  - ` is a nested item."""
    items = []
    for line in lines:
        nested = line.startswith("  - ")
        text = line.removeprefix("  - ") if nested else line
        items.append(("  - " if nested else "- ") + escape(text))
    return items


def render_plan(summary: PlanSummary, verdict: Verdict) -> str:
    """The summary and the verdict of one stack's plan, as Markdown."""
    stack = code(summary.stack)
    if summary.no_changes:
        lines = [f"### Plan of {stack}: no changes", ""]
    else:
        lines = [f"### Plan of {stack}: {escape(summary_counts(summary))}", ""]
        rows = []
        for action in Action:
            for change in summary.of(action):
                name = f"**{action.value}**" if action.loses_the_object else action.value
                rows.append([name, code(change.label), _flagged(stateful_cell(change, verdict).plain)])
        lines += [*table(["action", "resource", "stateful: holds / credential"], rows), ""]
    lines += [_verdict(verdict, summary.stack), ""]
    if said := verdict_lines(verdict, summary.stack):
        lines += [*bullets(said), ""]
    return "\n".join(lines)


def render_failure(stack: str, status: int, reason: str) -> str:
    """A plan that could not be made or judged: no table, and where to read why."""
    return "\n".join([f"### Plan of {code(stack)}: failed (exit {status})", "", escape(reason), ""])


def _flagged(text: str) -> str:
    """The stateful column: REFUSED in bold, the rest escaped."""
    if text.startswith("REFUSED: "):
        return "**REFUSED**: " + escape(text.removeprefix("REFUSED: "))
    return escape(text)


def _verdict(verdict: Verdict, stack: str) -> str:
    if verdict.exit_code == 0:
        return f"**Verdict:** nothing refused; {escape(stack)} may be applied (exit 0)."
    if verdict.stale:
        return "**Verdict: usage error** (exit 2): an `--allow-replace` that no plan uses; see below."
    return f"**Verdict: refused** (exit 1): {escape(stack)} would not be applied; see below."


@dataclass
class OnStderr:
    """A RunProgram that runs each program as `run` would, with what it prints uncaptured on stderr:
    stdout then holds only the Markdown."""

    run: RunProgram

    def __call__(self, argv: Sequence[str], *, cwd: Path, capture: bool = False) -> Finished:
        if capture:
            return self.run(argv, cwd=cwd, capture=True)
        with stdout_to_stderr():
            return self.run(argv, cwd=cwd, capture=False)


@dataclass
class ShownPlan(OnStderr):
    """OnStderr, keeping what `<binary> show -json` printed: in memory, never printed."""

    document: dict[str, Any] | None = None

    def __call__(self, argv: Sequence[str], *, cwd: Path, capture: bool = False) -> Finished:
        done = super().__call__(argv, cwd=cwd, capture=capture)
        if capture and list(argv[1:3]) == ["show", "-json"] and done.code == 0:
            self.document = _json_object(done.stdout)
        return done


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """File descriptor 1 is stderr's for a while: a child process started now writes there."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def plan_as_markdown(gate: PlanGate, stack: str) -> tuple[int, str]:
    """Run the gate's check of one stack (the exit code is the gate's), with the summary as Markdown."""
    shown = ShownPlan(gate.run)
    status = replace(gate, run=shown).check(stack)
    return status, _markdown(shown.document, stack, status, gate.allow_replace)


def _markdown(
    document: dict[str, Any] | None, stack: str, status: int, allow_replace: Collection[str]
) -> str:
    if document is None:
        return render_failure(stack, status, "No plan was made: the reason is in the log of this command.")
    try:
        summary = parse_plan(document, stack)
    except PlanFormatError as error:
        return render_failure(stack, status, str(error))
    verdict = decide(summary, allow_replace)
    if verdict.exit_code != status:  # the gate stopped for a reason of its own after the plan
        return render_failure(stack, status, "The plan was made but the command failed: see its log.")
    return render_plan(summary, verdict)
