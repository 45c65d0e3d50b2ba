"""The environment's VPC: public subnets for the load balancer and NAT, private subnets for
tasks and Redis, flow logs, and a default security group that admits nothing."""

from __future__ import annotations

import ipaddress

from constructs import Construct

from infrakit.cdk import (
    DataAwsIamPolicyDocument,
    DefaultSecurityGroup,
    Eip,
    FlowLog,
    IamRole,
    IamRolePolicy,
    InternetGateway,
    NatGateway,
    RouteTable,
    RouteTableAssociation,
    RouteTableRoute,
    SecurityGroup,
    Subnet,
    Vpc,
    VpcEndpoint,
    VpcSecurityGroupIngressRule,
)
from infrakit.config.aws import AwsSettings
from infrakit.constructs.aws.encryption_key import EnvironmentKey
from infrakit.constructs.aws.log_group import encrypted_log_group
from infrakit.constructs.aws.policy import assume_role_policy, statement

ANYWHERE = "0.0.0.0/0"

# The AWS APIs every task reaches, with [aws] vpc_endpoints = true, through an interface endpoint
# instead of a NAT gateway: image pulls (ECR api and dkr), the awslogs driver (logs) and the secrets
# injected at start (secretsmanager). Fargate platform 1.4.0 needs exactly these for ECR images and
# Secrets Manager secrets, plus the S3 gateway endpoint for the image layers (ECS developer guide,
# "Migrating to Linux platform version 1.4.0"; ECR user guide, "Amazon ECR interface VPC endpoints").
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager")


def default_route(**target: str) -> RouteTableRoute:
    """The route to anywhere through `target` (gateway_id=... or nat_gateway_id=...).

    `route` is a list of objects to Terraform, and each object must name every attribute of the
    provider's schema. The binding writes null for each unset one except odb_network_arn (new in
    hashicorp/aws 6.x, optional and computed), which it leaves out; Terraform would then refuse
    the plan ("attribute odb_network_arn is required"). The empty string is what the provider
    stores for a route without one.
    """
    return RouteTableRoute(cidr_block=ANYWHERE, odb_network_arn="", **target)


