"""One CloudWatch dashboard per environment: the state of every alarm, then a graph per alarm of
the very signal it judges, with its threshold drawn in. Built from the alarm rules, so the two
cannot drift apart."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from constructs import Construct

from infrakit.cdk import CloudwatchDashboard
from infrakit.constructs.aws.alarms import RESULT_ID, AlarmRule, Metric, MetricMath

COLUMNS = 3
GRID_WIDTH = 24  # CloudWatch's dashboard grid
WIDGET_WIDTH = GRID_WIDTH // COLUMNS
WIDGET_HEIGHT = 6
STATUS_HEIGHT = 6


class EnvironmentDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        rules: Sequence[AlarmRule],
        alarm_arns: Sequence[str],
        region: str,
    ):
        super().__init__(scope, id_)
        self.dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=name,
            dashboard_body=dashboard_body(rules, alarm_arns=alarm_arns, region=region),
        )


def dashboard_body(rules: Sequence[AlarmRule], *, alarm_arns: Sequence[str], region: str) -> str:
    """The body as JSON text. Terraform references sit inside its strings (names, ARNs and ARN
    suffixes, which hold no quote or backslash), so Terraform's template evaluation leaves valid JSON;
    a test evaluates it with `terraform console`."""
    widgets: list[dict[str, Any]] = [
        {
            "type": "alarm",
            "x": 0,
            "y": 0,
            "width": GRID_WIDTH,
            "height": STATUS_HEIGHT,
            "properties": {"title": "Alarms", "alarms": list(alarm_arns)},
        }
    ]
    for index, rule in enumerate(rules):
        widgets.append(
            {
                "type": "metric",
                "x": (index % COLUMNS) * WIDGET_WIDTH,
                "y": STATUS_HEIGHT + (index // COLUMNS) * WIDGET_HEIGHT,
                "width": WIDGET_WIDTH,
                "height": WIDGET_HEIGHT,
                "properties": _graph(rule, region),
            }
        )
    return json.dumps({"widgets": widgets}, sort_keys=True)


def _graph(rule: AlarmRule, region: str) -> dict[str, Any]:
    signal = rule.signal
    if isinstance(signal, MetricMath):
        rows = [_row(metric, query_id=query_id, visible=False) for query_id, metric in signal.inputs.items()]
        rows.append([{"expression": signal.expression, "label": signal.label, "id": RESULT_ID}])
        period = signal.period
    else:
        rows = [_row(signal)]
        period = signal.period
    return {
        "title": rule.title,
        "view": "timeSeries",
        "region": region,
        "period": period,
        "metrics": rows,
        "annotations": {"horizontal": [{"label": f"alarm: {rule.key}", "value": rule.threshold}]},
    }


def _row(metric: Metric, *, query_id: str | None = None, visible: bool = True) -> list[Any]:
    """[namespace, name, dimension name, value, ..., options], CloudWatch's metric widget form."""
    row: list[Any] = [metric.namespace, metric.name]
    for dimension, value in metric.dimensions.items():
        row += [dimension, value]
    options: dict[str, Any] = {"stat": metric.stat, "period": metric.period}
    if query_id is not None:
        options["id"] = query_id
    if not visible:
        options["visible"] = False
    row.append(options)
    return row
