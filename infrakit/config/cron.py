"""Cron schedules in environment files: five fields, checked here so that a schedule that can never
fire, or that the provider cannot parse, fails at synth instead of at apply.

The grammar is the common five-field one (crontab(5), and the standard parser of robfig/cron,
which Go services such as Qdrant Cloud's API use): minute hour day-of-month month day-of-week,
each `*`, a value, a range `a-b`, any of those with a step `/n` (n > 0), or a comma-separated list
of them. Months may be written JAN-DEC and days of the week SUN-SAT (any case). Day-of-week runs
0-6 with 0 for Sunday: `7`, which some crons also take for Sunday, is not accepted everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day of month", 1, 31, {}),
    _Field("month", 1, 12, {name: number for number, name in enumerate(_MONTHS, start=1)}),
    _Field("day of week", 0, 6, {name: number for number, name in enumerate(_DAYS)}),
)
_EXAMPLE = '"0 3 * * *" (03:00 UTC daily) or "30 2 * * MON-FRI"'


def check_cron(expression: str) -> str:
    """The expression unchanged, or a PydanticCustomError that names the field and what it takes."""
    fields = expression.split()
    if len(fields) != len(_FIELDS):
        raise PydanticCustomError(
            "cron_fields",
            "a cron schedule has 5 fields (minute hour day-of-month month day-of-week), this one "
            "has {count}; for example {example}",
            {"count": len(fields), "example": _EXAMPLE},
        )
    for text, field in zip(fields, _FIELDS, strict=True):
        for part in text.split(","):
            problem = _part_problem(part, field)
            if problem:
                raise PydanticCustomError(
                    "cron_field",
                    "{field} field '{text}': {problem}; for example {example}",
                    {"field": field.name, "text": text, "problem": problem, "example": _EXAMPLE},
                )
    return expression


def _part_problem(part: str, field: _Field) -> str | None:
    span, slash, step = part.partition("/")
    if slash and not (step.isdigit() and int(step) > 0):
        return f"the step after '/' must be a whole number above 0, not '{step}'"
    if span == "*":
        return None
    low_text, dash, high_text = span.partition("-")
    low = _value(low_text, field)
    high = _value(high_text, field) if dash else low
    if low is None or high is None:
        bad = low_text if low is None else high_text
        return f"'{bad}' is not {_allowed(field)}"
    if low > high:
        return f"the range {span} runs backwards; write the smaller value first"
    return None


def _value(text: str, field: _Field) -> int | None:
    if text.isdigit():
        number = int(text)
        return number if field.low <= number <= field.high else None
    return field.names.get(text.upper())


def _allowed(field: _Field) -> str:
    allowed = f"a number from {field.low} to {field.high}"
    if field.names:
        names = list(field.names)
        allowed += f" or a name {names[0]}-{names[-1]}"
    return allowed


CronSchedule = Annotated[str, AfterValidator(check_cron)]
