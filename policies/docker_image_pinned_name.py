"""CKV_IK_6: a docker_image names a pinned version: a tag other than latest, or a sha256 digest."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from image_references import image_pin_problem
from terraform_json_values import attribute


class DockerImagePinnedName(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure docker_image name has a tag other than latest, or an @sha256: digest",
            id="CKV_IK_6",
            categories=[CheckCategories.SUPPLY_CHAIN],
            supported_resources=["docker_image"],
            guideline='Pin `name` to a version tag ("redis:7.4.1-alpine") or a digest ("redis@sha256:...").',
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["name"]
        name = attribute(conf, "name")
        if not isinstance(name, str) or not name.strip():
            self.details.append("name is not set")
            return CheckResult.FAILED
        problem = image_pin_problem(name.strip())
        if problem:
            self.details.append(problem)
            return CheckResult.FAILED
        return CheckResult.PASSED


check = DockerImagePinnedName()
