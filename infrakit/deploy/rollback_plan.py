"""The rollback plan of a release, said before the environment stack is applied: the task definition
revision and the image each ECS service runs now, the commands that return the service to them after
the apply, and the change to the environment file that makes the return stick.

Read from ECS (DescribeServices, DescribeTaskDefinition) with a boto3 client passed in, so tests
answer with botocore's Stubber. Only names, revisions and image references are said: never an
environment variable or a secret of a task definition.

A returned service is drift: Terraform's state still names this release's revision, and the next
deploy rolls forward again unless the environment file names the old image. And a revision that
this apply deregisters (Terraform deregisters a task definition it replaces) cannot be pointed at
again: ECS refuses UpdateService to an INACTIVE revision, so the way back registers a copy first.
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infrakit.config import Environment
from infrakit.deploy.plan_gate import Planned
from infrakit.deploy.serving import rollout_target

PERMISSIONS = "ecs:DescribeServices and ecs:DescribeTaskDefinition"


@dataclass(frozen=True)
class Image:
    """A container image as a task definition names it: `repository[:tag][@digest]`."""

    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, reference: str) -> Image:
        name, _, digest = reference.partition("@")
        slash = name.rfind("/")
        colon = name.rfind(":")
        if colon > slash:  # a colon before the last slash is a registry's port
            return cls(name[:colon], name[colon + 1 :], digest or None)
        return cls(name, None, digest or None)

    def __str__(self) -> str:
        short = self.repository.rsplit("/", 1)[-1]
        return short + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


@dataclass(frozen=True)
class Running:
    """What one ECS service runs now."""

    service: str
    task_definition: str  # its ARN
    family: str
    revision: int
    status: str  # ACTIVE, or INACTIVE once deregistered
    images: tuple[Image, ...]  # of the service's own container (else of every container)
    rollout: str | None = None  # the PRIMARY deployment's rolloutState when it is not COMPLETED

    @property
    def name(self) -> str:
        return f"{self.family}:{self.revision}"


class CannotRead(Exception):
    """ECS did not say what runs; the message says why."""


def read_running(ecs: Any, cluster: str, services: Sequence[str]) -> dict[str, Running | None]:
    """Each service of the cluster and what it runs; None for a service that does not exist (yet).
    Raises CannotRead."""
    try:
        answer = ecs.describe_services(cluster=cluster, services=list(services))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ClusterNotFoundException":
            return dict.fromkeys(services)
        raise CannotRead(str(error)) from None
    except BotoCoreError as error:
        raise CannotRead(str(error)) from None
    found: dict[str, Running | None] = dict.fromkeys(services)
    for described in answer.get("services") or ():
        name = described.get("serviceName")
        if name not in found or described.get("status") != "ACTIVE" or not described.get("taskDefinition"):
            continue  # DRAINING or INACTIVE: deleted, nothing runs to return to
        found[name] = _running(ecs, described)
    return found


def _running(ecs: Any, described: Mapping[str, Any]) -> Running:
    arn = str(described["taskDefinition"])
    try:
        definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
    except (ClientError, BotoCoreError) as error:
        raise CannotRead(str(error)) from None
    service = str(described["serviceName"])
    containers = definition.get("containerDefinitions") or []
    own = [c for c in containers if c.get("name") == service] or containers
    deployments = described.get("deployments") or ()
    primary: Mapping[str, Any] = next((d for d in deployments if d.get("status") == "PRIMARY"), {})
    state = primary.get("rolloutState")
    family, _, revision = arn.rsplit("/", 1)[-1].rpartition(":")
    return Running(
        service=service,
        task_definition=arn,
        family=str(definition.get("family") or family),
        revision=int(definition.get("revision") or revision),
        status=str(definition.get("status") or "ACTIVE"),
        images=tuple(Image.parse(str(c["image"])) for c in own if c.get("image")),
        rollout=str(state) if state and state != "COMPLETED" else None,
    )


# What DescribeTaskDefinition returns and RegisterTaskDefinition refuses, as of botocore 1.43; the
# model of the botocore installed adds any newer one (an operator's aws CLI may be newer still).
OUTPUT_ONLY = (
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "deregisteredAt",
    "registeredBy",
    "deleteRequestedAt",
)


@functools.cache
def output_only_fields() -> tuple[str, ...]:
    """What DescribeTaskDefinition returns that RegisterTaskDefinition does not take (the ARN, the
    revision, the status, when and by whom it was registered...): OUTPUT_ONLY, and whatever else
    botocore's own ECS model says."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("ecs")
    returned = model.shape_for("TaskDefinition").members
    taken = model.operation_model("RegisterTaskDefinition").input_shape.members
    return tuple(dict.fromkeys([*OUTPUT_ONLY, *(name for name in returned if name not in taken)]))


