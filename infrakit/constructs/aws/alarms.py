"""CloudWatch alarms that reach a person.

An alarm here is declared as an `AlarmRule`: what it watches, when it fires, how it treats missing
data, and a runbook line. `NotifyingAlarms` turns rules into alarms that always notify, on ALARM and
on OK, and the dashboard draws the same rules, so it shows exactly what the alarms judge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from constructs import Construct

from infrakit.cdk import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)

# CloudWatch refuses a longer alarm description.
MAX_DESCRIPTION = 1024
# The id of a metric-math alarm's result among its queries.
RESULT_ID = "result"

Comparison = Literal[
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
]
MissingData = Literal["breaching", "notBreaching", "ignore", "missing"]


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric and how it is aggregated per period."""

    namespace: str
    name: str
    dimensions: Mapping[str, str]
    stat: str  # Average, Sum, Minimum, Maximum, or a percentile such as p99
    period: int = 60

    @property
    def is_percentile(self) -> bool:
        return self.stat.startswith("p")


@dataclass(frozen=True)
class MetricMath:
    """A CloudWatch metric-math expression over named metrics (ids start with a lowercase letter)."""

    expression: str
    inputs: Mapping[str, Metric]
    label: str

    @property
    def period(self) -> int:
        return max(metric.period for metric in self.inputs.values())


Signal = Metric | MetricMath


@dataclass(frozen=True)
class Runbook:
    """One line for whoever is paged: what the alarm means, and the first thing to check."""

    meaning: str
    first_check: str

    def __str__(self) -> str:
        return f"{self.meaning} First check: {self.first_check}"


@dataclass(frozen=True)
class AlarmRule:
    """An alarm, declared. `missing_data` has no default: each rule says what silence means."""

    key: str  # unique in the environment; the alarm is named <environment prefix>-<key>
    title: str  # the dashboard widget's title
    signal: Signal
    comparison: Comparison
    threshold: float
    periods: int  # consecutive periods past the threshold before the alarm fires
    missing_data: MissingData
    runbook: Runbook


class NotifyingAlarms(Construct):
    """One CloudWatch alarm per rule, each sending ALARM and OK to every notification target."""

    def __init__(
        self, scope: Construct, id_: str, *, prefix: str, rules: Sequence[AlarmRule], actions: Sequence[str]
    ):
        super().__init__(scope, id_)
        # Config validation guarantees a target; an alarm that tells no one is a silent failure.
        assert actions, "every alarm needs a notification target"
        self.rules = list(rules)
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        for rule in self.rules:
            assert rule.key not in self.alarms, f"two alarm rules share the key {rule.key}"
            self.alarms[rule.key] = _alarm(self, rule, name=f"{prefix}-{rule.key}", actions=list(actions))

    def name_of(self, key: str) -> str:
        name: str = self.alarms[key].alarm_name
        return name

    @property
    def arns(self) -> list[str]:
        return [alarm.arn for alarm in self.alarms.values()]


def _alarm(scope: Construct, rule: AlarmRule, *, name: str, actions: list[str]) -> CloudwatchMetricAlarm:
    description = str(rule.runbook)
    if len(description) > MAX_DESCRIPTION or "\n" in description:
        raise ValueError(
            f"the runbook of {rule.key} must be one line of at most {MAX_DESCRIPTION} characters"
        )
    plain = rule.signal if isinstance(rule.signal, Metric) else None
    percentile = plain is not None and plain.is_percentile
    return CloudwatchMetricAlarm(
        scope,
        rule.key,
        alarm_name=name,
        alarm_description=description,
        comparison_operator=rule.comparison,
        threshold=rule.threshold,
        evaluation_periods=rule.periods,
        datapoints_to_alarm=rule.periods,
        treat_missing_data=rule.missing_data,
        actions_enabled=True,
        alarm_actions=actions,
        # OK too: whoever was paged learns that it recovered without opening the console.
        ok_actions=actions,
        namespace=plain.namespace if plain else None,
        metric_name=plain.name if plain else None,
        dimensions=dict(plain.dimensions) if plain else None,
        period=plain.period if plain else None,
        statistic=plain.stat if plain and not percentile else None,
        extended_statistic=plain.stat if plain and percentile else None,
        # A p99 over a handful of requests is noise: keep the state until there are enough.
        evaluate_low_sample_count_percentiles="ignore" if percentile else None,
        metric_query=_queries(rule.signal) if isinstance(rule.signal, MetricMath) else None,
    )


def _queries(signal: MetricMath) -> list[CloudwatchMetricAlarmMetricQuery]:
    queries = [
        CloudwatchMetricAlarmMetricQuery(
            id=query_id,
            metric=CloudwatchMetricAlarmMetricQueryMetric(
                namespace=metric.namespace,
                metric_name=metric.name,
                dimensions=dict(metric.dimensions),
                period=metric.period,
                stat=metric.stat,
            ),
            return_data=False,
        )
        for query_id, metric in signal.inputs.items()
    ]
    queries.append(
        CloudwatchMetricAlarmMetricQuery(
            id=RESULT_ID, expression=signal.expression, label=signal.label, return_data=True
        )
    )
    return queries
