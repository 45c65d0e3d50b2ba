"""After `cdktf deploy ENV`: wait until ECS has rolled the services out and the api's targets are
healthy, or stop and say why.

Terraform returns once ECS has accepted the new task definitions; the tasks start minutes later,
or never. So the wait polls ECS (DescribeServices) and the load balancer (DescribeTargetHealth),
shows progress, and ends when every service's PRIMARY deployment is COMPLETED with all its tasks
running and every api target is healthy. A FAILED rollout, a circuit-breaker or alarm rollback, or
the bound passing stops it with the service, ECS's reason for the stopped tasks, and what to do.

Clients are boto3 clients passed in; the clock and the sleep are too, so tests need no time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infrakit.deploy.stopped_tasks import ServiceFacts, StoppedTask, fix_for, read_stopped_tasks

DEFAULT_TIMEOUT = 900.0  # a first rollout pulls images and passes health checks: minutes
DEFAULT_INTERVAL = 5.0  # with HEARTBEAT, a line at least every 15 s
HEARTBEAT = 15.0  # a progress line at least this often, even when nothing changed
AFTER = (
    "the deploy itself is done (Terraform applied it), but the services did not come up: fix the "
    "cause, then deploy again"
)


class RolloutFailed(Exception):
    """The services did not come up; `lines` say which, why, and what to do."""

    def __init__(self, lines: Sequence[str]):
        super().__init__("\n".join(lines))
        self.lines = list(lines)


@dataclass(frozen=True)
class RolloutTarget:
    """What the wait watches: names as the stacks create them (infrakit/constructs/aws)."""

    cluster: str
    services: tuple[str, ...]  # ECS service names: api, worker
    log_groups: Mapping[str, str]  # service -> its CloudWatch log group
    region: str
    facts: Mapping[str, ServiceFacts] = field(default_factory=dict)  # what each fix names
    # The api's target groups by name, when it has more than one (blue/green or canary): after each
    # release its tasks are in the other group. Read by name because botocore 1.35 (which checkov
    # 3.3.30 pins) drops DescribeServices' advancedConfiguration, where ECS names the second group.
    target_group_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Timing:
    timeout: float = DEFAULT_TIMEOUT
    interval: float = DEFAULT_INTERVAL
    heartbeat: float = HEARTBEAT


DEFAULT_TIMING = Timing()


@dataclass
class _Service:
    name: str
    expected: str | None = None  # the task definition this deploy rolls out
    state: str = "not yet read"
    running: int = 0
    desired: int = 0
    done: bool = False
    # Every target group the service's tasks may be in: a blue/green service has two, and after
    # each release its tasks are in the other one.
    target_groups: tuple[str, ...] = ()


def wait_for_rollout(
    target: RolloutTarget,
    *,
    ecs: Any,
    elbv2: Any,
    say: Callable[[str], None],
    timing: Timing = DEFAULT_TIMING,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Returns the seconds the rollout took; raises RolloutFailed."""
    started = clock()
    services = {name: _Service(name) for name in target.services}
    named_groups: list[str] = []  # ARNs of target.target_group_names, read once
    last_line, last_said = "", started - timing.heartbeat
    while True:
        try:
            _read_services(target, services, ecs)
            if target.target_group_names and not named_groups:
                named_groups = _target_group_arns(elbv2, target.target_group_names)
            targets = _read_targets(services, elbv2, named_groups)
        except (ClientError, BotoCoreError) as error:
            raise RolloutFailed([_cannot_read(error)]) from None
        except _Failed as failed:
            raise RolloutFailed(_failure_lines(target, failed, ecs)) from None
        elapsed = clock() - started
        line = _progress(services, targets)
        if line != last_line or clock() - last_said >= timing.heartbeat:
            say(f"{_minutes(elapsed)}: {line}")
            last_line, last_said = line, clock()
        if all(s.done for s in services.values()) and (targets is None or targets.healthy):
            return elapsed
        if elapsed >= timing.timeout:
            raise RolloutFailed(_timeout_lines(target, services, targets, timing.timeout, ecs))
        sleep(min(timing.interval, max(timing.timeout - elapsed, 0.0)))


