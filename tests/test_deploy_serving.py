"""The end of a deploy: the rollout (stubbed ECS and ELBv2, tests/rollout_stub.py), then one
request to the api's health path, answered by a local HTTPS server with a throwaway certificate
(tests/https_server.py) that the client trusts only through SSL_CERT_FILE.

The command-level tests run `infrakit deploy` with the stand-ins of tests/test_plan_command.py
(terraform, main.py, cdktf), with boto3's clients stubbed at the SDK boundary. What these cannot
prove: a real load balancer's answer, DNS of a new domain name, or real ECS timings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from infrakit import cli
from infrakit.config.loader import load_environment
from infrakit.deploy.rollout import Timing
from infrakit.deploy.serving import check_serving, health_path
from tests import rollout_stub as aws
from tests.conftest import ENVIRONMENTS, offline_client
from tests.ecr_stub import configs_found, images_found
from tests.https_server import HealthServer, health_server
from tests.test_plan import plan_json
from tests.test_plan_command import Project, executable
from tests.test_plan_in_deploy import CDKTF_RECORDER
from tests.test_rollback_plan import nothing_runs_yet


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HealthServer]:
    with health_server(tmp_path) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))
        yield server


def stubbed_clients(answers: dict[str, list[aws.Answer]]) -> tuple[Any, Any, list[Stubber]]:
    ecs, elbv2 = offline_client("ecs", aws.REGION), offline_client("elbv2", aws.REGION)
    stubbers = [Stubber(ecs), Stubber(elbv2)]
    for stubber, service in zip(stubbers, ("ecs", "elbv2"), strict=True):
        aws.load(stubber, answers[service])
        stubber.activate()
    return ecs, elbv2, stubbers


def serve(env: str, server_url: str, answers: dict[str, list[aws.Answer]] | None, said: list[str]) -> int:
    environment = load_environment(ENVIRONMENTS / f"{env}.toml")
    if answers is None:

        def clients() -> tuple[Any, Any]:
            raise AssertionError("no AWS client is made for an environment without ECS services")

        stubbers: list[Stubber] = []
    else:
        ecs, elbv2, stubbers = stubbed_clients(answers)

        def clients() -> tuple[Any, Any]:
            return ecs, elbv2

    clock = Clock()
    code = check_serving(
        environment,
        outputs=lambda: {"api_url": server_url},
        clients=clients,
        say=said.append,
        timing=Timing(timeout=30, interval=10),
        clock=clock,
        sleep=clock.sleep,
    )
    for stubber in stubbers:
        stubber.assert_no_pending_responses()
    return code


def test_a_healthy_cloud_rollout_ends_0_with_the_status_and_latency(trusted) -> None:
    said: list[str] = []
    assert serve("dev", trusted.url, aws.healthy_rollout(), said) == 0
    assert said[0] == (
        "waiting for ECS to roll out api, worker in cluster infrakit-dev (for up to 30 s; --wait-timeout)"
    )
    assert said[-2].startswith("rolled out in 10 s")
    assert said[-1].startswith(f"api: GET {trusted.url}/healthz answered 200 in ")
    assert said[-1].endswith(" ms")
    assert trusted.paths == ["/healthz"]


def test_the_request_verifies_tls_and_fails_on_an_untrusted_certificate(tmp_path, monkeypatch) -> None:
    """The same server, its certificate not trusted: the request fails, it is not let through."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with health_server(tmp_path) as server:
        said: list[str] = []
        assert serve("local", server.url, None, said) == 1
    assert any("CERTIFICATE_VERIFY_FAILED" in line for line in said), said
    assert "the api does not answer" in said[-1] and "docker logs infrakit-local-api" in said[-1]


def test_an_api_that_answers_503_fails_with_the_status(tmp_path, monkeypatch) -> None:
    with health_server(tmp_path, status=503) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))
        said: list[str] = []
        assert serve("dev", server.url, aws.healthy_rollout(), said) == 1
    assert f"api: GET {server.url}/healthz answered 503; asking again (for up to 30 s)" in said
    assert said[-2].startswith(f"api: GET {server.url}/healthz answered 503 in ")
    assert "its targets are healthy" in said[-1] and "/infrakit/infrakit-dev-api" in said[-1]


def test_local_asks_the_path_its_healthcheck_asks_and_no_aws(trusted) -> None:
    """Cannot prove that Docker's healthchecks held the deploy until healthy: that is Terraform's
    docker provider's doing."""
    environment = load_environment(ENVIRONMENTS / "local.toml")
    assert health_path(environment) == "/"  # local.toml's: wget ... http://127.0.0.1:8080/
    said: list[str] = []
    assert serve("local", trusted.url, None, said) == 0
    assert said[-1].startswith(f"api: GET {trusted.url}/ answered 200 in ")
    assert trusted.paths == ["/"]


# ----------------------------------------------------------------------------- `infrakit deploy`


SENTINEL_REDIS_URL = "rediss://default:sentinel-redis@x:6379"  # checkov:skip=CKV_SECRET_4: test value


