"""`[alarms]` in environment files: every mistake names its file and key, a cloud environment cannot
leave its alarms without a target, and the shipped example targets are refused before a deploy."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from infrakit.config.alarms import AlarmSettings
from infrakit.config.loader import ConfigError, load_environment
from infrakit.placeholders import find_placeholders
from tests.conftest import ENVIRONMENTS, PYTHON, ROOT

SHIPPED_ALARMS = '[alarms]\nemails = ["oncall@example.com"]\n'


def dev_text(alarms: str) -> str:
    """The shipped dev file with its [alarms] table replaced (the table is the file's last)."""
    text = (ENVIRONMENTS / "dev.toml").read_text()
    assert text.endswith(SHIPPED_ALARMS)
    return text.removesuffix(SHIPPED_ALARMS) + alarms


def problems(tmp_path: Path, text: str, name: str = "dev") -> list[str]:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    # Each problem as the user reads it, with the file named as they would type it.
    return [str(problem).replace(str(path), f"{name}.toml") for problem in raised.value.problems]


def load(tmp_path: Path, text: str):
    path = tmp_path / "dev.toml"
    path.write_text(text)
    return load_environment(path).config


VALID = '[alarms]\nemails = ["oncall@northwind.io"]\n'

TARGET = 'emails = ["oncall@northwind.io"]'


BAD_VALUES = [
    ('emails = ["oncall"]', "alarms.emails[0]: expected an email address"),
    ('emails = ["on call@northwind.io"]', "alarms.emails[0]: expected an email address"),
    ('emails = ["${var.x}@northwind.io"]', "alarms.emails[0]: expected an email address"),
    ('emails = ["a@northwind.io", "A@northwind.io"]', "alarms.emails: a@northwind.io listed twice"),
    ('sns_topic_arn = "arn:aws:sns:eu-west-1:12345:alarms"', "alarms.sns_topic_arn: expected the ARN"),
    (
        'sns_topic_arn = "arn:aws:sns:eu-west-1:480937561234:alarms.fifo"',
        "alarms.sns_topic_arn: expected the ARN of a standard SNS topic",
    ),
    (f"{TARGET}\nservice_cpu_percent = 0", "alarms.service_cpu_percent: Input should be greater than or"),
    (
        f"{TARGET}\nservice_memory_percent = 101",
        "alarms.service_memory_percent: Input should be less than",
    ),
    (
        f"{TARGET}\nalb_5xx_rate_percent = 0",
        "alarms.alb_5xx_rate_percent: Input should be greater than 0",
    ),
    (f"{TARGET}\nalb_5xx_min_requests = 0", "alarms.alb_5xx_min_requests: Input should be greater than"),
    (f'{TARGET}\nalb_p99_response_seconds = "fast"', "alarms.alb_p99_response_seconds: Input should be"),
    (f"{TARGET}\nredis_memory_percent = 0", "alarms.redis_memory_percent: Input should be greater than"),
    (
        f"{TARGET}\nredis_engine_cpu_percent = 120",
        "alarms.redis_engine_cpu_percent: Input should be less",
    ),
    (
        f"{TARGET}\nredis_replication_lag_seconds = -1",
        "alarms.redis_replication_lag_seconds: Input should",
    ),
    (
        f"{TARGET}\nwaf_blocked_requests_per_5_minutes = 0",
        "alarms.waf_blocked_requests_per_5_minutes: Input",
    ),
    (
        f"{TARGET}\nworker_error_lines_per_minute = 0",
        "alarms.worker_error_lines_per_minute: Input should",
    ),
    (
        f'{TARGET}\nworker_error_pattern = ""',
        "alarms.worker_error_pattern: String should have at least 1",
    ),
    (f"{TARGET}\nemail = 1", "alarms.email: unknown key; did you mean 'emails'?"),
]


@pytest.mark.parametrize(("table", "expected"), BAD_VALUES)
def test_each_alarms_key_reports_a_bad_value_with_file_and_key(tmp_path: Path, table: str, expected: str):
    found = problems(tmp_path, dev_text(f"[alarms]\n{table}\n"))
    assert any(p.startswith(f"dev.toml: {expected}") for p in found), found


def test_every_alarms_key_has_a_bad_value_test():
    tested = {re.match(r"alarms\.(\w+)", expected)[1] for _, expected in BAD_VALUES}
    assert set(AlarmSettings.model_fields) <= tested


def test_alarms_without_a_target_say_how_to_add_one(tmp_path: Path):
    (problem,) = problems(tmp_path, dev_text("[alarms]\nservice_cpu_percent = 90\n"))
    assert problem.startswith("dev.toml: alarms: alarms reach no one")
    assert 'emails = ["oncall@yourcompany.com"]' in problem and "sns_topic_arn" in problem


def test_a_cloud_environment_without_alarms_is_refused_through_main(tmp_path: Path):
    """Through the real command: status 2, no traceback, the file and the missing table named."""
    (tmp_path / "dev.toml").write_text(dev_text(""))
    result = subprocess.run(
        [PYTHON, str(ROOT / "main.py"), "--environments-dir", str(tmp_path), "--outdir", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "dev.toml: alarms is required where services run on AWS" in result.stderr
    assert "add an [alarms] table" in result.stderr.lower()


def test_alarms_in_an_environment_without_aws_are_refused(tmp_path: Path):
    local = (ENVIRONMENTS / "local.toml").read_text() + VALID
    (problem,) = problems(tmp_path, local, name="local")
    assert problem == "local.toml: alarms watch AWS services, and this environment has none: remove [alarms]"


def test_a_topic_in_another_region_is_refused(tmp_path: Path):
    arn = "arn:aws:sns:us-east-1:480937561234:oncall"
    (problem,) = problems(tmp_path, dev_text(f'[alarms]\nsns_topic_arn = "{arn}"\n'))
    assert "alarms.sns_topic_arn is in us-east-1" in problem
    assert "aws.region = eu-west-1" in problem


def test_either_target_alone_is_enough_and_thresholds_have_defaults(tmp_path: Path):
    arn = "arn:aws:sns:eu-west-1:480937561234:oncall"
    alarms = load(tmp_path, dev_text(f'[alarms]\nsns_topic_arn = "{arn}"\n')).alarms
    assert alarms is not None and alarms.emails == [] and alarms.sns_topic_arn == arn
    assert alarms.service_cpu_percent == 80 and alarms.alb_5xx_rate_percent == 5.0
    assert load(tmp_path, dev_text(VALID)).alarms is not None


# ----------------------------------------------------------------------------- placeholders


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_shipped_example_address_is_a_placeholder(env: str):
    found = {p.key: p for p in find_placeholders(load_environment(ENVIRONMENTS / f"{env}.toml").config)}
    assert found["alarms.emails[0]"].value == "oncall@example.com"
    assert "on call" in found["alarms.emails[0]"].replace_with


def test_each_example_address_is_named_and_a_real_one_is_not(tmp_path: Path):
    config = load(tmp_path, dev_text('[alarms]\nemails = ["ops@northwind.io", "pager@oncall.example.org"]\n'))
    keys = [p.key for p in find_placeholders(config) if p.key.startswith("alarms.")]
    assert keys == ["alarms.emails[1]"]


@pytest.mark.parametrize(
    ("account", "is_example"), [("123456789012", True), ("111111111111", True), ("480937561234", False)]
)
def test_an_example_topic_arn_is_a_placeholder(tmp_path: Path, account: str, is_example: bool):
    config = load(tmp_path, dev_text(f'[alarms]\nsns_topic_arn = "arn:aws:sns:eu-west-1:{account}:oncall"\n'))
    keys = [p.key for p in find_placeholders(config)]
    assert ("alarms.sns_topic_arn" in keys) is is_example


def test_preflight_names_the_alarm_address_and_what_to_put_there():
    from infrakit.preflight import _placeholders

    lines = [str(missing) for missing in _placeholders(load_environment(ENVIRONMENTS / "staging.toml"))]
    assert any(
        line.startswith(
            "environments/staging.toml: alarms.emails[0] is still the example value 'oncall@example.com'"
        )
        and "fix: replace it with the address of the person or list on call" in line
        for line in lines
    ), lines
