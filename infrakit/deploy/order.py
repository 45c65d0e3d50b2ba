"""The deploy order the toolkit enforces: the images stack, the image check, the environment, each
stack planned first by the plan gate (infrakit/deploy/plan_gate.py), which refuses data loss."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from infrakit.config import Environment
from infrakit.deploy.images import (
    TASK_PLATFORM,
    ImageProblem,
    missing_images,
    read_images,
    unwritable_scratch,
    wrong_platform,
)
from infrakit.stacks.names import image_services, images_stack_name

EXIT_FAILED = 1

RunCommand = Callable[[Sequence[str]], int]


class StackPlanner(Protocol):
    """Plans a stack and shows the summary; returns 0 to deploy it, else the exit code to stop with."""

    def check(self, stack: str, *, last: bool = True) -> int: ...


def deploy_in_order(
    environment: Environment,
    *,
    run: RunCommand,
    ecr: Callable[[], Any],
    cdktf: str,
    auto_approve: bool,
    say: Callable[[str], None],
    plan: StackPlanner | None = None,
) -> int:
    """Deploy with `cdktf deploy`, stack by stack; stop at the first step that fails.

    `plan`, for an environment with remote state, plans each stack right before its deploy; None
    deploys without a plan gate (`local`, whose state is a local file).
    """
    extra = ["--auto-approve"] if auto_approve else []
    if image_services(environment):
        images = images_stack_name(environment.name)
        if plan is not None and (code := plan.check(images, last=False)) != 0:
            say(f"not deploying {images} (see the plan above); nothing was deployed")
            return code
        say(f"deploying {images}: the image repositories")
        if (code := run([cdktf, "deploy", images, *extra])) != 0:
            say(f"cdktf deploy {images} failed (see above); nothing else was deployed")
            return code or EXIT_FAILED
        registry = ecr()
        region = environment.config.aws.region if environment.config.aws else ""
        # Each image's manifest and config are read once, after every image is found in ECR.
        read = functools.cache(lambda: read_images(environment, registry))
        checks: tuple[tuple[str, Callable[[], Sequence[ImageProblem]], str], ...] = (
            ("every image the environment names is in its repository",
             lambda: missing_images(environment, registry), "its services would start without their images"),
            (f"every image is built for {TASK_PLATFORM}, the platform its tasks run on",
             lambda: wrong_platform(environment, read()), "its tasks could not start"),
            ("every image declares VOLUME /tmp, the scratch path a non-root task writes",
             lambda: unwritable_scratch(environment, read()), "its tasks could not write /tmp"),
        )  # fmt: skip
        for checking, find_problems, consequence in checks:
            say(f"checking that {checking}")
            problems = find_problems()
            if problems:
                for problem in problems:
                    say(problem.explain(environment, region))
                say(f"not deploying {environment.name}: {consequence}")
                return EXIT_FAILED
    if plan is not None and (code := plan.check(environment.name, last=True)) != 0:
        say(f"not deploying {environment.name} (see the plan above)")
        return code
    say(f"deploying {environment.name}")
    if (code := run([cdktf, "deploy", environment.name, *extra])) != 0:
        say(f"cdktf deploy {environment.name} failed (see above)")
        return code or EXIT_FAILED
    return 0
