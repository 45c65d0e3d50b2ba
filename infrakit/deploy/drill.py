"""`infrakit drill`: release a revision that is sure to fail, and watch ECS roll it back.

The drill registers the service's current task definition again with one change, a container
health check that always fails (`exit 1`), and points the service at it (UpdateService). Its tasks
start, fail their health check and are replaced until the deployment circuit breaker fails the
deployment and ECS returns the service to the revision it ran before (or a deployment alarm does
first). The drill reports how long that took and which of the service's deployment alarms went to
ALARM meanwhile (CloudWatch alarm history), then deregisters its revision.

If ECS has not rolled back within the bound, or on Ctrl-C, the drill puts the service back on its
original revision itself. It never prints a task definition: those carry environment values and
the ARNs of secrets, which are nobody's business in a terminal or a CI log.

Clients are boto3 clients passed in; the clock, the sleep and the wall clock are too, so tests
need no time.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infrakit.deploy.rollout import Timing

EXIT_ROLLED_BACK = 0
EXIT_FAILED = 1  # no rollback within the bound (the drill restored the service), or AWS refused
EXIT_USAGE = 2
EXIT_NOT_READY = 3

DEFAULT_TIMEOUT = 1200.0  # the circuit breaker needs several failed tasks, each a minute or two
DEFAULT_TIMING = Timing(timeout=DEFAULT_TIMEOUT, interval=5.0, heartbeat=15.0)
FAILING_HEALTH_CHECK = ["CMD-SHELL", "exit 1"]
PROD_NAMES = frozenset({"prod", "production"})
AWS_ERRORS = (ClientError, BotoCoreError)


@dataclass(frozen=True)
class DrillTarget:
    cluster: str
    service: str
    region: str


# ----------------------------------------------------------------------------- before anything


def refusal(
    environment: str,
    services: Sequence[str],
    service: str,
    *,
    allow_prod: bool,
    confirm: str | None,
) -> str | None:
    """Why the command line may not drill this (exit 2), or None."""
    if not services:
        return (
            f"environment '{environment}' runs no service on ECS: the drill is for cloud environments "
            "(staging, prod)"
        )
    if service not in services:
        return f"--service {service}: environment '{environment}' runs {', '.join(services)} on ECS"
    if confirm is not None and confirm != environment:
        return (
            f"--confirm {confirm} does not name the environment being drilled; it is --confirm {environment}"
        )
    if environment in PROD_NAMES:
        missing = [
            flag
            for flag, given in (("--allow-prod", allow_prod), (f"--confirm {environment}", confirm))
            if not given
        ]
        if missing:
            return (
                f"refusing to drill {environment} without being asked twice: the drill releases a revision "
                f"of {service} that fails its health checks, and ECS replaces tasks for minutes until it "
                f"rolls back. To drill {environment} anyway, add {' and '.join(missing)}"
            )
    return None


def unhealthy_copy(described: Mapping[str, Any], parameters: Sequence[str]) -> dict[str, Any]:
    """RegisterTaskDefinition's parameters for the described task definition with one change: every
    essential container's health check runs `exit 1` (its interval, retries and start period
    kept). `parameters` are the operation's input members: all that DescribeTaskDefinition returns
    that registration takes is copied, the rest (ARN, revision, status, ...) is ECS's to set."""
    definition = described["taskDefinition"]
    registered = {key: copy.deepcopy(value) for key, value in definition.items() if key in parameters}
    if described.get("tags") and "tags" in parameters:
        registered["tags"] = copy.deepcopy(described["tags"])
    for container in registered.get("containerDefinitions") or ():
        if container.get("essential", True):
            container["healthCheck"] = {
                **(container.get("healthCheck") or {}),
                "command": FAILING_HEALTH_CHECK,
            }
    return registered


