"""What a Terraform plan would do, and whether to let it: pure functions over `terraform show -json`.

`parse_plan` reads Terraform's JSON plan representation (format_version 1.x) into a summary of the
managed resources it adds, changes, replaces, destroys or forgets. `decide` refuses the plan when
it replaces or destroys a stateful resource (infrakit/deploy/stateful.py) that `--allow-replace`
does not name, and an in-place update of an attribute its provider cannot update
(IMMOVABLE_ATTRIBUTES: a Supabase project's region or organization, an AuraDB instance's place and
tier). Only those named attributes of `before` and `after` are compared, and never printed: the
plan's values include sensitive ones in plain text, and nothing here may print them. A replaced API
key (infrakit/deploy/credentials.py) is never refused: the verdict lists it as a credential rotation.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from infrakit.deploy.credentials import TASK_DEFINITION_TYPE, what_it_grants
from infrakit.deploy.stateful import IMMOVABLE_ATTRIBUTES, what_it_holds

EXIT_REFUSED = 1
EXIT_USAGE = 2


class PlanFormatError(Exception):
    """The plan JSON is not one infrakit can judge; the message says why and what to do."""


class Action(Enum):
    ADD = "add"
    CHANGE = "change"
    REPLACE = "replace"
    DESTROY = "destroy"
    FORGET = "forget"  # removed from state, the object itself kept (a `removed` block)

    @property
    def loses_the_object(self) -> bool:
        return self in (Action.REPLACE, Action.DESTROY)


# Terraform's `change.actions` lists; a list not here fails the gate closed (see parse_plan).
ACTIONS: Mapping[tuple[str, ...], Action | None] = {
    ("no-op",): None,
    ("read",): None,
    ("create",): Action.ADD,
    ("update",): Action.CHANGE,
    ("delete", "create"): Action.REPLACE,
    ("create", "delete"): Action.REPLACE,  # create_before_destroy: the old object is still deleted
    ("delete",): Action.DESTROY,
    ("forget",): Action.FORGET,
}


@dataclass(frozen=True)
class PlannedChange:
    address: str
    type: str
    action: Action
    reason: str | None = None  # Terraform's action_reason, e.g. replace_because_cannot_update
    forced_by: tuple[str, ...] = ()  # the attributes whose change forces a replacement
    deposed: str | None = None  # the key of a deposed object (left by a failed replacement)
    immovable: tuple[str, ...] = ()  # attributes an update changes that the provider cannot update
    create_first: bool = False  # a replacement that creates the new object before deleting the old

    @property
    def holds(self) -> str | None:
        return what_it_holds(self.type)

    @property
    def grants(self) -> str | None:
        """Which kind of API key it is (infrakit/deploy/credentials.py); None: not one."""
        return what_it_grants(self.type)

    @property
    def rotates(self) -> bool:
        """A replaced API key: a credential rotation. Destroying one without a replacement is not."""
        return self.action is Action.REPLACE and self.grants is not None

    @property
    def label(self) -> str:
        return f"{self.address} (deposed object {self.deposed})" if self.deposed else self.address


@dataclass(frozen=True)
class PlanSummary:
    stack: str
    changes: tuple[PlannedChange, ...]

    def of(self, action: Action) -> tuple[PlannedChange, ...]:
        return tuple(c for c in self.changes if c.action is action)

    @property
    def no_changes(self) -> bool:
        return not self.changes

    @property
    def restarts_tasks(self) -> bool:
        """Whether a task definition is replaced: ECS then rolls the service's tasks."""
        return any(c.type == TASK_DEFINITION_TYPE for c in self.of(Action.REPLACE))

    @property
    def losses(self) -> tuple[PlannedChange, ...]:
        """Every replacement or destruction, stateful or not."""
        return tuple(c for c in self.changes if c.action.loses_the_object)


def parse_plan(document: Mapping[str, Any], stack: str) -> PlanSummary:
    """The managed resources a plan acts on, in the plan's order; no-ops and reads left out."""
    version = document.get("format_version")
    if not isinstance(version, str) or version.split(".")[0] != "1":
        raise PlanFormatError(
            f"the plan of {stack} has format_version {version!r}; infrakit reads format 1.x "
            "(Terraform or OpenTofu >= 1.0)"
        )
    changes = []
    for item in document.get("resource_changes") or ():
        try:
            change = _planned_change(item)
        except (KeyError, TypeError, AttributeError):
            raise PlanFormatError(
                f"the plan of {stack} has a resource change infrakit cannot read "
                f"({_address_of(item)}); not judging a plan it cannot read"
            ) from None
        if change is not None:
            changes.append(change)
    return PlanSummary(stack=stack, changes=tuple(changes))


