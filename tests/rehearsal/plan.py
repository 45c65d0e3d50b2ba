"""What Terraform would hand each container of a synthesized Docker stack, evaluated by Terraform.

Every string a container receives (command, healthcheck, environment) and every stack output is a
Terraform template that may hold `${...}` expressions. They are evaluated by the real `terraform`
binary (`terraform console` needs no provider) in a scratch configuration in which each
`random_password.<id>.result` is a local value: a password generated here with the charset that
resource declares (length, special, upper, lower, numeric, override_special). Any other reference
in these strings fails the evaluation, as it would need a value only an apply can know.

What this cannot prove: the `random` provider's own generator (only its declared charset is
mimicked), and anything Terraform does at apply time beyond evaluating these templates.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from dataclasses import asdict, dataclass
from typing import Any

from tests.terraform_console import TerraformError, evaluate

# The random provider's default special characters (random_password's `override_special` replaces them).
DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?"


class PlanError(Exception):
    """The stack holds something the rehearsal cannot evaluate; the message says what."""


@dataclass(frozen=True)
class Healthcheck:
    test: list[str]
    timeout_seconds: float

    def argv(self, shell: str) -> list[str]:
        """The process Docker starts: CMD-SHELL runs the image's /bin/sh -c, CMD runs the words."""
        kind, *rest = self.test
        if kind == "CMD-SHELL" and len(rest) == 1:
            return [shell, "-c", rest[0]]
        if kind == "CMD" and rest:
            return list(rest)
        raise PlanError(f"healthcheck test {self.test!r} is neither CMD-SHELL nor CMD with arguments")


@dataclass(frozen=True)
class ContainerPlan:
    resource: str  # the docker_container's logical id
    alias: str  # its name on the private network
    user: str
    command: list[str] | None
    environment: dict[str, str]
    healthcheck: Healthcheck
    ports: list[tuple[int, int]]  # (container port, host port)


@dataclass(frozen=True)
class StackPlan:
    containers: dict[str, ContainerPlan]  # by alias
    outputs: dict[str, str]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> StackPlan:
        data = json.loads(text)
        containers = {
            alias: ContainerPlan(
                **{
                    **c,
                    "healthcheck": Healthcheck(**c["healthcheck"]),
                    "ports": [tuple(p) for p in c["ports"]],
                }
            )
            for alias, c in data["containers"].items()
        }
        return cls(containers=containers, outputs=data["outputs"])


def plan_stack(stack: dict[str, Any], *, terraform: str = "terraform") -> StackPlan:
    """Evaluate every container string and output of a synthesized stack (`cdk.tf.json`, parsed)."""
    containers = stack.get("resource", {}).get("docker_container", {})
    if not containers:
        raise PlanError("the stack has no docker_container resources")
    passwords = password_values(stack)
    templates = {
        "containers": {
            rid: {
                "command": c.get("command") or [],
                "env": c.get("env") or [],
                "healthcheck": (c.get("healthcheck") or {}).get("test") or [],
            }
            for rid, c in containers.items()
        },
        "outputs": {name: o["value"] for name, o in stack.get("output", {}).items()},
    }
    try:
        evaluated = evaluate(templates, passwords, terraform=terraform)
    except TerraformError as error:
        raise PlanError(str(error)) from None
    plans = {}
    for rid, container in containers.items():
        values = evaluated["containers"][rid]
        healthcheck = container.get("healthcheck")
        if not healthcheck or not values["healthcheck"]:
            raise PlanError(f"docker_container.{rid} has no healthcheck")
        alias = _alias(rid, container)
        plans[alias] = ContainerPlan(
            resource=rid,
            alias=alias,
            user=str(container.get("user") or "root"),
            command=values["command"] or None,
            environment=_environment(rid, values["env"]),
            healthcheck=Healthcheck(
                test=values["healthcheck"], timeout_seconds=_seconds(healthcheck.get("timeout", "30s"))
            ),
            ports=[
                (int(p["internal"]), int(p.get("external", p["internal"])))
                for p in container.get("ports") or []
            ],
        )
    return StackPlan(containers=plans, outputs=evaluated["outputs"])


def password_values(stack: dict[str, Any]) -> dict[str, str]:
    """A value for every `random_password.<id>.result` in the stack, by that address."""
    return {
        f"random_password.{rid}.result": generated_password(settings)
        for rid, settings in stack.get("resource", {}).get("random_password", {}).items()
    }


def generated_password(settings: dict[str, Any]) -> str:
    """A password from the charset a random_password resource declares, with every enabled class
    present, so that characters a URL would need escaped show up whenever the resource allows them."""
    length = int(settings.get("length", 16))
    classes = []
    if settings.get("lower", True):
        classes.append(string.ascii_lowercase)
    if settings.get("upper", True):
        classes.append(string.ascii_uppercase)
    if settings.get("numeric", settings.get("number", True)):
        classes.append(string.digits)
    if settings.get("special", True):
        classes.append(settings.get("override_special", DEFAULT_SPECIAL))
    classes = [c for c in classes if c]
    if not classes or length < len(classes):
        raise PlanError(f"random_password settings {settings!r} allow no password")
    alphabet = "".join(classes)
    chosen = [secrets.choice(c) for c in classes]
    chosen += [secrets.choice(alphabet) for _ in range(length - len(chosen))]
    secrets.SystemRandom().shuffle(chosen)
    return "".join(chosen)


def _alias(rid: str, container: dict[str, Any]) -> str:
    aliases = [
        a for network in container.get("networks_advanced") or [] for a in network.get("aliases") or []
    ]
    if len(aliases) != 1:
        raise PlanError(f"docker_container.{rid} should have exactly one network alias, has {aliases}")
    return str(aliases[0])


def _environment(rid: str, entries: list[str]) -> dict[str, str]:
    environment = {}
    for entry in entries:
        name, separator, value = entry.partition("=")
        if not separator or not name:
            raise PlanError(f"docker_container.{rid}: env entry without NAME=: {name!r}")
        environment[name] = value
    return environment


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", duration)
    if not match:
        raise PlanError(f"cannot read the duration {duration!r}")
    return float(match[1]) * {"ms": 0.001, "s": 1.0, "m": 60.0}[match[2]]
