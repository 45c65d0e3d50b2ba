"""The deploy order the toolkit enforces: the images stack, the image check, the environment.

A cloud environment applies each stack through the plan gate (infrakit/deploy/plan_gate.py): one
plan, its summary, the refusal of data loss, then `terraform apply` of exactly that plan file; the
environment stack's rollback plan (infrakit/deploy/rollback_plan.py) is said before its apply.
`local`, whose state is a local file and which has no gate, deploys with `cdktf deploy`.
"""

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
from infrakit.deploy.plan_gate import BeforeApply, Outcome, Planned
from infrakit.deploy.rollback_plan import say_rollback_plan
from infrakit.stacks.names import image_services, images_stack_name

EXIT_FAILED = 1

RunCommand = Callable[[Sequence[str]], int]


class StackApplier(Protocol):
    """Plans a stack, shows the summary, judges it, runs `before`, then applies that very plan."""

    def apply(self, stack: str, *, last: bool = True, before: BeforeApply | None = None) -> Outcome: ...


def deploy_in_order(
    environment: Environment,
    *,
    run: RunCommand,
    ecr: Callable[[], Any],
    cdktf: str,
    auto_approve: bool,
    say: Callable[[str], None],
    plan: StackApplier | None = None,
    ecs: Callable[[], Any] | None = None,
) -> int:
    """Deploy stack by stack; stop at the first step that fails.

    `plan`, for an environment with remote state, plans and applies each stack (auto_approve is
    then the gate's: it asks before each apply unless told not to); None deploys with `cdktf
    deploy` without a plan gate (`local`, whose state is a local file). `ecs` makes the client
    that reads what runs now, for the rollback plan; None says none.
    """
    extra = ["--auto-approve"] if auto_approve else []
    if image_services(environment):
        images = images_stack_name(environment.name)
        say(f"deploying {images}: the image repositories")
        if plan is not None:
            if (outcome := plan.apply(images, last=False)).code != 0:
                if outcome.applying:
                    say(f"{images} did not apply (see above); nothing else was deployed")
                else:
                    say(f"not deploying {images} (see the plan above); nothing was deployed")
                return outcome.code
        elif (code := run([cdktf, "deploy", images, *extra])) != 0:
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
    say(f"deploying {environment.name}")
    if plan is not None:

        def before(planned: Planned) -> None:
            if ecs is not None:
                say_rollback_plan(environment, ecs, planned, say)

        if (outcome := plan.apply(environment.name, last=True, before=before)).code != 0:
            if not outcome.applying:
                say(f"not deploying {environment.name} (see the plan above)")
            return outcome.code
        return 0
    if (code := run([cdktf, "deploy", environment.name, *extra])) != 0:
        say(f"cdktf deploy {environment.name} failed (see above)")
        return code or EXIT_FAILED
    return 0
