"""CKV_IK_4: a docker_container is not privileged.

A privileged container has every capability and the host's devices: escaping it is trivial, so
no infrakit service may ask for it.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from terraform_json_values import attribute


class DockerContainerNotPrivileged(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure docker_container is not privileged",
            id="CKV_IK_4",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["docker_container"],
            guideline="Remove `privileged` or set it to false; add only the capabilities the service needs.",
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["privileged"]
        privileged = attribute(conf, "privileged")
        # Anything but an explicit false (or unset, which defaults to false) could turn it on.
        if privileged in (None, False):
            return CheckResult.PASSED
        shown = "true" if privileged is True else repr(privileged)
        self.details.append(f"privileged is {shown}; a privileged container has the host's devices")
        return CheckResult.FAILED


check = DockerContainerNotPrivileged()
