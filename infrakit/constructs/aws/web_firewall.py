"""A WAF in front of the public load balancer, with its decisions logged."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from infrakit.cdk import (
    Wafv2WebAcl,
    Wafv2WebAclAssociation,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionCount,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from infrakit.constructs.aws.encryption_key import EnvironmentKey
from infrakit.constructs.aws.log_group import encrypted_log_group

# AWS managed rule groups that block: common exploits, and known-bad inputs (Log4j lookups too).
MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
# Counted, not blocked: its hosting-provider list matches legitimate server-to-server clients.
MONITORED_RULE_GROUPS = ("AWSManagedRulesAnonymousIpList",)
REQUESTS_PER_5_MINUTES_PER_IP = 2000


def _visibility(metric: str) -> Wafv2WebAclRuleVisibilityConfig:
    return Wafv2WebAclRuleVisibilityConfig(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


class WebFirewall(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        load_balancer_arn: str,
        key: EnvironmentKey,
        retention_days: int,
    ):
        super().__init__(scope, id_)
        groups = [(g, False) for g in MANAGED_RULE_GROUPS] + [(g, True) for g in MONITORED_RULE_GROUPS]
        rules = [
            Wafv2WebAclRule(
                name=group,
                priority=priority,
                override_action=Wafv2WebAclRuleOverrideAction(
                    count=Wafv2WebAclRuleOverrideActionCount() if count_only else None,
                    none=None if count_only else Wafv2WebAclRuleOverrideActionNone(),
                ),
                # `statement` is untyped in the bindings: it is written in Terraform's own keys.
                statement=_managed_group(group),
                visibility_config=_visibility(group),
            )
            for priority, (group, count_only) in enumerate(groups, start=1)
        ]
        rules.append(
            Wafv2WebAclRule(
                name="rate-limit-per-ip",
                priority=len(rules) + 1,
                action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                statement={
                    "rate_based_statement": {
                        "limit": REQUESTS_PER_5_MINUTES_PER_IP,
                        "aggregate_key_type": "IP",
                    }
                },
                visibility_config=_visibility("rate-limit-per-ip"),
            )
        )
        self.acl = acl = Wafv2WebAcl(
            self,
            "acl",
            name=name,
            scope="REGIONAL",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=rules,
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            ),
        )
        Wafv2WebAclAssociation(self, "association", resource_arn=load_balancer_arn, web_acl_arn=acl.arn)
        # WAF only delivers to log groups whose name starts with aws-waf-logs-.
        logs = encrypted_log_group(
            self, "logs", name=f"aws-waf-logs-{name}", key=key, retention_days=retention_days
        )
        Wafv2WebAclLoggingConfiguration(
            self, "logging", resource_arn=acl.arn, log_destination_configs=[logs.arn]
        )


def _managed_group(group: str) -> dict[str, Any]:
    return {"managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}}
