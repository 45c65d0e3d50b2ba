"""Where alarms send: the environment's own SNS topic, and a topic you bring."""

from __future__ import annotations

import hashlib

from constructs import Construct

from infrakit.cdk import SnsTopic, SnsTopicSubscription
from infrakit.config.alarms import AlarmSettings
from infrakit.constructs.aws.encryption_key import EnvironmentKey


class AlarmNotifications(Construct):
    """With `emails`, a topic encrypted with the environment key, each address subscribed by email
    (AWS sends it a confirmation link; until it is accepted, nothing reaches it). With
    `sns_topic_arn`, that topic too. `arns` lists every topic an alarm must notify.

    The topic keeps SNS's default access policy, which lets this account's CloudWatch alarms
    publish; the key policy lets CloudWatch use the key (encryption_key.py).
    """

    def __init__(
        self, scope: Construct, id_: str, *, name: str, settings: AlarmSettings, key: EnvironmentKey
    ):
        super().__init__(scope, id_)
        self.arns: list[str] = []
        self.topic: SnsTopic | None = None
        if settings.emails:
            self.topic = SnsTopic(self, "topic", name=f"{name}-alarms", kms_master_key_id=key.arn)
            topic_arn = self.topic.arn
            for email in settings.emails:
                SnsTopicSubscription(
                    self,
                    _subscription_id(email),
                    topic_arn=topic_arn,
                    protocol="email",
                    endpoint=email,
                )
            self.arns.append(topic_arn)
        if settings.sns_topic_arn:
            self.arns.append(settings.sns_topic_arn)


def _subscription_id(email: str) -> str:
    # Named by address, not position: removing one address must not replace the others'
    # subscriptions, and with them each person's confirmation.
    return "email-" + hashlib.sha256(email.lower().encode()).hexdigest()[:12]
