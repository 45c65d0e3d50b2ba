"""The api's own name: a DNS-validated ACM certificate for it, and a Route 53 alias to the ALB."""

from __future__ import annotations

from constructs import Construct

from infrakit.cdk import (
    AcmCertificate,
    AcmCertificateOptions,
    AcmCertificateValidation,
    Lb,
    Route53Record,
    Route53RecordAlias,
    TerraformResourceLifecycle,
)
from infrakit.config.aws import LoadBalancerSettings

VALIDATION_TTL_SECONDS = 300


class ApiDomain(Construct):
    """`certificate_arn` is the certificate to serve: the one brought in config, or one requested
    here and usable only once DNS has validated it (listeners wait for that)."""

    def __init__(self, scope: Construct, id_: str, *, settings: LoadBalancerSettings):
        super().__init__(scope, id_)
        assert settings.domain_name, "validated: an ApiDomain needs domain_name"
        self.domain_name = settings.domain_name
        self.hosted_zone_id = settings.hosted_zone_id
        if settings.certificate_arn:
            self.certificate_arn: str = settings.certificate_arn
            return
        assert self.hosted_zone_id, "validated: a requested certificate needs hosted_zone_id"
        certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=self.domain_name,
            validation_method="DNS",
            options=AcmCertificateOptions(certificate_transparency_logging_preference="ENABLED"),
            # A replacement is issued and attached before the old one is deleted: no outage.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        # One name, so one validation record; `get(0)` reads the provider's set through tolist().
        option = certificate.domain_validation_options.get(0)
        record = Route53Record(
            self,
            "validation-record",
            zone_id=self.hosted_zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=VALIDATION_TTL_SECONDS,
            allow_overwrite=True,  # the same record validates a re-requested certificate
        )
        self.certificate_arn = AcmCertificateValidation(
            self,
            "validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn],
        ).certificate_arn

    def point_at(self, balancer: Lb) -> None:
        """An alias A record for the name, where infrakit manages the zone."""
        if not self.hosted_zone_id:
            return
        Route53Record(
            self,
            "alias",
            zone_id=self.hosted_zone_id,
            name=self.domain_name,
            type="A",
            alias=Route53RecordAlias(
                name=balancer.dns_name, zone_id=balancer.zone_id, evaluate_target_health=True
            ),
        )
