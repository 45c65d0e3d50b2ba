"""Validate every service an environment defines, concurrently, within one deadline."""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import partial

from tenacity import Retrying, retry_if_exception, stop_before_delay, wait_exponential_jitter

from infrakit.bootstrap.checks import (
    CheckFailed,
    check_neo4j,
    check_postgres,
    check_qdrant,
    check_redis,
    check_supabase,
)
from infrakit.bootstrap.endpoints import Endpoints
from infrakit.bootstrap.redaction import redact, userinfo_problem
from infrakit.config import Environment

SERVICES = ("postgres", "redis", "qdrant", "supabase", "neo4j")
SIGNAL_CHECK_SECONDS = 0.1
Check = Callable[[], str]


@dataclass(frozen=True)
class CheckResult:
    service: str
    ok: bool
    detail: str
    seconds: float
    attempts: int
    skipped: bool = False


@dataclass(frozen=True)
class Skipped:
    """A check that cannot run from here and is not a failure: why, and how to run it elsewhere."""

    reason: str


@dataclass(frozen=True)
class Timing:
    attempt_timeout: float = 5.0  # each connection attempt
    deadline: float = 30.0  # the whole validation, retries included


Planned = Check | str | Skipped


def planned_checks(
    environment: Environment, endpoints: Endpoints, timeout: float, only: Iterable[str] = ()
) -> dict[str, Planned]:
    """service -> check, or -> why it cannot run (a failure), or -> Skipped. Services the
    environment lacks are absent."""
    config = environment.config
    plan: dict[str, Planned] = {}
    if endpoints.database_url:
        plan["postgres"] = partial(
            check_postgres,
            endpoints.database_url,
            require_tls=config.database.backend != "docker",
            timeout=timeout,
        )
    if endpoints.redis_url and _only_inside_the_vpc(environment, endpoints, only):
        plan["redis"] = Skipped(
            "reachable only inside the VPC (ElastiCache has no public endpoint); check it from a host "
            f"in the VPC with `infrakit validate --env {environment.name} --service redis`"
        )
    elif endpoints.redis_url:
        plan["redis"] = partial(
            check_redis, endpoints.redis_url, require_tls=config.cache.backend != "docker", timeout=timeout
        )
    if endpoints.qdrant_url and (problem := _qdrant_url_problem(endpoints.qdrant_url)):
        plan["qdrant"] = problem
    elif endpoints.qdrant_url:
        collections = config.vector_store.collections or []
        plan["qdrant"] = partial(
            check_qdrant,
            endpoints.qdrant_url,
            endpoints.qdrant_api_key,
            collections,
            timeout=timeout,
            environment=environment.name,
        )
    defined = defined_services(environment)
    if "supabase" in defined:
        url, key = endpoints.supabase_url, endpoints.supabase_secret_key
        if url and key:
            plan["supabase"] = partial(check_supabase, url, key, timeout=timeout)
    if "neo4j" in defined and endpoints.neo4j_uri and endpoints.neo4j_password:
        plan["neo4j"] = partial(
            check_neo4j,
            endpoints.neo4j_uri,
            endpoints.neo4j_username or "neo4j",
            endpoints.neo4j_password,
            timeout=timeout,
        )
    wanted = set(only) or set(defined)
    return {
        service: plan.get(service) or _missing_endpoint(service) for service in defined if service in wanted
    }


def defined_services(environment: Environment) -> list[str]:
    """The services `validate` checks for this environment, in the order it reports them."""
    defined = ["postgres", "redis", "qdrant"]
    if environment.config.database.backend == "supabase":
        defined.append("supabase")
    if environment.config.graph is not None:
        defined.append("neo4j")
    return defined


def _qdrant_url_problem(url: str) -> str | None:
    """Why no request could ever succeed at `url`; the message never quotes it."""
    variable = "QDRANT_URL (or the `qdrant_url` stack output)"
    if problem := userinfo_problem(url, variable):
        return problem
    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme.lower() not in ("http", "https"):
        found = f"the scheme {scheme}://" if re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) else "no scheme"
        return f"{variable} has {found}, which is not supported: use http:// or https:// (e.g. http://127.0.0.1:6333)"
    return None


def _only_inside_the_vpc(environment: Environment, endpoints: Endpoints, only: Iterable[str]) -> bool:
    """ElastiCache, found from the stack's own output, and not asked for by name. Asked for with
    --service redis, or given as REDIS_URL (a tunnel, a host in the VPC), it is checked."""
    return (
        environment.config.cache.backend == "elasticache"
        and endpoints.sources.get("redis_url") == "stack output"
        and "redis" not in set(only)
    )


def _missing_endpoint(service: str) -> str:
    names = {
        "postgres": "DATABASE_URL",
        "redis": "REDIS_URL",
        "qdrant": "QDRANT_URL",
        # The legacy service-role key is no longer read: Supabase retires it.
        "supabase": "SUPABASE_URL and SUPABASE_SECRET_KEY (the secret key, sb_secret_...)",
        "neo4j": "NEO4J_URI, NEO4J_USERNAME and NEO4J_PASSWORD",
    }
    return f"no endpoint: deploy the stack, or set {names[service]}"