def _not_ready(target: DrillTarget, answer: Mapping[str, Any]) -> str | None:
    """Why this service cannot be drilled now (exit 3), or None."""
    name, cluster = target.service, target.cluster
    found = [s for s in answer.get("services") or () if s.get("status") == "ACTIVE"]
    if not found:
        return (
            f"{name}: ECS has no active service {name} in cluster {cluster} (region {target.region}): "
            "deploy the environment first"
        )
    service = found[0]
    breaker = (service.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker") or {}
    if not (breaker.get("enable") and breaker.get("rollback")):
        return (
            f"{name}: the service has no deployment circuit breaker with rollback, so nothing would roll "
            "the drill's revision back; deploy the environment with this infrakit (its services have one), "
            "then drill"
        )
    primary = _primary(service)
    state = primary.get("rolloutState") if primary else None
    if primary is None or state != "COMPLETED":
        running = (
            f", {primary.get('runningCount', 0)}/{primary.get('desiredCount', 0)} running" if primary else ""
        )
        wait = f"aws ecs wait services-stable --cluster {cluster} --services {name} --region {target.region}"
        return (
            f"{name}: a release is in progress (its PRIMARY deployment is {state or 'missing'}{running}); "
            f"drill once it has completed (`{wait}` waits for it)"
        )
    if not int(service.get("desiredCount") or 0):
        return f"{name}: the service runs no task (desired count 0): no drill task would start and fail"
    return None


# ----------------------------------------------------------------------------- the drill


@dataclass
class _Watched:
    """What the last look at the service found."""

    primary: str = ""  # the PRIMARY deployment's task definition
    state: str = ""
    running: int = 0
    desired: int = 0
    failed_tasks: int = 0  # of the drill's deployment
    stale: bool = False  # ECS still showed the deployment from before the release
    gave_up_after: float | None = None  # ECS failed the drill's deployment
    reason: str = ""  # ECS's, for failing it


def run_drill(
    target: DrillTarget,
    *,
    ecs: Any,
    cloudwatch: Any,
    say: Callable[[str], None],
    note: Callable[[str], None] = lambda _: None,
    timing: Timing = DEFAULT_TIMING,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    wall: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """The exit status (EXIT_*). `note` is told, before each step that changes something, what a
    Ctrl-C would leave; on Ctrl-C the drill restores the service, deregisters its revision and raises
    KeyboardInterrupt with `left_behind` saying so."""
    drill = _Drill(target, ecs, cloudwatch, say, note, timing, clock, sleep, wall)
    try:
        return drill.run()
    except KeyboardInterrupt as interrupt:
        interrupt.left_behind = drill.interrupted()  # type: ignore[attr-defined]
        raise
    except Exception:
        drill.clean_up()  # whatever went wrong, the service goes back and the revision goes
        raise


class _Drill:
    def __init__(
        self,
        target: DrillTarget,
        ecs: Any,
        cloudwatch: Any,
        say: Callable[[str], None],
        note: Callable[[str], None],
        timing: Timing,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        wall: Callable[[], datetime],
    ):
        self.target, self.ecs, self.cloudwatch = target, ecs, cloudwatch
        self.say, self._tell, self.timing = say, note, timing
        self.clock, self.sleep, self.wall = clock, sleep, wall
        self.original = ""  # the task definition the service ran before the drill
        self.before = ""  # the id of its deployment then: ECS's rollback is a new one
        self.drill = ""  # the drill's revision, once registered
        self.released = False  # UpdateService to the drill's revision was (maybe) sent
        self.watched = _Watched()
        self.restored: str | None = None  # the line saying how the service was put back
        self.deregistered: str | None = None
        self.left_behind = ""
        self._note(f"nothing was changed: {target.service} was not drilled")

    def _note(self, text: str) -> None:
        self.left_behind = text
        self._tell(text)

    # --------------------------------------------------------------------- the steps

    def run(self) -> int:
        t = self.target
        try:
            answer = self.ecs.describe_services(cluster=t.cluster, services=[t.service])
        except AWS_ERRORS as error:
            return self._cannot(f"read the service {t.service} in cluster {t.cluster}", error)
        if problem := _not_ready(t, answer):
            self.say(problem)
            return EXIT_NOT_READY
        service = answer["services"][0]
        primary = _primary(service) or {}
        self.original, self.before = str(primary["taskDefinition"]), str(primary.get("id") or "")
        alarms = list(
            ((service.get("deploymentConfiguration") or {}).get("alarms") or {}).get("alarmNames") or []
        )
        family = _revision(self.original).rsplit(":", 1)[0]
        try:
            described = self.ecs.describe_task_definition(taskDefinition=self.original, include=["TAGS"])
            parameters = self.ecs.meta.service_model.operation_model(
                "RegisterTaskDefinition"
            ).input_shape.members
            self._note(
                f"{t.service} was not changed; the drill may have registered a revision of {family}: if "
                f"the newest (aws ecs list-task-definitions --family-prefix {family} --sort DESC "
                f"--max-items 1 --region {t.region}) is newer than {_revision(self.original)}, deregister it"
            )
            self.drill = str(
                self.ecs.register_task_definition(**unhealthy_copy(described, list(parameters)))[
                    "taskDefinition"
                ]["taskDefinitionArn"]
            )
        except AWS_ERRORS as error:
            return self._cannot(f"register the drill's revision of {_revision(self.original)}", error)
        return self._release_and_watch(alarms)

    def _release_and_watch(self, alarms: list[str]) -> int:
        t, timing = self.target, self.timing
        self._note(
            f"{t.service} was not changed; the drill's revision {_revision(self.drill)} is still registered "
            f"({self._deregister_command()})"
        )
        original = _revision(self.original)
        self.say(
            f"drill: releasing {_revision(self.drill)} to {t.service} in cluster {t.cluster}: {original} "
            "again, with a container health check that always fails. ECS should roll it back by itself "
            f"(circuit breaker; deployment alarms: {', '.join(alarms) or 'none'}). Waiting up to "
            f"{_minutes(timing.timeout)} (--timeout); Ctrl-C puts {original} back"
        )
        self._note(self._maybe_on_drill())
        window = self.wall()  # the alarm history is read from here
        self.released = True
        try:
            self.ecs.update_service(cluster=t.cluster, service=t.service, taskDefinition=self.drill)
        except AWS_ERRORS as error:
            self.released = False  # ECS refused it: the service never left its revision
            code = self._cannot(f"release the drill's revision to {t.service}", error)
            self._deregister()
            return code
        outcome, seconds = self._watch()
        self._conclude(outcome, seconds)
        self._deregister()
        self._report_alarms(alarms, window)
        return EXIT_ROLLED_BACK if outcome == "rolled back" else EXIT_FAILED

    def _conclude(self, outcome: str, seconds: float) -> None:
        t, w = self.target, self.watched
        original, drill = _revision(self.original), _revision(self.drill)
        if outcome == "rolled back":
            reason = f": {w.reason}" if w.reason else ""
            self.say(
                f"drill passed: ECS rolled {t.service} back to {original} in {_minutes(seconds)} (it gave up "
                f"on {drill} after {_minutes(w.gave_up_after or seconds)}{reason}); {t.service} runs "
                f"{w.running}/{w.desired} tasks of {original}, as before"
            )
        elif outcome == "timeout" and self._rolling_back():  # a restore would add nothing
            self.say(
                f"drill failed: ECS began rolling {t.service} back to {original} but had not finished within "
                f"{_minutes(self.timing.timeout)} (--timeout), {w.running}/{w.desired} running; "
                f"{self._wait_command()} waits for it"
            )
        elif outcome == "timeout":
            self._restore(f"ECS had not rolled it back within {_minutes(self.timing.timeout)} (--timeout)")
        elif outcome == "completed":
            self._restore(
                f"ECS completed the deployment of {drill}: its tasks were not judged unhealthy, so nothing "
                "rolled back and the drill proves nothing"
            )
        elif outcome == "replaced":
            self.say(
                f"drill stopped: a release of {_revision(w.primary)} replaced the drill's revision on "
                f"{t.service} (someone deployed); it is left as it is"
            )

    def _rolling_back(self) -> bool:
        """ECS's rollback deployment is the PRIMARY one (not the deployment from before the drill)."""
        return self.watched.primary == self.original and not self.watched.stale

    def _watch(self) -> tuple[str, float]:
        """'rolled back', 'timeout', 'completed' (the drill's revision passed as healthy),
        'replaced' (another release), 'unreadable'; and the seconds since the release."""
        t, timing = self.target, self.timing
        started = self.clock()
        last_line, last_said = "", started - timing.heartbeat
        while True:
            try:
                answer = self.ecs.describe_services(cluster=t.cluster, services=[t.service])
            except AWS_ERRORS as error:
                self.say(f"could not read {t.service} from AWS ({error})")
                self._restore("the drill could not watch it")
                return "unreadable", self.clock() - started
            elapsed = self.clock() - started
            outcome = self._look(answer, elapsed)
            line = self._progress()
            if line != last_line or self.clock() - last_said >= timing.heartbeat:
                self.say(f"{_minutes(elapsed)}: {line}")
                last_line, last_said = line, self.clock()
            if outcome:
                return outcome, elapsed
            if elapsed >= timing.timeout:
                return "timeout", elapsed
            self.sleep(min(timing.interval, max(timing.timeout - elapsed, 0.0)))

    def _look(self, answer: Mapping[str, Any], elapsed: float) -> str | None:
        services = answer.get("services") or []
        if not services:
            return None  # a failure to describe it: look again
        deployments = services[0].get("deployments") or []
        primary = _primary(services[0]) or {}
        w = self.watched
        w.primary = str(primary.get("taskDefinition") or "")
        w.state = str(primary.get("rolloutState") or "IN_PROGRESS")
        w.running, w.desired = int(primary.get("runningCount") or 0), int(primary.get("desiredCount") or 0)
        w.stale = bool(self.before) and primary.get("id") == self.before
        if w.stale:
            return None  # ECS still shows the deployment from before the release: look again
        ours = next((d for d in deployments if d.get("taskDefinition") == self.drill), None)
        if ours is not None:
            w.failed_tasks = int(ours.get("failedTasks") or 0)
        failed = ours is not None and ours.get("rolloutState") == "FAILED"
        if (failed or w.primary == self.original) and w.gave_up_after is None:
            w.gave_up_after = elapsed
        if failed and not w.reason:
            w.reason = str(ours.get("rolloutStateReason") or "")  # type: ignore[union-attr]
        if w.primary == self.original and not w.reason:
            w.reason = str(primary.get("rolloutStateReason") or "")
        done = w.state == "COMPLETED" and w.running == w.desired
        if w.primary == self.drill:
            return "completed" if done else None
        if w.primary == self.original:
            return "rolled back" if done else None
        return "replaced" if w.primary else None

    def _progress(self) -> str:
        w = self.watched
        if w.stale:
            return (
                f"{self.target.service}: waiting for ECS to start the deployment of {_revision(self.drill)}"
            )
        if w.primary == self.original:
            return (
                f"{self.target.service}: rolling back to {_revision(self.original)}, rollout {w.state}, "
                f"{w.running}/{w.desired} running"
            )
        failed = f"{w.failed_tasks} task{'s' if w.failed_tasks != 1 else ''} failed"
        return (
            f"{self.target.service}: {_revision(self.drill)} rollout {w.state}, "
            f"{w.running}/{w.desired} running, {failed}"
        )

    # --------------------------------------------------------------------- cleaning up

    def _restore(self, why: str) -> None:
        """Puts the service back on its original revision, and says so in one line."""
        t = self.target
        self._note(f"cut short while putting {t.service} back: {self._maybe_on_drill()}")
        try:
            self.ecs.update_service(cluster=t.cluster, service=t.service, taskDefinition=self.original)
        except AWS_ERRORS as error:
            self.restored = (
                f"infrakit could not put {t.service} back on {_revision(self.original)} ({error}); do it "
                f"now: {self._restore_command()}"
            )
        else:
            self.restored = (
                f"infrakit put {t.service} back on {_revision(self.original)} itself (UpdateService): {why}; "
                f"ECS now rolls it out ({self._wait_command()} waits for it)"
            )
        self.released = False
        self.say(self.restored)

    def _deregister(self) -> None:
        if not self.drill or self.deregistered is not None:
            return
        try:
            self.ecs.deregister_task_definition(taskDefinition=self.drill)
        except AWS_ERRORS as error:
            self.deregistered = (
                f"could not deregister the drill's revision {_revision(self.drill)} ({error}); do it now: "
                f"{self._deregister_command()}"
            )
        else:
            self.deregistered = f"deregistered the drill's revision {_revision(self.drill)}"
        self.say(self.deregistered)

    def interrupted(self) -> str:
        """On Ctrl-C: puts things back without a line of its own, and returns what the one line
        about the interruption says was done and left."""
        t = self.target
        self.say = lambda _: None
        if not self.drill:
            return self.left_behind  # what the last note said
        if self.released and not self._rolling_back():
            self._restore("interrupted (Ctrl-C)")
        if self.deregistered is None:
            self._note(
                f"{t.service} was put back or never left {_revision(self.original)}; the drill's revision "
                f"{_revision(self.drill)} is still registered ({self._deregister_command()})"
            )
        self._deregister()
        if self.restored and not self.restored.startswith("infrakit put"):
            put_back = self.restored  # the restore failed: the command to run
        elif self.restored:
            put_back = f"infrakit put {t.service} back on {_revision(self.original)} (ECS now rolls it out)"
        elif self.released:
            put_back = (
                f"ECS is rolling {t.service} back to {_revision(self.original)} by itself "
                f"({self._wait_command()} waits for it)"
            )
        else:
            put_back = f"{t.service} was not changed"
        return f"{put_back}; {self.deregistered}"

    def clean_up(self) -> None:
        """After an unexpected error: the service back on its revision, the drill's deregistered."""
        if self.released and not self._rolling_back():
            self._restore("the drill stopped on an error")
        self._deregister()

    def _cannot(self, what: str, error: Exception) -> int:
        self.say(f"could not {what} ({error}); {self.target.service} was not drilled")
        return EXIT_FAILED

    # --------------------------------------------------------------------- the alarms

    def _report_alarms(self, alarms: list[str], since: datetime) -> None:
        if not alarms:
            self.say(f"alarms: {self.target.service} has no deployment alarms")
            return
        until = self.wall()
        fired: list[tuple[datetime, str]] = []
        try:
            for name in alarms:
                fired += [(when, name) for when in _went_to_alarm(self.cloudwatch, name, since, until)]
        except AWS_ERRORS as error:
            self.say(f"alarms: could not read their history ({error}); watched: {', '.join(alarms)}")
            return
        if not fired:
            self.say(f"alarms: none of {', '.join(alarms)} went to ALARM during the drill")
            return
        fired.sort()
        self.say(
            "alarms that went to ALARM during the drill: "
            + ", ".join(
                f"{name} at {when.astimezone(UTC):%H:%M:%S} UTC (+{_minutes((when - since).total_seconds())})"
                for when, name in fired
            )
        )

    # --------------------------------------------------------------------- what is said

    def _maybe_on_drill(self) -> str:
        return (
            f"{self.target.service} may still run the drill's revision {_revision(self.drill)}, which ECS's "
            f"circuit breaker rolls back by itself; to put it back at once: {self._restore_command()}; then "
            f"{self._deregister_command()}"
        )

    def _restore_command(self) -> str:
        t = self.target
        return (
            f"aws ecs update-service --cluster {t.cluster} --service {t.service} --task-definition "
            f"{_revision(self.original)} --region {t.region}"
        )

    def _deregister_command(self) -> str:
        return (
            f"aws ecs deregister-task-definition --task-definition {_revision(self.drill)} "
            f"--region {self.target.region}"
        )

    def _wait_command(self) -> str:
        t = self.target
        return (
            f"`aws ecs wait services-stable --cluster {t.cluster} --services {t.service} --region {t.region}`"
        )


def _went_to_alarm(cloudwatch: Any, name: str, since: datetime, until: datetime) -> list[datetime]:
    """When the alarm went to ALARM between `since` and `until` (CloudWatch alarm history)."""
    pages = cloudwatch.get_paginator("describe_alarm_history").paginate(
        AlarmName=name, HistoryItemType="StateUpdate", StartDate=since, EndDate=until
    )
    found = []
    for page in pages:
        for item in page.get("AlarmHistoryItems") or ():
            if _new_state(item) == "ALARM":
                found.append(item["Timestamp"])
    return found


def _new_state(item: Mapping[str, Any]) -> str:
    try:
        return str(json.loads(item.get("HistoryData") or "{}")["newState"]["stateValue"])
    except (ValueError, KeyError, TypeError):
        summary = str(item.get("HistorySummary") or "")  # "Alarm updated from OK to ALARM"
        return summary.rsplit(" to ", 1)[-1] if " to " in summary else ""


def _primary(service: Mapping[str, Any]) -> dict[str, Any] | None:
    return next((d for d in service.get("deployments") or () if d.get("status") == "PRIMARY"), None)


def _revision(task_definition: str) -> str:
    return task_definition.rsplit("/", 1)[-1]


def _minutes(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}m{whole % 60:02d}s"
