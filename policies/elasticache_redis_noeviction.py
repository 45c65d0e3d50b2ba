"""CKV_IK_7: a Redis ElastiCache parameter group sets maxmemory-policy to noeviction.

The worker's queue library, BullMQ, keeps jobs as Redis keys. Under any eviction policy a full
cache silently deletes job keys, which is lost work; with noeviction Redis refuses the write
and the producer sees an error instead.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from terraform_json_values import attribute, is_expression, nested_blocks


class ElastiCacheRedisNoEviction(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure Redis aws_elasticache_parameter_group sets maxmemory-policy to noeviction",
            id="CKV_IK_7",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["aws_elasticache_parameter_group"],
            guideline='Add `parameter { name = "maxmemory-policy", value = "noeviction" }` for BullMQ.',
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["family", "parameter"]
        family = attribute(conf, "family")
        # A literal non-Redis family (memcached) has no eviction policy; an expression may be Redis.
        if isinstance(family, str) and not is_expression(family) and not family.startswith("redis"):
            return CheckResult.UNKNOWN
        policies = [
            attribute(parameter, "value")
            for parameter in nested_blocks(conf, "parameter")
            if attribute(parameter, "name") == "maxmemory-policy"
        ]
        if policies == ["noeviction"]:
            return CheckResult.PASSED
        if not policies:
            self.details.append("maxmemory-policy is not set, so ElastiCache's default volatile-lru applies")
        else:
            self.details.append(f"maxmemory-policy is {', '.join(map(repr, policies))}, not 'noeviction'")
        return CheckResult.FAILED


check = ElastiCacheRedisNoEviction()