@dataclass
class _Progress:
    """What a check has done so far; read when the deadline cuts it short."""

    attempts: int = 0
    last_error: str | None = None


# (service, attempt number that failed, why, seconds until the next attempt); the reason is redacted.
RetryReport = Callable[[str, int, str, float], None]


def run_checks(
    plan: Mapping[str, Planned],
    timing: Timing,
    secrets: list[str],
    on_retry: RetryReport = lambda *_: None,
) -> list[CheckResult]:
    """Run every check at once. Each retries with exponential backoff and jitter until it passes,
    fails for good, or the shared deadline passes; the run never outlasts the deadline. A failure
    that waiting cannot fix (CheckFailed with retryable=False) ends its check at once; each retry
    is reported to `on_retry`, from the check's own thread.

    A KeyboardInterrupt (or SystemExit) raised inside a check is raised here, in the caller's
    thread, so that it is handled once, like a Ctrl-C.
    """
    deadline = time.monotonic() + timing.deadline
    results: dict[str, CheckResult] = {
        service: CheckResult(service, False, check, 0.0, 0)
        for service, check in plan.items()
        if isinstance(check, str)
    }
    results |= {
        service: CheckResult(service, True, f"skipped: {check.reason}", 0.0, 0, skipped=True)
        for service, check in plan.items()
        if isinstance(check, Skipped)
    }
    runnable = {service: check for service, check in plan.items() if not isinstance(check, (str, Skipped))}
    progress = {service: _Progress() for service in runnable}
    finished: queue.SimpleQueue[tuple[str, CheckResult | BaseException]] = queue.SimpleQueue()
    stop_retrying_at = deadline - timing.attempt_timeout
    for service, check in runnable.items():
        work = partial(_attempts, service, check, stop_retrying_at, progress[service], secrets, on_retry)
        _start_in_background(service, work, finished)
    waiting = set(runnable)
    while waiting and (remaining := deadline - time.monotonic()) > 0:
        try:
            # In slices: the kernel may hand Ctrl-C's signal to a check thread, and then nothing
            # wakes this wait; Python raises KeyboardInterrupt here only when the wait returns.
            service, outcome = finished.get(timeout=min(remaining, SIGNAL_CHECK_SECONDS))
        except queue.Empty:
            continue
        if isinstance(outcome, BaseException):
            raise outcome
        results[service] = outcome
        waiting.discard(service)
    for service in waiting:
        state = progress[service]
        reason = state.last_error or "no answer"
        detail = f"{reason} (still failing at the {timing.deadline:g} s deadline, {state.attempts} attempts)"
        results[service] = CheckResult(
            service, False, redact(detail, secrets), timing.deadline, state.attempts
        )
    return [results[service] for service in SERVICES if service in results]


def _start_in_background(
    service: str,
    work: Callable[[], CheckResult],
    finished: queue.SimpleQueue[tuple[str, CheckResult | BaseException]],
) -> None:
    """Run `work` in a daemon thread and put its result, or what it raised, on `finished`.

    Daemon, because an attempt still hanging at the deadline or at Ctrl-C must not hold the process
    open until its own timeout: the command has its answer, and a check only reads.
    """

    def run() -> None:
        try:
            finished.put((service, work()))
        except BaseException as error:  # KeyboardInterrupt too: for the caller, never a thread traceback
            finished.put((service, error))

    threading.Thread(target=run, name=f"check-{service}", daemon=True).start()


def _attempts(
    service: str,
    check: Check,
    stop_at: float,
    state: _Progress,
    secrets: list[str],
    on_retry: RetryReport,
) -> CheckResult:
    started = time.monotonic()

    def attempt() -> str:
        state.attempts += 1
        try:
            return check()
        except CheckFailed as error:
            state.last_error = str(error)
            raise

    retrying = Retrying(
        retry=retry_if_exception(lambda e: isinstance(e, CheckFailed) and e.retryable),
        wait=wait_exponential_jitter(multiplier=0.2, max=2.0, jitter=0.3),
        # Stop retrying one attempt-timeout before the deadline, so the last answer arrives in time.
        stop=stop_before_delay(max(0.0, stop_at - time.monotonic())),
        before_sleep=lambda retry: on_retry(
            service,
            retry.attempt_number,
            redact(state.last_error or "no answer", secrets),
            retry.upcoming_sleep,
        ),
        reraise=True,
    )
    try:
        detail, ok = retrying(attempt), True
    except CheckFailed as error:
        detail, ok = str(error), False
    except Exception as error:  # a client library's own failure: report it, never a traceback
        detail, ok = f"{type(error).__name__}: {error}", False
    if not ok and state.attempts > 1:
        detail = f"{detail} (after {state.attempts} attempts)"
    return CheckResult(
        service, ok, redact(detail, secrets), round(time.monotonic() - started, 3), state.attempts
    )


def to_json(environment: str, results: list[CheckResult]) -> str:
    return json.dumps(
        {
            "environment": environment,
            "ok": bool(results) and all(r.ok for r in results),  # no check run proves nothing
            "checks": [asdict(r) for r in results],
        },
        indent=2,
    )
