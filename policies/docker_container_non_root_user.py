"""CKV_IK_2: a docker_container runs its process as a non-root user.

Most official images default to root; an explicit non-root `user` keeps a compromised service
from being root inside the container.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from container_users import root_user_problem
from terraform_json_values import attribute


class DockerContainerNonRootUser(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure docker_container sets a user that is not root, 0 or 0:<group>",
            id="CKV_IK_2",
            categories=[CheckCategories.IAM],
            supported_resources=["docker_container"],
            guideline='Set `user` to a non-root user or uid that the image provides, such as "10001".',
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["user"]
        problem = root_user_problem(attribute(conf, "user"))
        if problem:
            self.details.append(problem)
            return CheckResult.FAILED
        return CheckResult.PASSED


check = DockerContainerNonRootUser()
