"""CKV_IK_5: a docker_container publishes ports only on 127.0.0.1.

Local services carry development credentials and no TLS. A `ports` block without `ip` binds
0.0.0.0, which exposes them to the whole network the laptop is on (and Docker's iptables rules
bypass the host firewall).
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from terraform_json_values import attribute, nested_blocks

LOOPBACK = "127.0.0.1"


class DockerContainerPortsOnLoopback(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure docker_container publishes every port on 127.0.0.1 only",
            id="CKV_IK_5",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["docker_container"],
            guideline='Set `ip = "127.0.0.1"` in every `ports` block; without it Docker binds 0.0.0.0.',
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["ports"]
        for index, port in enumerate(nested_blocks(conf, "ports")):
            ip = attribute(port, "ip")
            if ip != LOOPBACK:
                bound = "0.0.0.0 (ip is not set)" if ip is None else repr(ip)
                self.details.append(f"ports[{index}] (internal {attribute(port, 'internal')}) binds {bound}")
        return CheckResult.FAILED if self.details else CheckResult.PASSED


check = DockerContainerPortsOnLoopback()
