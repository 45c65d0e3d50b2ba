"""CKV_IK_1: a docker_container reports its health and comes back after a crash.

Without a healthcheck test, Docker (and the provider's `wait = true`) cannot tell a hung service
from a healthy one. With restart "no" (Docker's default) a crashed service stays down until
someone notices.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from terraform_json_values import attribute, nested_blocks


class DockerContainerHealthcheckAndRestart(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name='Ensure docker_container has a healthcheck with a test and a restart policy other than "no"',
            id="CKV_IK_1",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["docker_container"],
            guideline='Add `healthcheck { test = [...] }` and set `restart` to "unless-stopped".',
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["healthcheck", "restart"]
        healthcheck = nested_blocks(conf, "healthcheck")
        test = attribute(healthcheck[0], "test") if healthcheck else None
        if not healthcheck:
            self.details.append("no healthcheck block")
        elif not test or test == ["NONE"]:
            self.details.append("healthcheck has no test command (an empty test or NONE disables it)")
        restart = attribute(conf, "restart")
        if restart in (None, "no"):
            self.details.append('restart is "no" (the default when unset), so a crashed container stays down')
        return CheckResult.FAILED if self.details else CheckResult.PASSED


check = DockerContainerHealthcheckAndRestart()
