"""The deploy order a first deploy needs, enforced: the images stack, then the image check, then the
environment. ECR is faked at the SDK boundary with botocore's Stubber, which also fails the test on
any call it was not told to expect; each stack's plan-and-apply (the plan gate's) is recorded, not
run, and so is `local`'s `cdktf deploy`.

What this cannot prove without AWS: ECR's real answers (the error codes are the ones the ECR API
documents), and what Terraform and `cdktf deploy` themselves do (the gate's own commands:
tests/test_plan_in_deploy.py and tests/test_deploy_applies_the_plan.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from infrakit.config.loader import load_environment
from infrakit.deploy.images import ImageCheckError
from infrakit.deploy.order import deploy_in_order
from infrakit.deploy.plan import PlanSummary
from infrakit.deploy.plan_gate import BeforeApply, Outcome, Planned
from tests.conftest import ENVIRONMENTS
from tests.ecr_stub import REGISTRY, configs_found, image_found, repository_found

CDKTF = "node_modules/.bin/cdktf"


class Recorder:
    def __init__(self, fail: str | None = None):
        self.calls: list[list[str]] = []
        self.fail = fail

    def __call__(self, argv: Sequence[str]) -> int:
        self.calls.append(list(argv))
        return 1 if self.fail and self.fail in argv else 0


class Applier:
    """Stands in for the plan gate: records each stack it is asked to plan and apply, and whether
    it ran what comes before the apply; `fail` names a stack whose apply fails."""

    def __init__(self, fail: str | None = None):
        self.calls: list[str] = []
        self.fail = fail

    def apply(self, stack: str, *, last: bool = True, before: BeforeApply | None = None) -> Outcome:
        if before is not None:
            before(Planned(stack, PlanSummary(stack, ())))
        self.calls.append(f"apply {stack}")
        return Outcome(1 if stack == self.fail else 0, applying=True)


def deploy(env: str, run: Recorder, client: Any, said: list[str], plan: Applier | None = None) -> int:
    environment = load_environment(ENVIRONMENTS / f"{env}.toml")
    return deploy_in_order(
        environment,
        run=run,
        ecr=lambda: client,
        cdktf=CDKTF,
        auto_approve=True,
        say=said.append,
        plan=plan if environment.config.state is not None else None,  # as `infrakit deploy` does
    )


def test_images_stack_then_check_then_environment(ecr, s3) -> None:
    client, stubber = ecr
    for service in ("api", "worker"):
        repository_found(stubber, f"infrakit-dev-{service}")
        image_found(stubber, f"infrakit-dev-{service}")
    configs_found(stubber, s3)
    run, plan, said = Recorder(), Applier(), []
    assert deploy("dev", run, client, said, plan) == 0
    assert plan.calls == ["apply dev-images", "apply dev"]
    assert run.calls == []  # no `cdktf deploy`: the gate applies the plan it showed


def test_an_image_without_volume_tmp_stops_before_the_environment(ecr, s3) -> None:
    """The worker's image declares no VOLUME /tmp: on Fargate its non-root user could not write
    the scratch volume (aws/containers-roadmap#938), and its /tmp healthcheck would never pass. The
    deploy stops before `dev`, naming the image and the fix. Cannot prove: Fargate's behaviour
    itself, nor /tmp's mode inside an image that does declare it."""
    client, stubber = ecr
    for service in ("api", "worker"):
        repository_found(stubber, f"infrakit-dev-{service}")
        image_found(stubber, f"infrakit-dev-{service}")
    configs_found(stubber, s3, without_tmp=("worker",))
    plan, said = Applier(), []
    assert deploy("dev", Recorder(), client, said, plan) == 1
    assert plan.calls == ["apply dev-images"]  # dev itself never ran
    text = "\n".join(said)
    assert "does not declare VOLUME /tmp" in text and "`VOLUME /tmp`" in text
    assert "not deploying dev: its tasks could not write /tmp" in text
    assert "api:" not in text.split("checking that every image declares")[1].split("worker")[0]


def test_a_missing_image_stops_before_the_environment_and_says_how_to_push_it(ecr) -> None:
    client, stubber = ecr
    repository_found(stubber, "infrakit-dev-api")
    stubber.add_client_error(
        "describe_images",
        service_error_code="ImageNotFoundException",
        service_message="The image with imageId {imageTag:'0.1.0'} does not exist",
        http_status_code=400,
        expected_params={"repositoryName": "infrakit-dev-api", "imageIds": [{"imageTag": "0.1.0"}]},
    )
    repository_found(stubber, "infrakit-dev-worker")
    image_found(stubber, "infrakit-dev-worker")
    plan, said = Applier(), []
    assert deploy("dev", Recorder(), client, said, plan) == 1
    assert plan.calls == ["apply dev-images"]  # dev itself never ran
    text = "\n".join(said)
    assert (
        "api: image 0.1.0 is not in ECR repository infrakit-dev-api (environments/dev.toml: api.image_tag)"
        in text
    )
    assert f"docker push {REGISTRY}/infrakit-dev-api:0.1.0" in text
    assert f"--password-stdin {REGISTRY}" in text
    assert "worker:" not in text


def test_a_missing_repository_points_at_the_images_stack(ecr) -> None:
    client, stubber = ecr
    stubber.add_client_error(
        "describe_repositories",
        service_error_code="RepositoryNotFoundException",
        http_status_code=400,
        expected_params={"repositoryNames": ["infrakit-dev-api"]},
    )
    repository_found(stubber, "infrakit-dev-worker")
    image_found(stubber, "infrakit-dev-worker")
    said: list[str] = []
    assert deploy("dev", Recorder(), client, said, Applier()) == 1
    assert "deploy the images stack first (`cdktf deploy dev-images`)" in "\n".join(said)


def test_a_failed_images_stack_stops_everything(ecr) -> None:
    client, _ = ecr  # no ECR call is expected: the Stubber fails on any
    plan, said = Applier(fail="dev-images"), []
    assert deploy("dev", Recorder(), client, said, plan) == 1
    assert plan.calls == ["apply dev-images"]
    assert said[-1] == "dev-images did not apply (see above); nothing else was deployed"


def test_refused_credentials_are_a_message_not_a_traceback(ecr) -> None:
    client, stubber = ecr
    stubber.add_client_error(
        "describe_repositories",
        service_error_code="AccessDeniedException",
        http_status_code=400,
        expected_params={"repositoryNames": ["infrakit-dev-api"]},
    )
    with pytest.raises(ImageCheckError, match="ecr:DescribeRepositories and ecr:DescribeImages"):
        deploy("dev", Recorder(), client, [], Applier())


def test_local_has_no_images_stack(ecr) -> None:
    client, _ = ecr
    run, plan = Recorder(), Applier()
    assert deploy("local", run, client, [], plan) == 0
    assert run.calls == [[CDKTF, "deploy", "local", "--auto-approve"]]  # local state: no plan gate
    assert plan.calls == []


# `python -m infrakit deploy` end to end, with its plan steps: tests/test_plan_in_deploy.py.