def rollback_lines(
    environment: Environment,
    cluster: str,
    region: str,
    running: Mapping[str, Running | None],
    planned: Planned,
) -> list[str]:
    """What to say: what runs now, how to return to it, and how to make that stick."""
    stack = planned.stack
    now = [found for found in running.values() if found is not None]
    if not now:
        return [
            f"rollback plan for {stack}: no ECS service of it runs yet ({', '.join(running)} in cluster "
            f"{cluster}): nothing to roll back to"
        ]
    lines = [f"rollback plan for {stack}: what runs now, before this apply"]
    for service, found in running.items():
        if found is None:
            lines.append(f"  {service}: no service yet: nothing to roll back to (this apply creates it)")
            continue
        images = ", ".join(str(image) for image in found.images) or "no image named"
        rollout = f" (its last rollout is {found.rollout})" if found.rollout else ""
        lines.append(f"  {service}: task definition {found.name}, image {images}{rollout}")
    lines.append("to return to it after this apply:")
    for found in now:
        lines += ["  " + line for line in _return_commands(found, cluster, region, planned)]
    lines.append(f"then make it stick, or the next deploy rolls forward again: in {environment.file} set")
    for found in now:
        lines.append(f"  {_setting(environment, found)}")
    lines.append(f"  and deploy {stack} again")
    return lines


def _return_commands(found: Running, cluster: str, region: str, planned: Planned) -> list[str]:
    where = ["--region", region] if region else []

    def update(task_definition: str) -> str:
        return shlex.join(
            ["aws", "ecs", "update-service", "--cluster", cluster, "--service", found.service]
            + ["--task-definition", task_definition, *where]
        )

    if found.status == "ACTIVE" and not planned.deregistered(found.task_definition, found.family):
        return [update(found.name)]
    why = (
        "is deregistered" if found.status != "ACTIVE" else "is deregistered by this apply, which replaces it"
    )
    copy = f"{found.family}-{found.revision}.json"
    describe = ["aws", "ecs", "describe-task-definition", "--task-definition", found.name, *where]
    register = ["aws", "ecs", "register-task-definition", "--cli-input-json", f"file://{copy}", *where]
    dropped = ", ".join(f".{name}" for name in output_only_fields())
    return [
        f"{found.service}: {found.name} {why}, and ECS points no service at a deregistered revision: "
        "register a copy of it, then point the service at the copy (the family's newest revision):",
        f"  {shlex.join([*describe, '--query', 'taskDefinition', '--output', 'json'])} "
        f"| jq {shlex.quote(f'del({dropped})')} > {shlex.quote(copy)}",
        f"  {shlex.join(register)}",
        f"  {update(found.family)}",
    ]


def _setting(environment: Environment, found: Running) -> str:
    """The environment file's key that names the image the service runs now."""
    service = found.service
    if len(found.images) != 1:
        count = len(found.images)
        return f"{service}: its task runs {count} images; set {service}.image_tag to the one of {service}"
    (image,) = found.images
    config = getattr(environment.config, service, None)
    if image.digest:
        tag = f" (and {service}.image_tag to that image's tag, {image.tag})" if image.tag else ""
        return f'{service}.image_digest = "{image.digest}"{tag}'
    if not image.tag:
        return f"{service}: its image {image} names no tag; set {service}.image_tag to that image's tag"
    unpinned = f" and remove {service}.image_digest" if getattr(config, "image_digest", None) else ""
    return f'{service}.image_tag = "{image.tag}"{unpinned}'


def say_rollback_plan(
    environment: Environment, ecs: Callable[[], Any], planned: Planned, say: Callable[[str], None]
) -> None:
    """Says the rollback plan of the stack about to be applied; a stack without ECS services has
    none. When ECS cannot be read, it says why and what permissions it needs: the deploy goes on."""
    target = rollout_target(environment)
    if target is None or planned.stack != environment.name:
        return
    try:
        running = read_running(ecs(), target.cluster, target.services)
    except (CannotRead, BotoCoreError) as error:  # BotoCoreError: no client (no region, ...)
        say(
            f"rollback plan for {planned.stack}: could not read what ECS runs now ({error}); the "
            f"deploy goes on without one. Reading it needs {PERMISSIONS}"
        )
        return
    for line in rollback_lines(environment, target.cluster, target.region, running, planned):
        say(line)
