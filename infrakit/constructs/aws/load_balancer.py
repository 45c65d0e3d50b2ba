"""The api's public entry point: an ALB in the public subnets."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from infrakit.cdk import (
    Lb,
    LbAccessLogs,
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionRedirect,
    LbTargetGroup,
    LbTargetGroupHealthCheck,
    SecurityGroup,
    VpcSecurityGroupEgressRule,
    VpcSecurityGroupIngressRule,
)
from infrakit.config.aws import AwsSettings, LoadBalancerSettings
from infrakit.constructs.aws.access_log_bucket import PREFIX, AccessLogBucket
from infrakit.constructs.aws.api_domain import ApiDomain
from infrakit.constructs.aws.encryption_key import EnvironmentKey
from infrakit.constructs.aws.network import PrivateNetwork
from infrakit.constructs.aws.web_firewall import WebFirewall
from infrakit.contract import Endpoint

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass(frozen=True)
class TargetGroupRoute:
    """A target group and the listeners that forward to it.

    An ECS service that registers into the group must come after those listeners: until one
    exists, CreateService fails with "target group ... does not have an associated load
    balancer", which the AWS provider retries for about 4 minutes only, and the HTTPS listener
    waits for ACM to validate the certificate, which can take longer.
    """

    target_group_arn: str
    listeners: tuple[LbListener, ...]


class PublicLoadBalancer(Construct):
    """HTTPS on the api's domain (HTTP then only redirects); plain HTTP only where the environment
    asks for it with `allow_plain_http`.

    Invalid headers are dropped and every request is logged to an access log bucket, which the
    load balancer waits for (its policy). `route` is the target group with the listener that
    forwards to it, for the service that registers there.
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
        domain = ApiDomain(self, "domain", settings=settings) if settings.domain_name else None
        certificate_arn = domain.certificate_arn if domain else None
        self.security_group = SecurityGroup(
            self,
            "security-group",
            name=f"{name}-alb",
            description=f"{name} load balancer",
            vpc_id=network.vpc_id,
            tags={"Name": f"{name}-alb"},
        )
        listener_ports = [443, 80] if certificate_arn else [80]
        for port in listener_ports:
            for index, cidr in enumerate(settings.allowed_cidrs):
                VpcSecurityGroupIngressRule(
                    self,
                    f"in-{port}-{index}",
                    security_group_id=self.security_group.id,
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
            security_groups=[self.security_group.id],
            drop_invalid_header_fields=True,
            enable_deletion_protection=aws.deletion_protection,
            access_logs=LbAccessLogs(bucket=logs.name, prefix=PREFIX, enabled=True),
            # The bucket name alone does not wait for the policy that lets ELB write there.
            depends_on=[logs.policy],
        )
        self.target_group = LbTargetGroup(
            self,
            "targets",
            name=f"{name}-api",
            target_type="ip",
            protocol="HTTP",
            port=target_port,
            vpc_id=network.vpc_id,
            deregistration_delay="30",
            health_check=LbTargetGroupHealthCheck(
                path=settings.health_check_path,
                matcher="200-399",
                interval=15,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
        )
        forward = [LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)]
        if certificate_arn:
            forwarding = LbListener(
                self,
                "https",
                load_balancer_arn=balancer.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=certificate_arn,
                default_action=forward,
            )
            LbListener(
                self,
                "http",
                load_balancer_arn=balancer.arn,
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
                self, "http", load_balancer_arn=balancer.arn, port=80, protocol="HTTP", default_action=forward
            )
        self.route = TargetGroupRoute(self.target_group.arn, (forwarding,))
        self.firewall = WebFirewall(
            self,
            "firewall",
            name=f"{name}-api",
            load_balancer_arn=balancer.arn,
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
            security_group_id=self.security_group.id,
            referenced_security_group_id=security_group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description="to api tasks",
        )
