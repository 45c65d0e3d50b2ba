"""CKV_IK_3: a docker_container whose image is a literal names a pinned version.

A reference such as `${docker_image.api.image_id}` passes: the docker_image resource it points
at is held to the same rule by CKV_IK_6.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from image_references import image_pin_problem
from terraform_json_values import attribute, is_expression


class DockerContainerPinnedImage(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure docker_container with a literal image uses a tag other than latest, or a digest",
            id="CKV_IK_3",
            categories=[CheckCategories.SUPPLY_CHAIN],
            supported_resources=["docker_container"],
            guideline="Pin `image` to a version tag or digest, or refer to a pinned docker_image resource.",
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["image"]
        image = attribute(conf, "image")
        if is_expression(image):
            return CheckResult.PASSED
        if not isinstance(image, str) or not image.strip():
            self.details.append("image is not set")
            return CheckResult.FAILED
        problem = image_pin_problem(image.strip())
        if problem:
            self.details.append(problem)
            return CheckResult.FAILED
        return CheckResult.PASSED


check = DockerContainerPinnedImage()
