"""`[alarms]`: who is told when a cloud environment degrades, and the thresholds that decide it.

Every alarm notifies someone, so a cloud environment names at least one target: email addresses
(infrakit creates the topic and subscribes them) or an SNS topic of your own.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from infrakit.config.types import Model

# Deliberately plain: a deliverable-looking address, without a new dependency. SNS itself sends the
# confirmation that proves the address works. Braces are left out of the local part, so that no address
# can hold a Terraform template sequence.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`|~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
# A standard topic: CloudWatch alarms cannot publish to FIFO topics.
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}$")


def _email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value):
        raise PydanticCustomError(
            "email", "expected an email address, such as oncall@yourcompany.com, who reads the alarms"
        )
    return value


def _topic_arn(value: str) -> str:
    if not _TOPIC_ARN.match(value):
        raise PydanticCustomError(
            "sns_topic_arn",
            "expected the ARN of a standard SNS topic, arn:aws:sns:<region>:<account>:<topic>; "
            "CloudWatch alarms cannot publish to FIFO topics",
        )
    return value


EmailAddress = Annotated[str, AfterValidator(_email)]
SnsTopicArn = Annotated[str, AfterValidator(_topic_arn)]
Percent = Annotated[int, Field(ge=1, le=100)]


class AlarmSettings(Model):
    """Targets and thresholds. Each threshold is a key of its own, with a default that suits a
    small production service; the README lists what each alarm watches."""

    # ----------------------------------------------------------------- who is told
    emails: list[EmailAddress] = Field(default=[], max_length=20)
    sns_topic_arn: SnsTopicArn | None = None

    # ----------------------------------------------------------------- api and worker (ECS)
    service_cpu_percent: Percent = 80
    service_memory_percent: Percent = 85

    # ----------------------------------------------------------------- api entry point (ALB)
    alb_5xx_rate_percent: float = Field(default=5.0, gt=0, le=100)
    # Below this many requests a minute the rate is not judged: 1 error in 3 requests is no outage.
    alb_5xx_min_requests: int = Field(default=20, ge=1, le=1_000_000)
    # An ALB waits for a target at most its idle timeout, 4000 s at the very most.
    alb_p99_response_seconds: float = Field(default=2.0, gt=0, le=4000)

    # ----------------------------------------------------------------- cache/queue (ElastiCache)
    redis_memory_percent: Percent = 80
    redis_engine_cpu_percent: Percent = 80
    redis_replication_lag_seconds: float = Field(default=30, gt=0, le=3600)

    # ----------------------------------------------------------------- firewall (WAF)
    waf_blocked_requests_per_5_minutes: int = Field(default=1000, ge=1)

    # ----------------------------------------------------------------- worker release quality
    worker_error_lines_per_minute: int = Field(default=10, ge=1)
    # A CloudWatch Logs filter pattern: here, lines holding either word. Match your logger's format.
    worker_error_pattern: str = Field(default="?ERROR ?FATAL", min_length=1, max_length=1024)

    @field_validator("emails")
    @classmethod
    def _each_address_once(cls, emails: list[str]) -> list[str]:
        lowered = [email.lower() for email in emails]
        twice = sorted({email for email in lowered if lowered.count(email) > 1})
        if twice:
            raise PydanticCustomError(
                "email_twice", "{emails} listed twice; list each address once", {"emails": ", ".join(twice)}
            )
        return emails

    @model_validator(mode="after")
    def _someone_is_told(self) -> AlarmSettings:
        if not self.emails and self.sns_topic_arn is None:
            raise PydanticCustomError(
                "alarm_target",
                'alarms reach no one: set emails = ["oncall@yourcompany.com"] (each address confirms '
                'the subscription AWS emails it) or sns_topic_arn = "arn:aws:sns:<region>:<account>:<topic>"',
            )
        return self

    @property
    def topic_region(self) -> str | None:
        match = _TOPIC_ARN.match(self.sns_topic_arn) if self.sns_topic_arn else None
        return match.group(1) if match else None
