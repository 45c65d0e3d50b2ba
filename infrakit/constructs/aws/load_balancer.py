"""The api's public entry point: an ALB in the public subnets."""

from __future__ import annotations

from dataclasses import dataclass, replace

from constructs import Construct

from infrakit.cdk import (
    DataAwsIamPolicyDocument,
    IamRole,
    IamRolePolicy,
    Lb,
    LbAccessLogs,
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionForward,
    LbListenerDefaultActionForwardTargetGroup,
    LbListenerDefaultActionRedirect,
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleActionForward,
    LbListenerRuleActionForwardTargetGroup,
    LbListenerRuleCondition,
    LbListenerRuleConditionHttpHeader,
    LbListenerRuleConditionPathPattern,
    LbTargetGroup,
    LbTargetGroupHealthCheck,
    SecurityGroup,
    TerraformResource,
    TerraformResourceLifecycle,
    VpcSecurityGroupEgressRule,
    VpcSecurityGroupIngressRule,
)
from infrakit.config.aws import AwsSettings, LoadBalancerSettings
from infrakit.config.models import Deployment
from infrakit.constructs.aws.access_log_bucket import PREFIX, AccessLogBucket
from infrakit.constructs.aws.api_domain import ApiDomain
from infrakit.constructs.aws.encryption_key import EnvironmentKey
from infrakit.constructs.aws.network import PrivateNetwork
from infrakit.constructs.aws.policy import assume_role_policy, statement
from infrakit.constructs.aws.web_firewall import WebFirewall
from infrakit.contract import Endpoint

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# Listener rules are evaluated from the lowest priority up: the test rule (one header) before the
# production rule, which matches every path.
TEST_RULE_PRIORITY = 10
PRODUCTION_RULE_PRIORITY = 100


@dataclass(frozen=True)
class TrafficShift:
    """What ECS needs to move the api's traffic itself, in a blue/green or canary deployment: the
    alternate target group, the listener rules it reweights, and the role it does so with.

    The service must come after `prerequisites`, the rules and the role's policy. A deployment,
    the service's first included, fails ("invalid networking configuration") unless both target
    groups are associated with the production or test listener rule, and ECS assumes the role to
    register targets and to reweight the rules (ECS developer guide, "Troubleshooting Amazon ECS
    blue/green deployments"); naming their ARNs orders neither, and IAM is eventually consistent.
    """

    alternate_target_group_arn: str
    production_rule_arn: str
    test_rule_arn: str | None
    role_arn: str
    prerequisites: tuple[TerraformResource, ...]


@dataclass(frozen=True)
class TargetGroupRoute:
    """A target group and the listeners that forward to it; with `shift`, the second target group
    and listener rules a blue/green or canary deployment moves traffic with.

    An ECS service that registers into the group must come after those listeners: until one
    exists, CreateService fails with "target group ... does not have an associated load
    balancer", which the AWS provider retries for about 4 minutes only, and the HTTPS listener
    waits for ACM to validate the certificate, which can take longer.
    """

    target_group_arn: str
    listeners: tuple[LbListener, ...]
    shift: TrafficShift | None = None