# ----------------------------------------------------------------------------- reading ECS


class _Failed(Exception):
    def __init__(self, service: str, what: str, task_definition: str | None):
        super().__init__(what)
        self.service, self.what, self.task_definition = service, what, task_definition


def _read_services(target: RolloutTarget, services: dict[str, _Service], ecs: Any) -> None:
    answer = ecs.describe_services(cluster=target.cluster, services=list(services))
    for failure in answer.get("failures") or ():
        name = str(failure.get("arn", "")).rsplit("/", 1)[-1]
        raise _Failed(
            name or "?",
            f"ECS has no service {name} in cluster {target.cluster} ({failure.get('reason')}); "
            "was the environment deployed with this config?",
            None,
        )
    for described in answer.get("services") or ():
        service = services[described["serviceName"]]
        deployments = described.get("deployments") or []
        primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
        if primary is None:
            continue
        if service.expected is None:
            service.expected = _latest_revision(ecs, primary["taskDefinition"])
        for deployment in deployments:
            # A failed deployment of an older revision, still draining, is an earlier deploy's.
            ours = deployment is primary or deployment.get("taskDefinition") == service.expected
            if ours and deployment.get("rolloutState") == "FAILED":
                raise _Failed(
                    service.name,
                    f"the deployment failed: {deployment.get('rolloutStateReason') or 'rolloutState FAILED'}",
                    deployment.get("taskDefinition"),
                )
        if primary["taskDefinition"] != service.expected:
            # The circuit breaker or a deployment alarm put the previous revision back.
            raise _Failed(
                service.name,
                f"the deployment was rolled back to {_revision(primary['taskDefinition'])} "
                f"(this deploy's is {_revision(service.expected)})"
                + (f": {primary['rolloutStateReason']}" if primary.get("rolloutStateReason") else ""),
                service.expected,
            )
        service.state = str(primary.get("rolloutState") or "IN_PROGRESS")
        service.running = int(primary.get("runningCount", 0))
        service.desired = int(primary.get("desiredCount", 0))
        service.done = service.state == "COMPLETED" and service.running == service.desired
        groups: list[str] = []
        for balancer in described.get("loadBalancers") or ():
            alternate = (balancer.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")
            groups += [arn for arn in (balancer.get("targetGroupArn"), alternate) if arn]
        service.target_groups = tuple(groups)


def _latest_revision(ecs: Any, task_definition: str) -> str:
    """The newest ACTIVE revision of the family: the one Terraform registered for this deploy.
    A PRIMARY deployment on another revision was rolled back."""
    family = task_definition.rsplit("/", 1)[-1].rsplit(":", 1)[0]
    described = ecs.describe_task_definition(taskDefinition=family)
    return str(described["taskDefinition"]["taskDefinitionArn"])


def _revision(task_definition: str) -> str:
    return task_definition.rsplit("/", 1)[-1]


# ----------------------------------------------------------------------------- the api's targets


@dataclass(frozen=True)
class _Targets:
    service: str
    states: tuple[tuple[str, str], ...]  # (state, reason and description), one per target

    @property
    def healthy(self) -> bool:
        serving = [state for state, _ in self.states if state != "draining"]
        return bool(serving) and all(state == "healthy" for state in serving)

    def summary(self) -> str:
        if not self.states:
            return f"{self.service} targets: none registered yet"
        counts: dict[str, int] = {}
        for state, _ in self.states:
            counts[state] = counts.get(state, 0) + 1
        text = ", ".join(f"{n} {state}" for state, n in counts.items())
        reasons = sorted({why for state, why in self.states if state not in ("healthy", "draining") and why})
        return f"{self.service} targets: {text}" + (f" ({'; '.join(reasons)})" if reasons else "")


def _target_group_arns(elbv2: Any, names: Sequence[str]) -> list[str]:
    answer = elbv2.describe_target_groups(Names=list(names))
    return [str(group["TargetGroupArn"]) for group in answer.get("TargetGroups") or ()]


def _read_targets(
    services: dict[str, _Service], elbv2: Any, named_groups: Sequence[str] = ()
) -> _Targets | None:
    """The target health of the service behind the load balancer, once its tasks run."""
    behind = [s for s in services.values() if s.target_groups and s.desired > 0]  # none: no targets
    if not behind:
        return None
    service = behind[0]
    states = []
    # Both groups of a blue/green service: the old one's targets drain, which `healthy` leaves out.
    for group in dict.fromkeys([*service.target_groups, *named_groups]):
        answer = elbv2.describe_target_health(TargetGroupArn=group)
        for description in answer.get("TargetHealthDescriptions") or ():
            health = description.get("TargetHealth") or {}
            why = ": ".join(str(part) for part in (health.get("Reason"), health.get("Description")) if part)
            states.append((str(health.get("State", "unknown")), why))
    return _Targets(service.name, tuple(states))


# ----------------------------------------------------------------------------- what is said


def _progress(services: Mapping[str, _Service], targets: _Targets | None) -> str:
    parts = [f"{s.name} {s.running}/{s.desired} running, rollout {s.state}" for s in services.values()]
    if targets is not None:
        parts.append(targets.summary())
    return "; ".join(parts)


def _minutes(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}m{whole % 60:02d}s"


def _cannot_read(error: Exception) -> str:
    return (
        f"could not read the rollout from AWS ({error}); the deploy itself is done. Check the AWS "
        "credentials and that they may call ecs:DescribeServices, ecs:DescribeTaskDefinition, "
        "ecs:ListTasks, ecs:DescribeTasks and elasticloadbalancing:DescribeTargetHealth"
    )


def _failure_lines(target: RolloutTarget, failed: _Failed, ecs: Any) -> list[str]:
    lines = [f"{failed.service}: {failed.what}"]
    if "alarm" in failed.what.lower():
        lines.append(f"  fix: {_fix(target, failed.service, failed.what)}")
    lines += _why_tasks_stopped(target, failed.service, failed.task_definition, ecs)
    lines.append(AFTER)
    return lines


def _timeout_lines(
    target: RolloutTarget,
    services: Mapping[str, _Service],
    targets: _Targets | None,
    timeout: float,
    ecs: Any,
) -> list[str]:
    lines = []
    for service in services.values():
        if service.done:
            continue
        lines.append(
            f"{service.name}: not rolled out within {_minutes(timeout)} (the bound, --wait-timeout): "
            f"rollout {service.state}, {service.running}/{service.desired} running"
        )
        lines += _why_tasks_stopped(target, service.name, service.expected, ecs)
    if targets is not None and not targets.healthy:
        lines.append(
            f"{targets.service}: its load balancer targets are not healthy within {_minutes(timeout)} "
            f"(the bound, --wait-timeout): {targets.summary()}"
        )
        lines.append(f"  fix: {_fix(target, targets.service, 'Task failed ELB health checks')}")
        lines.append(_logs(target, targets.service))
    lines.append(AFTER)
    return lines


def _why_tasks_stopped(
    target: RolloutTarget, service: str, task_definition: str | None, ecs: Any
) -> list[str]:
    try:
        stopped = read_stopped_tasks(ecs, target.cluster, service, task_definition)
    except (ClientError, BotoCoreError) as error:
        return [f"  (could not read its stopped tasks: {error})", _logs(target, service)]
    if not stopped:
        return [
            f"  no stopped task of it to read a reason from; read the service's events: aws ecs "
            f"describe-services --cluster {target.cluster} --services {service} --region {target.region} "
            "--query 'services[0].events[:10]'",
            _logs(target, service),
        ]
    last: StoppedTask = stopped[0]
    count = len(stopped)
    lines = [
        f"  {count} task{'s' if count > 1 else ''} stopped; ECS's reason for the last: {last.reason}",
        f"  fix: {_fix(target, service, last.reason)}",
        _logs(target, service),
    ]
    return lines


def _fix(target: RolloutTarget, service: str, reason: str) -> str:
    return fix_for(reason, target.facts.get(service))


def _logs(target: RolloutTarget, service: str) -> str:
    group = target.log_groups.get(service, f"/infrakit/{service}")
    return f"  logs: log group {group} (aws logs tail {group} --since 1h --region {target.region})"
