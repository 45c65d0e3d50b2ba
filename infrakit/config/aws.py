"""Config for the AWS side of cloud environments: account-level settings, remote state,
ElastiCache Redis and ECS Fargate services."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from infrakit.config.types import ImageDigest, Model

Region = Annotated[str, Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")]

# Fargate's valid CPU units and the memory (MiB) each allows.
FARGATE_MEMORY = {
    256: (512, 2048),
    512: (1024, 4096),
    1024: (2048, 8192),
    2048: (4096, 16384),
    4096: (8192, 30720),
}


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        raise PydanticCustomError("cidr", "not a CIDR block: {error}", {"error": str(error)}) from None
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]

# The zone letters each region has, from the AZ IDs AWS lists per region ("AWS Availability Zones",
# https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html).
# In the oldest regions (us-east-1, us-west-1, ap-northeast-1, ca-central-1 among them) an account
# sees only some of these letters, mapped to physical zones per account: the table holds every
# letter any account can see, so a letter outside it is wrong for everyone, while one inside it may
# still be missing from a given account (`aws ec2 describe-availability-zones` tells).
ZONE_LETTERS = {
    "us-east-1": "abcdef",
    "us-east-2": "abc",
    "us-west-1": "abc",
    "us-west-2": "abcd",
    "ca-central-1": "abd",
    "eu-west-1": "abc",
    "eu-west-2": "abc",
    "eu-west-3": "abc",
    "eu-central-1": "abc",
    "eu-north-1": "abc",
    "ap-northeast-1": "acd",
    "ap-south-1": "abc",
    "ap-southeast-1": "abc",
    "ap-southeast-2": "abc",
    "sa-east-1": "abc",
}
# No region has more than six zones (us-east-1 has the most), so for a region missing from the
# table only a letter after f is certainly wrong.
MOST_ZONE_LETTERS = "abcdef"


def zone_letter_problem(region: str, zone: str) -> str | None:
    """Why zone (already known to start with region) cannot exist, or None."""
    letter = zone.removeprefix(region)
    letters = ZONE_LETTERS.get(region, MOST_ZONE_LETTERS)
    if letter in letters:
        return None
    if region in ZONE_LETTERS:
        zones = ", ".join(region + known for known in letters)
        return f"{zone} is not a zone of {region}, which has {zones}"
    return f"{zone} is not a zone of {region}: no AWS region has a zone after {region}f"


class AwsSettings(Model):
    """Where and how the environment's AWS resources live."""

    region: Region
    vpc_cidr: Cidr = "10.0.0.0/16"
    # Named explicitly, so the set never grows when AWS adds a zone to the region.
    availability_zones: list[Annotated[str, Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$")]] = Field(
        min_length=2, max_length=6
    )
    # One NAT gateway is cheaper; one per AZ keeps private subnets online when an AZ fails.
    nat_gateway_per_az: bool = False
    # An S3 gateway endpoint (free) and interface endpoints for ECR (api, dkr), CloudWatch Logs and
    # Secrets Manager (about 7.3 USD a month each per zone, plus data): tasks pull images, write
    # logs and read secrets without the NAT gateways (docs/operations.md).
    vpc_endpoints: StrictBool = False
    log_retention_days: Literal[365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] = 365
    kms_deletion_window_days: int = Field(default=30, ge=7, le=30)
    # Protects the load balancer and keeps log buckets from being destroyed with data in them.
    deletion_protection: bool = True

    @field_validator("availability_zones")
    @classmethod
    def _zones_the_region_has(cls, zones: list[str], info: ValidationInfo) -> list[str]:
        region = info.data.get("region")
        if region is None:
            return zones  # the region itself is invalid, and reported
        unknown = [
            problem
            for zone in zones
            if zone.startswith(region) and (problem := zone_letter_problem(region, zone)) is not None
        ]
        if unknown:
            raise PydanticCustomError(
                "zone_unknown",
                "{problems}; pick zones from `aws ec2 describe-availability-zones --region {region}`",
                {"problems": "; ".join(unknown), "region": region},
            )
        return zones

    @model_validator(mode="after")
    def _room_for_subnets(self) -> AwsSettings:
        strangers = [zone for zone in self.availability_zones if not zone.startswith(self.region)]
        if strangers:
            raise PydanticCustomError(
                "zone_region",
                "availability_zones {zones} are not in region {region}",
                {"zones": ", ".join(strangers), "region": self.region},
            )
        if len(set(self.availability_zones)) != len(self.availability_zones):
            raise PydanticCustomError("zone_duplicate", "availability_zones lists a zone twice")
        if ipaddress.ip_network(self.vpc_cidr).prefixlen > 20:
            raise PydanticCustomError(
                "vpc_cidr", "vpc_cidr must be /20 or larger: each AZ gets a public and a private /24 or more"
            )
        return self


# ElastiCache windows, in UTC (CreateReplicationGroup, ElastiCache API Reference): the maintenance
# window is weekly, "ddd:hh24:mi-ddd:hh24:mi", at least 60 minutes; the snapshot window is daily,
# "hh24:mi-hh24:mi", at least 60 minutes ("Snapshot window must be at least 60 minutes",
# hashicorp/terraform-provider-aws#2153), and ElastiCache refuses one that overlaps the maintenance
# window ("The snapshot window and maintenance window must not overlap", hashicorp/terraform#17247).
# Days are lowercase: ElastiCache stores them so, and the provider keeps them lowercase in state.
WINDOW_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_MINUTES = 24 * 60
_WEEK_MINUTES = 7 * _DAY_MINUTES
_TIME = r"([01]\d|2[0-3]):([0-5]\d)"
_WEEKLY = re.compile(rf"^({'|'.join(WINDOW_DAYS)}):{_TIME}-({'|'.join(WINDOW_DAYS)}):{_TIME}$")
_DAILY = re.compile(rf"^{_TIME}-{_TIME}$")
MINIMUM_WINDOW_MINUTES = 60


def _weekly_span(window: str) -> tuple[int, int]:
    """(start minute of the week from Sunday 00:00, length in minutes) of a valid maintenance window."""
    match = _WEEKLY.match(window)
    assert match is not None
    start_day, start_h, start_m, end_day, end_h, end_m = match.groups()
    start = WINDOW_DAYS.index(start_day) * _DAY_MINUTES + int(start_h) * 60 + int(start_m)
    end = WINDOW_DAYS.index(end_day) * _DAY_MINUTES + int(end_h) * 60 + int(end_m)
    return start, (end - start) % _WEEK_MINUTES


def _daily_span(window: str) -> tuple[int, int]:
    """(start minute of the day, length in minutes) of a valid snapshot window."""
    match = _DAILY.match(window)
    assert match is not None
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    start = start_h * 60 + start_m
    return start, (end_h * 60 + end_m - start) % _DAY_MINUTES


def _maintenance_window(window: str) -> str:
    if not _WEEKLY.match(window):
        raise PydanticCustomError(
            "maintenance_window",
            "maintenance_window '{window}' is not ddd:hh24:mi-ddd:hh24:mi in UTC with a lowercase day "
            '(sun, mon, tue, wed, thu, fri, sat), e.g. "sun:04:00-sun:05:00"',
            {"window": window},
        )
    if (length := _weekly_span(window)[1]) < MINIMUM_WINDOW_MINUTES:
        raise PydanticCustomError(
            "maintenance_window_short",
            "maintenance_window {window} lasts {length} minutes; ElastiCache needs at least 60",
            {"window": window, "length": length},
        )
    return window


def _snapshot_window(window: str) -> str:
    if not _DAILY.match(window):
        raise PydanticCustomError(
            "snapshot_window",
            "snapshot_window '{window}' is not hh24:mi-hh24:mi in UTC, e.g. \"02:00-03:00\"",
            {"window": window},
        )
    if (length := _daily_span(window)[1]) < MINIMUM_WINDOW_MINUTES:
        raise PydanticCustomError(
            "snapshot_window_short",
            "snapshot_window {window} lasts {length} minutes; ElastiCache needs at least 60",
            {"window": window, "length": length},
        )
    return window


_SNS_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$")


def _sns_topic_arn(arn: str) -> str:
    if not _SNS_TOPIC_ARN.match(arn):
        raise PydanticCustomError(
            "sns_topic_arn",
            "'{arn}' is not the ARN of a standard SNS topic: arn:aws:sns:<region>:<account id>:<topic name>",
            {"arn": arn},
        )
    return arn


def _overlap_day(maintenance: str, snapshot: str) -> str | None:
    """The day on which the daily snapshot window first overlaps the weekly maintenance window, or
    None. Windows that only touch (one ends as the other starts) do not overlap."""
    m_start, m_length = _weekly_span(maintenance)
    s_start, s_length = _daily_span(snapshot)
    for index, day in enumerate(WINDOW_DAYS):
        start = index * _DAY_MINUTES + s_start
        if (start - m_start) % _WEEK_MINUTES < m_length or (m_start - start) % _WEEK_MINUTES < s_length:
            return day
    return None


class RemoteState(Model):
    """The S3 bucket holding Terraform state. It is created once, outside infrakit (see README)."""

    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    region: Region
    key_prefix: str = Field(default="infrakit", pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


class ElastiCacheRedis(Model):
    backend: Literal["elasticache"]
    node_type: str = Field(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
    engine_version: Literal["7.0", "7.1"] = "7.1"
    num_cache_clusters: int = Field(default=1, ge=1, le=6)
    automatic_failover: bool = False
    multi_az: bool = False
    snapshot_retention_days: int = Field(default=1, ge=1, le=35)
    # Required: without them ElastiCache picks a random hour, and with apply_immediately = false
    # pending changes land in it. Weekly "sun:04:00-sun:05:00" and daily "02:00-03:00", both UTC,
    # each at least 60 minutes, not overlapping (docs/operations.md).
    maintenance_window: Annotated[str, AfterValidator(_maintenance_window)]
    snapshot_window: Annotated[str, AfterValidator(_snapshot_window)]
    # Delivered as JSON to an encrypted CloudWatch log group each, kept log_retention_days.
    logs: list[Literal["slow-log", "engine-log"]] = Field(default=["slow-log", "engine-log"], max_length=2)
    # ElastiCache events (failover, node replacement, ...) go to this topic. It cannot be
    # infrakit's alarm topic: ElastiCache cannot publish to an encrypted topic (docs/operations.md).
    notification_topic_arn: Annotated[str, AfterValidator(_sns_topic_arn)] | None = None
    # ElastiCache refuses a change to log delivery without it (see docs/operations.md); any other
    # change then lands at once too, not in maintenance_window.
    apply_immediately: bool = False

    @model_validator(mode="after")
    def _failover_needs_replicas(self) -> ElastiCacheRedis:
        if self.automatic_failover and self.num_cache_clusters < 2:
            raise PydanticCustomError(
                "failover", "automatic_failover needs num_cache_clusters >= 2 (a primary and a replica)"
            )
        if self.multi_az and not self.automatic_failover:
            raise PydanticCustomError("multi_az", "multi_az needs automatic_failover = true")
        return self

    @model_validator(mode="after")
    def _windows_apart(self) -> ElastiCacheRedis:
        day = _overlap_day(self.maintenance_window, self.snapshot_window)
        if day is not None:
            raise PydanticCustomError(
                "windows_overlap",
                "snapshot_window {snapshot} overlaps maintenance_window {maintenance} on {day}; "
                "ElastiCache refuses overlapping windows: move one of them",
                {"snapshot": self.snapshot_window, "maintenance": self.maintenance_window, "day": day},
            )
        if len(set(self.logs)) != len(self.logs):
            raise PydanticCustomError("logs_duplicate", "logs lists a log type twice")
        return self

    @property
    def parameter_group_family(self) -> str:
        return "redis7"


def _image_tag(tag: str) -> str:
    if tag == "latest":
        raise PydanticCustomError("image_latest", "image_tag 'latest' moves; pin a version instead")
    return tag


class FargateSizing(Model):
    """Image and size of a Fargate task. Images live in the environment's ECR repositories,
    whose tags are immutable, so a tag names exactly one image."""

    image_tag: Annotated[str, Field(pattern=r"^[\w][\w.-]{0,127}$"), AfterValidator(_image_tag)]
    image_digest: ImageDigest | None = None
    cpu: Literal[256, 512, 1024, 2048, 4096]
    memory_mb: int
    min_count: int = Field(default=1, ge=0, le=100)
    max_count: int = Field(default=2, ge=1, le=100)
    cpu_target_percent: int = Field(default=60, ge=10, le=90)

    @model_validator(mode="after")
    def _fargate_shape(self) -> FargateSizing:
        low, high = FARGATE_MEMORY[self.cpu]
        if not low <= self.memory_mb <= high:
            raise PydanticCustomError(
                "fargate_memory",
                "memory_mb {memory} does not fit cpu {cpu}: Fargate allows {low}-{high} MiB",
                {"memory": self.memory_mb, "cpu": self.cpu, "low": low, "high": high},
            )
        if self.min_count > self.max_count:
            raise PydanticCustomError("scaling", "min_count must not exceed max_count")
        return self


DomainName = Annotated[
    str,
    Field(max_length=253, pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"),
]

# `large_body_paths` (infrakit/constructs/aws/web_firewall.py): "/" covers every path.
EVERY_PATH = "/"
# Each prefix is a byte-match statement with two text transformations, about 22 WCUs; 10 keep the
# web ACL under the 1,500 WCUs its base price covers.
MAX_LARGE_BODY_PATHS = 10
_PATH_PREFIX = re.compile(r"^/[A-Za-z0-9\-._~!$&'()+,;=:@/]*$")


def _path_prefix(value: str) -> str:
    # WAF compares the prefix with the request's path after URL-decoding and normalizing it, and a
    # byte-match search string holds at most 200 bytes (hashicorp/aws internal/service/wafv2/schemas.go).
    if not _PATH_PREFIX.fullmatch(value) or len(value) > 200:
        raise PydanticCustomError(
            "path_prefix",
            '"{value}" is not a path prefix: write a literal path such as /v1/documents, of at most '
            "200 characters, decoded (no %), with no *, ?, # or spaces",
            {"value": value},
        )
    segments = value.split("/")[1:]
    if "" in segments[:-1] or any(s in (".", "..") for s in segments):
        raise PydanticCustomError(
            "path_prefix",
            '"{value}" is not a normalized path (no //, /./ or /../): the firewall compares the '
            "prefix with the normalized request path, so it would never match",
            {"value": value},
        )
    return value


PathPrefix = Annotated[str, AfterValidator(_path_prefix)]


class LoadBalancerSettings(Model):
    """The api's public entry point.

    HTTPS needs a name a certificate can cover, and no ACM certificate can cover the ALB's own
    `*.elb.amazonaws.com` name. So HTTPS comes with `domain_name`: infrakit requests a certificate
    for it, validated through DNS in the Route 53 zone `hosted_zone_id`, and points the name at the
    ALB there. `certificate_arn` brings a certificate of your own for that name instead.
    """

    domain_name: DomainName | None = None
    hosted_zone_id: str | None = Field(default=None, pattern=r"^Z[A-Z0-9]{1,32}$")
    certificate_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$",
    )
    # Plain HTTP sends tokens and data in the clear: only a disposable environment may ask for it.
    allow_plain_http: bool = False
    allowed_cidrs: list[Cidr] = ["0.0.0.0/0"]
    health_check_path: str = Field(default="/healthz", pattern=r"^/")
    # Path prefixes where the web firewall lets request bodies over 8 KB through; elsewhere AWS's
    # Common Rule Set blocks them (SizeRestrictions_BODY). The default, ["/"], lets them through on
    # every path: infrakit cannot know which paths take document uploads, and blocking there would
    # answer 403 to most real uploads. List the api's upload paths to block large bodies elsewhere;
    # [] blocks them everywhere. docs/operations.md "Web firewall".
    large_body_paths: list[PathPrefix] = Field(default=[EVERY_PATH], max_length=MAX_LARGE_BODY_PATHS)

    @field_validator("large_body_paths")
    @classmethod
    def _distinct_paths(cls, paths: list[str]) -> list[str]:
        if EVERY_PATH in paths and len(paths) > 1:
            raise PydanticCustomError(
                "every_path", '"/" already covers every path: list it alone, or list only upload paths'
            )
        if len(set(paths)) != len(paths):
            raise PydanticCustomError("path_twice", "large_body_paths lists a path twice")
        return paths

    @model_validator(mode="after")
    def _https_needs_a_name(self) -> LoadBalancerSettings:
        if self.certificate_arn and not self.domain_name:
            raise PydanticCustomError(
                "certificate_without_domain",
                "certificate_arn needs domain_name: no certificate covers the load balancer's own "
                "*.elb.amazonaws.com name, so clients must reach it by your domain",
            )
        if self.domain_name and not (self.hosted_zone_id or self.certificate_arn):
            raise PydanticCustomError(
                "domain_without_zone",
                "domain_name needs hosted_zone_id (the Route 53 zone holding it), where infrakit "
                "validates a certificate and points the name at the load balancer; or certificate_arn "
                "for a certificate you bring (then point the name at the load balancer yourself)",
            )
        if self.domain_name and self.allow_plain_http:
            raise PydanticCustomError(
                "plain_http_with_domain", "allow_plain_http contradicts domain_name: remove one of them"
            )
        if not self.domain_name and not self.allow_plain_http:
            raise PydanticCustomError(
                "no_https",
                "set domain_name and hosted_zone_id so the api is served over HTTPS; for a disposable "
                "environment, allow_plain_http = true serves plain HTTP instead",
            )
        return self

    @property
    def certificate_region(self) -> str | None:
        return self.certificate_arn.split(":")[3] if self.certificate_arn else None
