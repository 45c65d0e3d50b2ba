"""The end of a deploy: the product answers, or the deploy says why not.

For a cloud environment, first the ECS rollout (infrakit/deploy/rollout.py); then, everywhere, one
request to the api's health path at the `api_url` stack output, reported with its status code and
latency. `local` needs no rollout wait: Docker's healthchecks already held the deploy until its
containers were healthy.

The request verifies TLS as any client would, against the system's CAs or SSL_CERT_FILE.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from infrakit.config import Environment
from infrakit.config.models import FargateApi
from infrakit.deploy.rollout import DEFAULT_TIMING, RolloutFailed, RolloutTarget, Timing, wait_for_rollout
from infrakit.deploy.stopped_tasks import ServiceFacts
from infrakit.stacks.names import image_services, repository_name

EXIT_FAILED = 1
ANSWER_TIMEOUT = 120.0  # a new DNS name (the api's domain) can take a minute or two to resolve
REQUEST_TIMEOUT = 10.0
SERVING = range(200, 400)  # what the load balancer's health check accepts (matcher 200-399)
_URL_PATH = re.compile(r"https?://[^/\s\"'|;]+(/[^\s\"'|;]*)?")


def cluster_name(environment: Environment) -> str:
    """As infrakit/stacks/platforms.py names the ECS cluster."""
    return f"{environment.config.project}-{environment.name}"


def rollout_target(environment: Environment) -> RolloutTarget | None:
    """The ECS services of the environment; None when nothing of it runs on ECS."""
    services = image_services(environment)
    if not services:
        return None
    prefix = cluster_name(environment)
    facts = {}
    for service in services:
        config = getattr(environment.config, service)
        image_key = f"{service}.image_digest" if config.image_digest else f"{service}.image_tag"
        facts[service] = ServiceFacts(
            file=str(environment.file),
            image_key=image_key,
            image=config.image_digest or config.image_tag,
            repository=repository_name(environment, service),
            execution_role=f"{prefix}-{service}-execution",
            health_path=config.load_balancer.health_check_path if isinstance(config, FargateApi) else None,
            port=config.port if isinstance(config, FargateApi) else None,
        )
    api = environment.config.api
    shifting = isinstance(api, FargateApi) and api.deployment.strategy != "rolling"
    return RolloutTarget(
        cluster=prefix,
        services=tuple(services),
        log_groups={service: f"/infrakit/{prefix}-{service}" for service in services},
        region=environment.config.aws.region if environment.config.aws else "",
        facts=facts,
        # As infrakit/constructs/aws/load_balancer.py names them.
        target_group_names=(f"{prefix}-api", f"{prefix}-api-alt") if shifting else (),
    )


def health_path(environment: Environment) -> str:
    """The load balancer's health check path; for an api in Docker, the path its own healthcheck
    requests, else `/`."""
    api = environment.config.api
    if isinstance(api, FargateApi):
        return api.load_balancer.health_check_path
    for word in api.healthcheck:
        if match := _URL_PATH.search(word):
            return match.group(1) or "/"
    return "/"


@dataclass(frozen=True)
class Answer:
    url: str
    status: int
    seconds: float

    def line(self) -> str:
        return f"api: GET {self.url} answered {self.status} in {self.seconds * 1000:.0f} ms"


def request_health(
    url: str,
    *,
    say: Callable[[str], None],
    bound: float = ANSWER_TIMEOUT,
    interval: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    client: httpx.Client | None = None,
) -> Answer:
    """GET `url` until it answers 200-399 or `bound` seconds pass; the last answer, or raises
    httpx.HTTPError from the last attempt."""
    started = clock()
    with client or httpx.Client(timeout=REQUEST_TIMEOUT, follow_redirects=False) as http:
        while True:
            began = time.perf_counter()
            try:
                status = http.get(url).status_code
                answer = Answer(url, status, time.perf_counter() - began)
                if status in SERVING or clock() - started >= bound:
                    return answer
                say(f"api: GET {url} answered {status}; asking again (for up to {bound:.0f} s)")
            except httpx.HTTPError as error:
                if clock() - started >= bound:
                    raise
                say(f"api: GET {url} failed ({_why(error)}); asking again (for up to {bound:.0f} s)")
            sleep(interval)


def _why(error: httpx.HTTPError) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) < 300 else text[:300] + "..."


def check_serving(
    environment: Environment,
    *,
    outputs: Callable[[], Mapping[str, Any]],
    clients: Callable[[], tuple[Any, Any]],
    say: Callable[[str], None],
    timing: Timing = DEFAULT_TIMING,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    http: httpx.Client | None = None,
) -> int:
    """0 once the product answers; else says why and returns 1. `outputs` reads the environment's
    stack outputs (name -> value); `clients` makes the (ECS, ELBv2) boto3 clients."""
    target = rollout_target(environment)
    if target is not None:
        ecs, elbv2 = clients()
        say(
            f"waiting for ECS to roll out {', '.join(target.services)} in cluster {target.cluster} "
            f"(for up to {timing.timeout:.0f} s; --wait-timeout)"
        )
        try:
            seconds = wait_for_rollout(
                target, ecs=ecs, elbv2=elbv2, say=say, timing=timing, clock=clock, sleep=sleep
            )
        except RolloutFailed as failed:
            for line in failed.lines:
                say(line)
            return EXIT_FAILED
        say(f"rolled out in {seconds:.0f} s: every service runs its new tasks, the api's targets are healthy")
    api_url = outputs().get("api_url")
    if not api_url:
        say(
            f"no api_url output in stack {environment.name}: cannot ask the api whether it answers; "
            f"read the outputs with `node_modules/.bin/cdktf output {environment.name}`"
        )
        return EXIT_FAILED
    url = str(api_url).rstrip("/") + health_path(environment)
    try:
        answer = request_health(
            url,
            say=say,
            bound=min(ANSWER_TIMEOUT, timing.timeout),
            interval=timing.interval,
            clock=clock,
            sleep=sleep,
            client=http,
        )
    except httpx.HTTPError as error:
        say(f"api: GET {url} failed: {_why(error)}")
        say(_not_answering(environment, target))
        return EXIT_FAILED
    say(answer.line())
    if answer.status not in SERVING:
        say(_not_answering(environment, target))
        return EXIT_FAILED
    return 0


def _not_answering(environment: Environment, target: RolloutTarget | None) -> str:
    if target is None:
        return (
            f"the api does not answer: read its logs (`docker logs {cluster_name(environment)}-api`) and "
            f"the api's healthcheck in {environment.file}; the deploy itself is done"
        )
    group = target.log_groups.get("api", "")
    return (
        "the api does not answer from here though its targets are healthy: a new domain name can take "
        "minutes to resolve, and api.load_balancer.allowed_cidrs must admit this machine; read the "
        f"logs in log group {group}. The deploy itself is done"
    )
