"""The deploy order the toolkit enforces: the images stack, the image check, the environment."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from infrakit.config import Environment
from infrakit.deploy.images import missing_images
from infrakit.stacks.images_stack import image_services, images_stack_name

EXIT_FAILED = 1

RunCommand = Callable[[Sequence[str]], int]


def deploy_in_order(
    environment: Environment,
    *,
    run: RunCommand,
    ecr: Callable[[], Any],
    cdktf: str,
    auto_approve: bool,
    say: Callable[[str], None],
) -> int:
    """Deploy with `cdktf deploy`, stack by stack; stop at the first step that fails."""
    extra = ["--auto-approve"] if auto_approve else []
    if image_services(environment):
        images = images_stack_name(environment.name)
        say(f"deploying {images}: the image repositories")
        if (code := run([cdktf, "deploy", images, *extra])) != 0:
            say(f"cdktf deploy {images} failed (see above); nothing else was deployed")
            return code or EXIT_FAILED
        say("checking that every image the environment names is in its repository")
        absent = missing_images(environment, ecr())
        if absent:
            region = environment.config.aws.region if environment.config.aws else ""
            for image in absent:
                say(image.explain(environment, region))
            say(f"not deploying {environment.name}: its services would start without their images")
            return EXIT_FAILED
    say(f"deploying {environment.name}")
    if (code := run([cdktf, "deploy", environment.name, *extra])) != 0:
        say(f"cdktf deploy {environment.name} failed (see above)")
        return code or EXIT_FAILED
    return 0
