"""A WAF in front of the public load balancer, with its decisions logged."""

from __future__ import annotations

from collections.abc import Sequence
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
from infrakit.config.aws import EVERY_PATH
from infrakit.constructs.aws.encryption_key import EnvironmentKey
from infrakit.constructs.aws.log_group import encrypted_log_group

# AWS managed rule groups that block: common exploits, and known-bad inputs (Log4j lookups too).
COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
MANAGED_RULE_GROUPS = (COMMON_RULE_SET, "AWSManagedRulesKnownBadInputsRuleSet")
# Counted, not blocked: its hosting-provider list matches legitimate server-to-server clients.
MONITORED_RULE_GROUPS = ("AWSManagedRulesAnonymousIpList",)
REQUESTS_PER_5_MINUTES_PER_IP = 2000

# The Common Rule Set blocks request bodies over 8 KB with this rule, and labels what it matches
# with BODY_SIZE_LABEL ("Baseline rule groups", AWS WAF Developer Guide,
# https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html).
# Most documents uploaded for embedding are larger, so by default the rule only counts; with
# `large_body_paths` listing the upload paths, BODY_SIZE_RULE_NAME blocks the label everywhere else.
# There is no larger limit to enforce instead: behind an ALB, WAF is sent only the first 8 KB of a
# body ("Managing body inspection size limits", fixed at 8 KB for Application Load Balancer,
# https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-setting-body-inspection-limit.html),
# so a size cap on uploads belongs in the api.
BODY_SIZE_RULE = "SizeRestrictions_BODY"
BODY_SIZE_LABEL = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"
BODY_SIZE_RULE_NAME = "large-bodies-only-on-upload-paths"

# Request headers that carry credentials: WAF logs keep every header otherwise, for the log group's
# retention. Lower case, as the WAF API returns them: any other spelling would show as a change on
# every plan (hashicorp/aws internal/service/wafv2/web_acl_logging_configuration.go,
# redacted_fields.single_header). Redaction applies to the logs only, not to sampled requests.
REDACTED_HEADERS = ("authorization", "cookie", "apikey", "x-api-key", "proxy-authorization")


def _visibility(metric: str) -> Wafv2WebAclRuleVisibilityConfig:
    return Wafv2WebAclRuleVisibilityConfig(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


class WebFirewall(Construct):
    """`large_body_paths`: path prefixes where request bodies over 8 KB pass; ("/",) lets them pass
    everywhere, () leaves the Common Rule Set blocking them everywhere (LoadBalancerSettings)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        load_balancer_arn: str,
        key: EnvironmentKey,
        retention_days: int,
        large_body_paths: Sequence[str] = (EVERY_PATH,),
    ):
        super().__init__(scope, id_)
        groups = [(g, False) for g in MANAGED_RULE_GROUPS] + [(g, True) for g in MONITORED_RULE_GROUPS]
        rules: list[Wafv2WebAclRule] = []
        for group, count_only in groups:
            rules.append(
                Wafv2WebAclRule(
                    name=group,
                    priority=len(rules) + 1,
                    override_action=Wafv2WebAclRuleOverrideAction(
                        count=Wafv2WebAclRuleOverrideActionCount() if count_only else None,
                        none=None if count_only else Wafv2WebAclRuleOverrideActionNone(),
                    ),
                    # `statement` is untyped in the bindings: it is written in Terraform's own keys.
                    statement=_managed_group(group, count_large_bodies=bool(large_body_paths)),
                    visibility_config=_visibility(group),
                )
            )
            if group == COMMON_RULE_SET and large_body_paths and EVERY_PATH not in large_body_paths:
                # Right after the group whose label it reads: labels reach only later rules.
                rules.append(
                    Wafv2WebAclRule(
                        name=BODY_SIZE_RULE_NAME,
                        priority=len(rules) + 1,
                        action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                        statement=_large_bodies_elsewhere(large_body_paths),
                        visibility_config=_visibility(BODY_SIZE_RULE_NAME),
                    )
                )
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
        acl_arn = acl.arn
        Wafv2WebAclAssociation(self, "association", resource_arn=load_balancer_arn, web_acl_arn=acl_arn)
        # WAF only delivers to log groups whose name starts with aws-waf-logs-.
        logs = encrypted_log_group(
            self, "logs", name=f"aws-waf-logs-{name}", key=key, retention_days=retention_days
        )
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=acl_arn,
            log_destination_configs=[logs.arn],
            # One block per field: the API takes one field per redacted_fields entry. A struct given
            # as a dict is read by its jsii (camelCase) keys; synthesized, it is single_header.
            redacted_fields=[{"singleHeader": {"name": header}} for header in REDACTED_HEADERS],
        )


def _managed_group(group: str, *, count_large_bodies: bool) -> dict[str, Any]:
    statement: dict[str, Any] = {"name": group, "vendor_name": "AWS"}
    if group == COMMON_RULE_SET and count_large_bodies:
        # Count instead of block: the rule still labels the request, for BODY_SIZE_RULE_NAME.
        statement["rule_action_override"] = [{"name": BODY_SIZE_RULE, "action_to_use": {"count": {}}}]
    return {"managed_rule_group_statement": statement}


def _large_bodies_elsewhere(paths: Sequence[str]) -> dict[str, Any]:
    """Matches a request the Common Rule Set labelled as over 8 KB whose path starts with none of
    `paths`. The path is URL-decoded and normalized first (no //, /./, /../), so that a
    /v1/documents/../admin does not pass as an upload. Three levels of nesting, the most the
    provider's schema takes (hashicorp/aws internal/service/wafv2/consts.go)."""
    prefixes = [
        {
            "byte_match_statement": {
                "positional_constraint": "STARTS_WITH",
                "search_string": path,
                "field_to_match": {"uri_path": {}},
                "text_transformation": [
                    {"priority": 0, "type": "URL_DECODE"},
                    {"priority": 1, "type": "NORMALIZE_PATH"},
                ],
            }
        }
        for path in paths
    ]
    upload = prefixes[0] if len(prefixes) == 1 else {"or_statement": {"statement": prefixes}}
    return {
        "and_statement": {
            "statement": [
                {"label_match_statement": {"scope": "LABEL", "key": BODY_SIZE_LABEL}},
                {"not_statement": {"statement": [upload]}},
            ]
        }
    }