def _planned_change(item: Mapping[str, Any]) -> PlannedChange | None:
    if item["mode"] != "managed":
        return None  # data sources are read, never changed
    actions = tuple(item["change"]["actions"])
    if actions not in ACTIONS:
        raise PlanFormatError(
            f"{item['address']}: Terraform plans the actions {list(actions)}, which infrakit does not "
            "know, so it cannot tell whether data would be lost. Read the plan above; if it is safe, "
            "run `cdktf deploy` yourself"
        )
    action = ACTIONS[actions]
    if action is None:
        return None
    return PlannedChange(
        address=str(item["address"]),
        type=str(item["type"]),
        action=action,
        reason=item.get("action_reason"),
        forced_by=tuple(_attribute_path(path) for path in item.get("replace_paths") or ()),
        deposed=item.get("deposed"),
        immovable=_immovable_changes(item) if action is Action.CHANGE else (),
        create_first=actions == ("create", "delete"),
    )


def _immovable_changes(item: Mapping[str, Any]) -> tuple[str, ...]:
    """The attributes of IMMOVABLE_ATTRIBUTES that this update changes (or leaves unknown); their
    values are compared, never kept."""
    names = IMMOVABLE_ATTRIBUTES.get(str(item["type"]), ())
    if not names:
        return ()
    change = item["change"]
    before, after = change.get("before") or {}, change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    return tuple(name for name in names if before.get(name) != after.get(name) or unknown.get(name) is True)


def _attribute_path(path: Sequence[str | int]) -> str:
    """["configuration", 0, "number_of_nodes"] -> configuration[0].number_of_nodes: names, no values."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _address_of(item: object) -> str:
    address = item.get("address") if isinstance(item, Mapping) else None
    return str(address) if address else "no address"


@dataclass(frozen=True)
class Verdict:
    refused: tuple[PlannedChange, ...]  # stateful, replaced or destroyed, not allowed
    allowed: tuple[PlannedChange, ...]  # stateful, replaced or destroyed, named by --allow-replace
    matched: frozenset[str]  # the --allow-replace addresses this plan replaces or destroys
    stale: tuple[str, ...]  # --allow-replace addresses no plan of this run replaces or destroys
    # updates of attributes the provider cannot update: the apply would fail part way, whatever
    # --allow-replace says (nothing is replaced)
    immovable: tuple[PlannedChange, ...] = ()
    # replaced API keys: never refused, but the tasks that hold them restart
    rotations: tuple[PlannedChange, ...] = ()
    # whether the plan replaces a task definition: a service's rotated key restarts its tasks
    restarts_tasks: bool = False

    @property
    def exit_code(self) -> int:
        if self.stale:
            return EXIT_USAGE  # the command line is wrong: fix it before anything else
        return EXIT_REFUSED if self.refused or self.immovable else 0


def decide(
    summary: PlanSummary,
    allow_replace: Collection[str],
    *,
    matched_earlier: Collection[str] = (),
    last: bool = True,
) -> Verdict:
    """Refuse each stateful replacement or destruction that `allow_replace` does not name, and
    list each replaced API key as a credential rotation, which is never refused.

    A deploy plans several stacks, one after the other; an address allowed for one is not stale
    in another. `matched_earlier` holds the addresses that earlier plans of the run replaced or
    destroyed, and only the `last` plan reports the allowances that none of them matched.
    """
    allowances = set(allow_replace)
    losses = summary.losses
    matched = frozenset(c.address for c in losses if c.address in allowances)
    stateful = [c for c in losses if c.holds is not None]
    unmatched = allowances - matched - set(matched_earlier)
    return Verdict(
        refused=tuple(c for c in stateful if c.address not in allowances),
        allowed=tuple(c for c in stateful if c.address in allowances),
        matched=matched,
        stale=tuple(sorted(unmatched)) if last else (),
        immovable=tuple(c for c in summary.changes if c.immovable),
        rotations=tuple(c for c in summary.changes if c.rotates),
        restarts_tasks=summary.restarts_tasks,
    )