def subnet_cidrs(vpc_cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """Public and private CIDRs, one of each per AZ: 16 equal blocks, publics first, privates from 8."""
    blocks = [str(b) for b in ipaddress.ip_network(vpc_cidr).subnets(prefixlen_diff=4)]
    return blocks[:zones], blocks[8 : 8 + zones]


class PrivateNetwork(Construct):
    def __init__(self, scope: Construct, id_: str, *, name: str, settings: AwsSettings, key: EnvironmentKey):
        super().__init__(scope, id_)
        vpc = Vpc(
            self,
            "vpc",
            cidr_block=settings.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": name},
        )
        self.vpc_id = vpc_id = vpc.id
        # Nothing may use the default security group: every resource gets its own.
        DefaultSecurityGroup(self, "default-sg", vpc_id=vpc_id, tags={"Name": f"{name}-default-unused"})

        gateway = InternetGateway(self, "igw", vpc_id=vpc_id, tags={"Name": name})
        public_route_table_id = RouteTable(
            self,
            "public-routes",
            vpc_id=vpc_id,
            route=[default_route(gateway_id=gateway.id)],
            tags={"Name": f"{name}-public"},
        ).id

        public_cidrs, private_cidrs = subnet_cidrs(settings.vpc_cidr, len(settings.availability_zones))
        self.public_subnet_ids: list[str] = []
        self.private_subnet_ids: list[str] = []
        nat_ids: list[str] = []
        private_route_table_ids: list[str] = []
        for index, (public_cidr, private_cidr) in enumerate(zip(public_cidrs, private_cidrs, strict=True)):
            zone = settings.availability_zones[index]
            public_subnet_id = Subnet(
                self,
                f"public-{index}",
                vpc_id=vpc_id,
                cidr_block=public_cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,  # only the load balancer and NAT live here
                tags={"Name": f"{name}-public-{index}", "Tier": "public"},
            ).id
            RouteTableAssociation(
                self,
                f"public-{index}-routes",
                subnet_id=public_subnet_id,
                route_table_id=public_route_table_id,
            )
            self.public_subnet_ids.append(public_subnet_id)

            if settings.nat_gateway_per_az or index == 0:
                address = Eip(self, f"nat-{index}-ip", domain="vpc", tags={"Name": f"{name}-nat-{index}"})
                nat = NatGateway(
                    self,
                    f"nat-{index}",
                    allocation_id=address.id,
                    subnet_id=public_subnet_id,
                    tags={"Name": f"{name}-nat-{index}"},
                    depends_on=[gateway],
                )
                nat_ids.append(nat.id)

            private_subnet_id = Subnet(
                self,
                f"private-{index}",
                vpc_id=vpc_id,
                cidr_block=private_cidr,
                availability_zone=zone,
                tags={"Name": f"{name}-private-{index}", "Tier": "private"},
            ).id
            private_route_table_id = RouteTable(
                self,
                f"private-{index}-routes",
                vpc_id=vpc_id,
                route=[default_route(nat_gateway_id=nat_ids[-1])],
                tags={"Name": f"{name}-private-{index}"},
            ).id
            RouteTableAssociation(
                self,
                f"private-{index}-association",
                subnet_id=private_subnet_id,
                route_table_id=private_route_table_id,
            )
            self.private_subnet_ids.append(private_subnet_id)
            private_route_table_ids.append(private_route_table_id)

        if settings.vpc_endpoints:
            self._endpoints(name, vpc_id, settings, private_route_table_ids)
        self._flow_logs(name, vpc_id, settings, key)

    def _endpoints(self, name: str, vpc_id: str, settings: AwsSettings, route_table_ids: list[str]) -> None:
        """An S3 gateway endpoint on the private route tables, and an interface endpoint per service
        in INTERFACE_ENDPOINTS: in every private subnet, private DNS on (so the SDKs' usual names
        resolve to it), behind a security group that admits HTTPS from the VPC alone.

        The gateway endpoint adds a prefix-list route to each private route table; the provider's
        aws_route_table leaves such routes to aws_vpc_endpoint (internal/service/ec2/vpc_route_table.go,
        flattenRoutes), so the inline default routes above and the endpoint do not fight. Tasks
        already send 443 to 0.0.0.0/0, which covers the endpoints' addresses and S3's prefix list.
        """
        security_group_id = SecurityGroup(
            self,
            "endpoints-security-group",
            name=f"{name}-endpoints",
            description=f"{name} VPC interface endpoints: HTTPS from the VPC only",
            vpc_id=vpc_id,
            tags={"Name": f"{name}-endpoints"},
        ).id
        VpcSecurityGroupIngressRule(
            self,
            "endpoints-https-from-vpc",
            security_group_id=security_group_id,
            cidr_ipv4=settings.vpc_cidr,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="HTTPS to the VPC endpoints from inside the VPC",
        )
        VpcEndpoint(
            self,
            "endpoint-s3",
            vpc_id=vpc_id,
            service_name=f"com.amazonaws.{settings.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=route_table_ids,
            tags={"Name": f"{name}-s3"},
        )
        for service in INTERFACE_ENDPOINTS:
            VpcEndpoint(
                self,
                f"endpoint-{service.replace('.', '-')}",
                vpc_id=vpc_id,
                service_name=f"com.amazonaws.{settings.region}.{service}",
                vpc_endpoint_type="Interface",
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[security_group_id],
                private_dns_enabled=True,
                tags={"Name": f"{name}-{service}"},
            )

    def _flow_logs(self, name: str, vpc_id: str, settings: AwsSettings, key: EnvironmentKey) -> None:
        log_group = encrypted_log_group(
            self,
            "flow-log-group",
            name=f"/infrakit/{name}/vpc-flow-logs",
            key=key,
            retention_days=settings.log_retention_days,
        )
        # Against the confused deputy, the VPC user guide ("IAM role for publishing flow logs to
        # CloudWatch Logs") recommends aws:SourceAccount and the flow log's ARN as aws:SourceArn. The
        # flow log names this role, so its ID is unknown here: the guide allows a wildcard for it.
        role = IamRole(
            self,
            "flow-log-role",
            name=f"{name}-vpc-flow-logs",
            assume_role_policy=assume_role_policy(
                self,
                "flow-log-trust",
                "vpc-flow-logs.amazonaws.com",
                source_account=key.account_id,
                source_arn=f"arn:{key.partition}:ec2:{key.region}:{key.account_id}:vpc-flow-log/*",
            ),
        )
        log_group_arn = log_group.arn
        write_logs = DataAwsIamPolicyDocument(
            self,
            "flow-log-write",
            statement=[
                statement(
                    ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    [log_group_arn, f"{log_group_arn}:*"],
                )
            ],
        )
        IamRolePolicy(self, "flow-log-policy", role=role.id, policy=write_logs.json)
        FlowLog(
            self,
            "flow-log",
            vpc_id=vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group_arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
        )