def outputs_json(api_url: str) -> dict[str, Any]:
    """`terraform output -json` of the dev stack: api_url, and a sensitive output never printed."""
    return {
        "api_url": {"sensitive": False, "type": "string", "value": api_url},
        "redis_url": {"sensitive": True, "type": "string", "value": SENTINEL_REDIS_URL},
    }


@pytest.fixture
def deploying(
    tmp_path, synthesized, monkeypatch, s3
) -> Iterator[tuple[Project, dict[str, list[aws.Answer]]]]:
    """The dev deploy's stand-ins; boto3.client gives each service a stubbed client loaded with
    the answers the test puts in the returned dict (ECR's: every image is there)."""
    project = Project(tmp_path, synthesized, monkeypatch)
    cdktf = tmp_path / "node_modules" / ".bin" / "cdktf"
    cdktf.parent.mkdir(parents=True)
    executable(cdktf, CDKTF_RECORDER)
    project.plans(
        **{
            "dev-images": plan_json(project.document("dev-images"), default=["no-op"]),
            "dev": plan_json(project.document("dev"), default=["no-op"]),
        }
    )
    recorder = aws.Recorder()
    images_found(recorder)  # type: ignore[arg-type]
    configs_found(recorder, s3)  # type: ignore[arg-type]
    answers: dict[str, list[aws.Answer]] = {"ecr": recorder.answers, "ecs": [], "elbv2": []}
    stubbers: list[Stubber] = []
    real_client = boto3.client

    def client(service: str, region_name: str | None = None) -> Any:
        made = offline_client(service, region_name, make=real_client)
        stubber = Stubber(made)
        # ECS is first asked for the rollback plan, before dev's apply: no service runs yet.
        aws.load(stubber, [nothing_runs_yet(), *answers[service]] if service == "ecs" else answers[service])
        stubber.activate()
        stubbers.append(stubber)
        return made

    monkeypatch.setattr(boto3, "client", client)
    yield project, answers
    for stubber in stubbers:
        stubber.assert_no_pending_responses()


def deploy(*args: str) -> int:
    return cli.main(
        [
            "--environments-dir",
            str(ENVIRONMENTS),
            "deploy",
            "--env",
            "dev",
            "--skip-preflight",
            "--auto-approve",
            *args,
        ]
    )


def test_the_deploy_command_ends_when_the_api_answers(deploying, trusted, capsys) -> None:
    project, answers = deploying
    answers.update(aws.healthy_rollout())
    (project.fixtures / "dev-outputs.json").write_text(json.dumps(outputs_json(trusted.url)))
    assert deploy("--poll-interval", "0.01") == 0
    err = capsys.readouterr().err
    assert "infrakit: waiting for ECS to roll out api, worker in cluster infrakit-dev" in err
    assert "api 1/1 running, rollout COMPLETED; worker 1/1 running, rollout COMPLETED" in err
    assert f"infrakit: api: GET {trusted.url}/healthz answered 200 in " in err
    assert "sentinel-redis" not in err


def test_the_deploy_command_stops_on_a_failed_first_deployment(deploying, capsys) -> None:
    project, answers = deploying
    answers.update(aws.failed_first_deployment(aws.IMAGE_UNPULLABLE))
    assert deploy() == 1
    err = capsys.readouterr().err
    assert f"infrakit: api: the deployment failed: {aws.CIRCUIT_BREAKER}" in err
    assert f"ECS's reason for the last: {aws.IMAGE_UNPULLABLE}" in err
    assert "fix: the image could not be pulled. Check that api.image_tag = '0.1.0'" in err
    assert "Traceback" not in err


def test_no_wait_ends_with_the_deploy(deploying, capsys) -> None:
    """No ECS or ELBv2 answer is loaded: any call would fail in the Stubber."""
    assert deploy("--no-wait") == 0
    assert "waiting for ECS" not in capsys.readouterr().err


def test_ctrl_c_during_the_wait_says_the_deploy_is_done_and_exits_130(deploying, capsys, monkeypatch) -> None:
    """Ctrl-C arrives as KeyboardInterrupt at the first look at ECS. Cannot prove a terminal's
    signal timing (tests/test_deploy_interrupt.py sends real signals to the cdktf step)."""

    def interrupted(*args: Any, **kwargs: Any) -> float:
        raise KeyboardInterrupt

    monkeypatch.setattr("infrakit.deploy.serving.wait_for_rollout", interrupted)
    deploying[1].update({"ecs": [], "elbv2": []})
    assert deploy() == 130
    lines = [line for line in capsys.readouterr().err.splitlines() if "interrupted" in line]
    assert lines == [
        "infrakit: deploy interrupted (Ctrl-C); the deploy itself is done: Terraform applied dev, and only "
        "the wait for it to serve was cut short; ECS carries on rolling out (`aws ecs wait services-stable "
        "--cluster infrakit-dev --services api worker --region eu-west-1` waits for it)"
    ]
