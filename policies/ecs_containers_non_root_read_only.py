"""CKV_IK_8: every container of an aws_ecs_task_definition runs as non-root on a read-only root.

A Fargate container that runs as root with a writable root filesystem lets an attacker who
gets code execution replace the service's own binaries. cdktf writes `container_definitions`
as a JSON string, so the check parses it; a string that is not valid JSON (or a Terraform
expression such as `${file(...)}`) cannot be checked and fails with the parse error in details.
"""

from __future__ import annotations

import json
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from container_users import root_user_problem
from terraform_json_values import attribute


class EcsContainersNonRootReadOnly(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every aws_ecs_task_definition container sets a non-root user and "
            "readonlyRootFilesystem: true (container_definitions that is not valid JSON fails)",
            id="CKV_IK_8",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_ecs_task_definition"],
            guideline="Give each container a non-root `user` and `readonlyRootFilesystem: true`, mounting "
            "a volume where it must write. container_definitions must be a literal JSON array.",
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["container_definitions"]
        containers = self._containers(attribute(conf, "container_definitions"))
        if containers is None:
            return CheckResult.FAILED
        for index, container in enumerate(containers):
            label = f"container {container.get('name', index)!r}"
            problem = root_user_problem(container.get("user"))
            if problem:
                self.details.append(f"{label}: {problem}")
            if container.get("readonlyRootFilesystem") is not True:
                self.details.append(f"{label}: readonlyRootFilesystem is not true")
        return CheckResult.FAILED if self.details else CheckResult.PASSED

    def _containers(self, definitions: Any) -> list[dict[str, Any]] | None:
        """The container definitions as dicts, or None (with the reason in details) when unreadable."""
        if isinstance(definitions, str):
            try:
                definitions = json.loads(definitions)
            except ValueError as error:
                self.details.append(
                    f"container_definitions is not valid JSON, so it cannot be checked: {error}"
                )
                return None
        if isinstance(definitions, dict):
            definitions = [definitions]
        if not isinstance(definitions, list) or not definitions:
            self.details.append("container_definitions is not a non-empty JSON array of containers")
            return None
        if not all(isinstance(container, dict) for container in definitions):
            self.details.append("container_definitions holds an entry that is not a JSON object")
            return None
        return definitions


check = EcsContainersNonRootReadOnly()
