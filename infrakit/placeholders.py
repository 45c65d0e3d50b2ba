"""Example values in environment files, which a first deploy must not reach.

The shipped cloud environments hold values that are valid syntax, so that synth, tests and the
policy scan run on them, but name nothing real. Deployed, each fails only after the VPC, NAT
gateways and load balancer already exist: a half-built environment. Preflight refuses them first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from infrakit.config.models import EnvironmentConfig

ZERO_UUID = "00000000-0000-0000-0000-000000000000"
# RFC 2606 and 6761: names reserved for examples, which no one can own.
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TOP_LEVEL = ("example", "test", "invalid", "localhost")
# Account ids of documentation examples: one digit repeated, or AWS's own 123456789012.
_EXAMPLE_ACCOUNT = re.compile(r"^(\d)\1{11}$|^123456789012$")
_EXAMPLE_WORD = re.compile(r"(^|[-_.])(acme|example|placeholder|changeme|replace-?me)([-_.]|$)", re.I)
_EXAMPLE_ZONE = re.compile(r"^Z0+$")


@dataclass(frozen=True)
class Placeholder:
    key: str  # the dotted key in the environment file
    value: str  # never a secret: these keys hold names and ids only
    replace_with: str


def find_placeholders(config: EnvironmentConfig) -> list[Placeholder]:
    """Every example value in the config, in file order."""
    found: list[Placeholder] = []

    def flag(key: str, value: str | None, is_example: bool, replace_with: str) -> None:
        if value is not None and is_example:
            found.append(Placeholder(key, value, replace_with))

    if config.state is not None:
        flag(
            "state.bucket",
            config.state.bucket,
            bool(_EXAMPLE_WORD.search(config.state.bucket)),
            "an S3 bucket of yours for Terraform state; scripts/create-state-bucket.sh ENV creates it",
        )
    database = config.database
    if database.backend == "supabase":
        flag(
            "database.organization_id",
            database.organization_id,
            bool(_EXAMPLE_WORD.search(database.organization_id)),
            "your Supabase organization slug, the <slug> in supabase.com/dashboard/org/<slug>",
        )
    vector_store = config.vector_store
    if vector_store.backend == "qdrant_cloud":
        flag(
            "vector_store.package_id",
            vector_store.package_id,
            vector_store.package_id == ZERO_UUID,
            "a package id listed by the qdrant-cloud_booking_packages data source for your region, "
            'or package_name = "free2" instead',
        )
    graph = config.graph
    if graph is not None and graph.backend == "aura":
        flag(
            "graph.project_id",
            graph.project_id,
            graph.project_id == ZERO_UUID,
            "the id of your Aura project, from the Aura console (the project's Settings) or the "
            "neo4jaura_projects data source",
        )
    api = config.api
    if api.backend == "fargate":
        entry = api.load_balancer
        flag(
            "api.load_balancer.domain_name",
            entry.domain_name,
            entry.domain_name is not None and _reserved_domain(entry.domain_name),
            "the name clients will use for the api, in a domain you own, e.g. api.yourcompany.com",
        )
        flag(
            "api.load_balancer.hosted_zone_id",
            entry.hosted_zone_id,
            entry.hosted_zone_id is not None and bool(_EXAMPLE_ZONE.match(entry.hosted_zone_id)),
            "the id of the Route 53 hosted zone holding domain_name "
            "(`aws route53 list-hosted-zones-by-name --dns-name DOMAIN`)",
        )
        flag(
            "api.load_balancer.certificate_arn",
            entry.certificate_arn,
            entry.certificate_arn is not None and _example_arn(entry.certificate_arn),
            "the ARN of your ACM certificate for domain_name, in aws.region; or remove it, and "
            "infrakit requests one",
        )
    if config.alarms is not None:
        for index, email in enumerate(config.alarms.emails):
            flag(
                f"alarms.emails[{index}]",
                email,
                _reserved_domain(email.rpartition("@")[2]),
                "the address of the person or list on call, who accepts the confirmation AWS emails it",
            )
        flag(
            "alarms.sns_topic_arn",
            config.alarms.sns_topic_arn,
            config.alarms.sns_topic_arn is not None and _example_arn(config.alarms.sns_topic_arn),
            "the ARN of your SNS topic for alarms, in aws.region; or remove it and list emails",
        )
    return found


def _reserved_domain(name: str) -> bool:
    name = name.lower().rstrip(".")
    return name.rsplit(".", 1)[-1] in RESERVED_TOP_LEVEL or any(
        name == domain or name.endswith(f".{domain}") for domain in RESERVED_DOMAINS
    )


def _example_arn(arn: str) -> bool:
    parts = arn.split(":")
    account = parts[4] if len(parts) > 4 else ""
    return bool(_EXAMPLE_ACCOUNT.match(account)) or ZERO_UUID in arn