class PublicLoadBalancer(Construct):
    """HTTPS on the api's domain (HTTP then only redirects); plain HTTP only where the environment
    asks for it with `allow_plain_http`.

    Invalid headers are dropped and every request is logged to an access log bucket, which the
    load balancer waits for (its policy). `route` is the target group with the listener that
    forwards to it, for the service that registers there; `route_for` adds what a blue/green or
    canary deployment needs.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        settings: LoadBalancerSettings,
        target_port: int,
        network: PrivateNetwork,
        key: EnvironmentKey,
        aws: AwsSettings,
    ):
        super().__init__(scope, id_)
        self._name, self._settings, self._target_port, self._network = name, settings, target_port, network
        self._shift: TrafficShift | None = None
        domain = ApiDomain(self, "domain", settings=settings) if settings.domain_name else None
        certificate_arn = domain.certificate_arn if domain else None
        self.security_group_id = SecurityGroup(
            self,
            "security-group",
            name=f"{name}-alb",
            description=f"{name} load balancer",
            vpc_id=network.vpc_id,
            tags={"Name": f"{name}-alb"},
        ).id
        listener_ports = [443, 80] if certificate_arn else [80]
        for port in listener_ports:
            for index, cidr in enumerate(settings.allowed_cidrs):
                VpcSecurityGroupIngressRule(
                    self,
                    f"in-{port}-{index}",
                    security_group_id=self.security_group_id,
                    cidr_ipv4=cidr,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    description="HTTPS from clients" if port == 443 else "HTTP from clients",
                )

        logs = AccessLogBucket(
            self,
            "access-logs",
            name=f"{name}-alb-logs-{key.account_id}",  # bucket names are global
            key=key,
            region=aws.region,
            retention_days=aws.log_retention_days,
            protect=aws.deletion_protection,
        )
        self.balancer = balancer = Lb(
            self,
            "alb",
            name=f"{name}-api",
            load_balancer_type="application",
            internal=False,
            subnets=network.public_subnet_ids,
            security_groups=[self.security_group_id],
            drop_invalid_header_fields=True,
            enable_deletion_protection=aws.deletion_protection,
            access_logs=LbAccessLogs(bucket=logs.name, prefix=PREFIX, enabled=True),
            # The bucket name alone does not wait for the policy that lets ELB write there.
            depends_on=[logs.policy],
        )
        balancer_arn = balancer.arn
        self.target_group = self._target_group("targets", f"{name}-api")
        self.target_groups: tuple[LbTargetGroup, ...] = (self.target_group,)
        target_group_arn = self.target_group.arn
        forward = [LbListenerDefaultAction(type="forward", target_group_arn=target_group_arn)]
        if certificate_arn:
            forwarding = LbListener(
                self,
                "https",
                load_balancer_arn=balancer_arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=certificate_arn,
                default_action=forward,
            )
            LbListener(
                self,
                "http",
                load_balancer_arn=balancer_arn,
                port=80,
                protocol="HTTP",
                default_action=[
                    LbListenerDefaultAction(
                        type="redirect",
                        redirect=LbListenerDefaultActionRedirect(
                            port="443", protocol="HTTPS", status_code="HTTP_301"
                        ),
                    )
                ],
            )
        else:
            forwarding = LbListener(
                self, "http", load_balancer_arn=balancer_arn, port=80, protocol="HTTP", default_action=forward
            )
        self._forwarding = forwarding
        self.route = TargetGroupRoute(target_group_arn, (forwarding,))
        self.firewall = WebFirewall(
            self,
            "firewall",
            name=f"{name}-api",
            load_balancer_arn=balancer_arn,
            key=key,
            retention_days=aws.log_retention_days,
            large_body_paths=settings.large_body_paths,
        )
        if domain:
            domain.point_at(balancer)
            self.api_url = Endpoint.everywhere(f"https://{domain.domain_name}")
        else:
            self.api_url = Endpoint.everywhere(f"http://{balancer.dns_name}")

    def forward_to(self, security_group_id: str, port: int) -> None:
        VpcSecurityGroupEgressRule(
            self,
            "out-to-api",
            security_group_id=self.security_group_id,
            referenced_security_group_id=security_group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description="to api tasks",
        )

    def route_for(self, deployment: Deployment) -> TargetGroupRoute:
        """The route the api's service registers through for its deployment strategy: `route` for
        `rolling`; for `blue_green` and `canary`, with the traffic shift (created on the first call)."""
        if deployment.strategy == "rolling":
            return self.route
        if self._shift is None:
            self._shift = self._traffic_shift(deployment.test_header)
        return replace(self.route, shift=self._shift)

    def _target_group(self, id_: str, name: str) -> LbTargetGroup:
        return LbTargetGroup(
            self,
            id_,
            name=name,
            target_type="ip",
            protocol="HTTP",
            port=self._target_port,
            vpc_id=self._network.vpc_id,
            deregistration_delay="30",
            health_check=LbTargetGroupHealthCheck(
                path=self._settings.health_check_path,
                matcher="200-399",
                interval=15,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
        )

    def _traffic_shift(self, test_header: str | None) -> TrafficShift:
        """The resources an ECS blue/green or canary deployment moves the api's traffic with (ECS
        developer guide, "Application Load Balancer resources for blue/green, linear, and canary
        deployments" and "Troubleshooting Amazon ECS blue/green deployments"):

        - a second (alternate) target group like the first: ECS starts each new revision's tasks in
          whichever of the two serves no production traffic, so the groups swap roles every
          deployment and neither is "green" for good;
        - a production listener RULE on the forwarding listener (ECS takes a rule's ARN for an ALB,
          never the listener's), forwarding to both groups with weights 100 and 0: ECS requires
          exactly one group with a non-zero weight when a deployment starts, and both groups
          associated with the production or the test rule. It matches every path, so no request
          reaches the listener's default action; that forwards to both groups the same way (a
          forward still: ECS refuses listeners that mix forward with other action types), which
          keeps both attached to the listener itself for the policy checks (checkov CKV_AWS_378
          judges an HTTP target group by the listener that forwards to it, not by its rules);
        - optionally a test rule, for requests carrying `test_header`, evaluated first: ECS points
          it at the new revision at the TEST_TRAFFIC_SHIFT stage, before production moves;
        - the role ECS assumes to reweight the rules and register targets.

        ECS rewrites the rules' weights on every deployment, so Terraform ignores changes to their
        actions: a plan that "restored" 100/0 after a deployment would send production traffic to
        the group ECS has just emptied (terraform-aws-modules/terraform-aws-alb#409).
        """
        name = self._name
        alternate = self._target_group("alternate-targets", f"{name}-api-alt")
        self.target_groups = (self.target_group, alternate)
        target_group_arn, alternate_arn = self.route.target_group_arn, alternate.arn
        forwarding_arn = self._forwarding.arn
        forward = [
            LbListenerRuleAction(
                type="forward",
                forward=LbListenerRuleActionForward(
                    target_group=[
                        LbListenerRuleActionForwardTargetGroup(arn=target_group_arn, weight=100),
                        LbListenerRuleActionForwardTargetGroup(arn=alternate_arn, weight=0),
                    ]
                ),
            )
        ]
        self._forwarding.put_default_action(
            [
                LbListenerDefaultAction(
                    type="forward",
                    forward=LbListenerDefaultActionForward(
                        target_group=[
                            LbListenerDefaultActionForwardTargetGroup(arn=target_group_arn, weight=100),
                            LbListenerDefaultActionForwardTargetGroup(arn=alternate_arn, weight=0),
                        ]
                    ),
                )
            ]
        )
        moved_by_ecs = TerraformResourceLifecycle(ignore_changes=["action"])
        production = LbListenerRule(
            self,
            "production-rule",
            listener_arn=forwarding_arn,
            priority=PRODUCTION_RULE_PRIORITY,
            condition=[
                LbListenerRuleCondition(path_pattern=LbListenerRuleConditionPathPattern(values=["/*"]))
            ],
            action=forward,
            lifecycle=moved_by_ecs,
        )
        rules = [production]
        if test_header:
            rules.append(
                LbListenerRule(
                    self,
                    "test-rule",
                    listener_arn=forwarding_arn,
                    priority=TEST_RULE_PRIORITY,
                    condition=[
                        LbListenerRuleCondition(
                            http_header=LbListenerRuleConditionHttpHeader(
                                http_header_name=test_header, values=["*"]
                            )
                        )
                    ],
                    action=forward,
                    lifecycle=moved_by_ecs,
                )
            )
        rule_arns = [rule.arn for rule in rules]  # production's, then the test rule's
        # Trust as the ECS developer guide writes it for this role ("Amazon ECS infrastructure IAM
        # role for load balancers"): ecs.amazonaws.com, with no aws:SourceAccount or aws:SourceArn.
        # No ECS page says ECS sends either key when it assumes an infrastructure role, and a
        # condition on a key it does not send fails every deployment at its first load balancer
        # stage (infrakit/constructs/aws/policy.py). What the role may do is scoped instead, to
        # this load balancer's two target groups, listener and rules, so that no other service
        # passing it could touch anything else.
        role = IamRole(
            self,
            "traffic-shift-role",
            name=f"{name}-api-traffic-shift",
            assume_role_policy=assume_role_policy(self, "traffic-shift-trust", "ecs.amazonaws.com"),
        )
        # The statements of the AWS managed policy AmazonECSInfrastructureRolePolicyForLoadBalancers
        # (v6, AWS Managed Policy Reference), each on this load balancer's resources instead of every
        # target group, listener and rule in the account. The Describe actions support no
        # resource-level permissions, so "*" is their only form.
        permissions = DataAwsIamPolicyDocument(
            self,
            "traffic-shift-permissions",
            statement=[
                statement(
                    [
                        "elasticloadbalancing:DescribeListeners",
                        "elasticloadbalancing:DescribeRules",
                        "elasticloadbalancing:DescribeTargetGroups",
                        "elasticloadbalancing:DescribeTargetHealth",
                    ],
                    ["*"],
                ),
                statement(
                    ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
                    [target_group_arn, alternate_arn],
                ),
                statement(["elasticloadbalancing:ModifyListener"], [forwarding_arn]),
                statement(["elasticloadbalancing:ModifyRule"], rule_arns),
            ],
        )
        policy = IamRolePolicy(self, "traffic-shift-policy", role=role.id, policy=permissions.json)
        return TrafficShift(
            alternate_target_group_arn=alternate_arn,
            production_rule_arn=rule_arns[0],
            test_rule_arn=rule_arns[1] if len(rule_arns) > 1 else None,
            role_arn=role.arn,
            prerequisites=(*rules, policy),
        )
