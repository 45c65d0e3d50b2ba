"""The plan summary as a person reads it: one table, then the refusal and how to lift it.

A replaced API key (infrakit/deploy/credentials.py) says ROTATION twice: in its row of the table,
and in a plain-text line after it (verdict_lines), which says which key and in what order.

Addresses, actions and Terraform's reasons only: never a value from the plan.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from infrakit.deploy.credentials import ROTATION, ROTATION_WITHOUT_TASKS
from infrakit.deploy.plan import Action, PlannedChange, PlanSummary, Verdict
from infrakit.deploy.stateful import IMMOVABLE_FIXES, IMMOVABLE_OUTCOMES, REPLACEMENT_NOTES

ACTION_STYLES = {
    Action.ADD: "green",
    Action.CHANGE: "yellow",
    Action.REPLACE: "bold red",
    Action.DESTROY: "bold red",
    Action.FORGET: "dim",
}

# Terraform's action_reason values (internal/command/jsonplan), in words.
REASONS = {
    "replace_because_cannot_update": "an argument that cannot change in place changed",
    "replace_because_tainted": "it is tainted: an earlier create or update failed part way",
    "replace_by_request": "replacement was requested (-replace)",
    "replace_by_triggers": "a replace_triggered_by reference changed",
    "delete_because_no_resource_config": "it is no longer in the configuration",
    "delete_because_wrong_repetition": "count or for_each was added to it or removed from it",
    "delete_because_count_index": "its count index is now out of range",
    "delete_because_each_key": "its for_each key is gone",
    "delete_because_no_module": "its module is gone",
    "delete_because_no_move_target": "a moved block points at a resource that does not exist",
}


def render_summary(summary: PlanSummary, verdict: Verdict) -> RenderableType:
    if summary.no_changes:
        return Text(f"{summary.stack}: no changes")
    table = Table(title=f"{summary.stack}: {summary_counts(summary)}", title_justify="left")
    table.add_column("action")
    table.add_column("resource", overflow="fold")
    table.add_column("stateful: holds / credential", overflow="fold")
    for action in Action:
        for change in summary.of(action):
            table.add_row(
                Text(action.value, style=ACTION_STYLES[action]),
                Text(change.label),
                stateful_cell(change, verdict),
            )
    return table


def summary_counts(summary: PlanSummary) -> str:
    """`2 to add, 1 to change, 0 to replace, 0 to destroy` (`, 1 to forget` only when there is one)."""
    counts = [f"{len(summary.of(a))} to {a.value}" for a in Action if a is not Action.FORGET]
    if forgotten := summary.of(Action.FORGET):
        counts.append(f"{len(forgotten)} to forget")
    return ", ".join(counts)


def stateful_cell(change: PlannedChange, verdict: Verdict) -> Text:
    """The table's third column for one change; its `.plain` is the same words without colour."""
    if change.immovable:
        return Text(f"REFUSED: cannot update {', '.join(change.immovable)}", style="bold red")
    return _stateful_cell(
        change,
        refused=change.label in {c.label for c in verdict.refused},
        allowed=change.label in {c.label for c in verdict.allowed},
        restarts_tasks=verdict.restarts_tasks,
    )


def _stateful_cell(change: PlannedChange, *, refused: bool, allowed: bool, restarts_tasks: bool) -> Text:
    if change.rotates:
        return Text(ROTATION if restarts_tasks else ROTATION_WITHOUT_TASKS, style="yellow")
    if change.holds is None:
        return Text("")
    cell = Text()
    if refused:
        cell.append("REFUSED: ", style="bold red")
    elif allowed:
        cell.append("allowed by --allow-replace: ", style="yellow")
    cell.append(change.holds)
    return cell


def verdict_lines(verdict: Verdict, stack: str) -> list[str]:
    """What the gate says after the table: refusals with their fix, allowances, stale flags."""
    lines = [f"allowed by --allow-replace: {_loss(change)}" for change in verdict.allowed]
    lines += [_rotation(change, verdict.restarts_tasks) for change in verdict.rotations]
    if verdict.refused:
        count = len(verdict.refused)
        lines.append(
            f"refusing: {count} stateful resource{'s' if count > 1 else ''} in {stack} would be "
            "replaced or destroyed:"
        )
        lines += [f"  - {_loss(change)}" for change in verdict.refused]
        flags = " ".join(f"--allow-replace {change.address}" for change in _unique(verdict.refused))
        them = "them" if count > 1 else "it"
        lines.append(f"{stack} was not applied. If you mean to lose {them}, add: {flags}")
    for change in verdict.immovable:
        attributes = " and ".join(change.immovable)
        outcome = IMMOVABLE_OUTCOMES.get(
            change.type,
            'which its provider cannot ("Update is not supported") and which forces no replacement, '
            "so the apply would fail part way",
        )
        lines.append(
            f"refusing: {change.label} would update {attributes} in place, {outcome}. "
            f"{IMMOVABLE_FIXES.get(change.type, 'Put the deployed value back')}. "
            f"{stack} was not applied."
        )
    for address in verdict.stale:
        lines.append(
            f"--allow-replace {address}: no plan of this run replaces or destroys it; remove the flag, "
            "so that it cannot let a later plan lose that resource without asking"
        )
    return lines


def _loss(change: PlannedChange) -> str:
    verb = "replaced" if change.action is Action.REPLACE else "destroyed"
    note = REPLACEMENT_NOTES.get(change.type)
    return f"{change.label} would be {verb}{_why(change)}; it holds {change.holds}" + (
        f": {note}" if note else ""
    )


def _rotation(change: PlannedChange, restarts_tasks: bool) -> str:
    """A replaced API key, which key and what happens to the tasks that hold it."""
    if not restarts_tasks:
        what = "the new key is created first" if change.create_first else "the old key is deleted first"
        replaced = f"{change.label} ({change.grants}) would be replaced{_why(change)}"
        return f"{ROTATION_WITHOUT_TASKS}: {replaced}; {what}"
    if change.create_first:
        then = (
            "the new key is created first, the tasks that read it get a new task definition "
            "revision and restart, and only then is the old key deleted"
        )
    else:
        then = (
            "the old key is deleted BEFORE the new one exists (no create_before_destroy): the tasks "
            "that hold it fail to authenticate until they restart"
        )
    return f"{ROTATION}: {change.label} ({change.grants}) would be replaced{_why(change)}; {then}"


def _why(change: PlannedChange) -> str:
    """Terraform's reason, in words, with the attributes that force it: ` (...)`, or nothing."""
    if not change.reason:
        return ""
    words = REASONS.get(change.reason)
    why = f"{change.reason}: {words}" if words else change.reason
    if change.forced_by:
        why += f": {', '.join(change.forced_by)}"
    return f" ({why})"


def _unique(changes: tuple[PlannedChange, ...]) -> list[PlannedChange]:
    """One per address: a deposed object shares its address with the current one."""
    seen: dict[str, PlannedChange] = {}
    for change in changes:
        seen.setdefault(change.address, change)
    return list(seen.values())
