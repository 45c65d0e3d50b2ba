"""The stacks of an environment and what they are called, without importing the CDK.

Importing the CDK starts jsii's Node process in our process group, where a Ctrl-C reaches it too and
it prints a traceback of its own; the deploy commands only need the names.
"""

from __future__ import annotations

from infrakit.config import Environment

APP_SERVICES = ("api", "worker")
# How Fargate runs every app service's image (fargate_service.py), for the image check before
# deploy (deploy/images.py): its CPU architecture, and where its writable scratch volume is mounted.
CPU_ARCHITECTURE = "X86_64"
SCRATCH_PATH = "/tmp"


def images_stack_name(environment_name: str) -> str:
    return f"{environment_name}-images"


def image_services(environment: Environment) -> list[str]:
    """The app services that run from images in the environment's registry (Fargate)."""
    return [name for name in APP_SERVICES if getattr(environment.config, name).backend == "fargate"]


def repository_name(environment: Environment, service: str) -> str:
    return f"{environment.config.project}-{environment.name}-{service}"


def stacks_in_deploy_order(environment: Environment) -> list[str]:
    """`<env>-images` first where a service runs from the environment's registry."""
    if image_services(environment):
        return [images_stack_name(environment.name), environment.name]
    return [environment.name]
