"""Values that Terraform would take and the cloud would refuse only at apply: a cron schedule that
can never fire or that the provider cannot parse, and an availability zone the region does not
have. Both are configuration errors at synth, naming the file and key; valid schedules written
with names, ranges, lists and steps are accepted.

What these cannot prove: that Qdrant Cloud's API accepts every schedule accepted here (no
account here); nor that an account sees every zone letter the region has (AWS maps some
letters per account in its oldest regions): only letters no account can have are refused.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from infrakit.config import ConfigError
from infrakit.config.loader import load_environment
from tests.conftest import ENVIRONMENTS, PYTHON, ROOT

BACKUP_CRON = 'cron = "0 3 * * *"'
ZONES = 'availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]'


@pytest.fixture
def prod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    text = (ENVIRONMENTS / "prod.toml").read_text()
    assert BACKUP_CRON in text and ZONES in text
    return text


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "prod.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    return [str(problem) for problem in raised.value.problems]


def loads(tmp_path: Path, text: str) -> None:
    path = tmp_path / "prod.toml"
    path.write_text(text)
    load_environment(path)


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("61 3 * * *", "minute field '61': '61' is not a number from 0 to 59"),
        ("0 25 * * *", "hour field '25': '25' is not a number from 0 to 23"),
        ("*/0 * * * *", "minute field '*/0': the step after '/' must be a whole number above 0"),
        ("0 3 0 * *", "day of month field '0': '0' is not a number from 1 to 31"),
        ("0 3 * 13 *", "month field '13': '13' is not a number from 1 to 12 or a name JAN-DEC"),
        ("0 3 * * 7", "day of week field '7': '7' is not a number from 0 to 6 or a name SUN-SAT"),
        ("0 3 * * FUN", "day of week field 'FUN': 'FUN' is not a number from 0 to 6"),
        ("0 5-2 * * *", "hour field '5-2': the range 5-2 runs backwards"),
        (
            "0 3 * *",
            "a cron schedule has 5 fields (minute hour day-of-month month day-of-week), this one has 4",
        ),
    ],
)
def test_a_schedule_that_cannot_fire_is_refused_naming_file_key_and_field(prod, tmp_path, cron, expected):
    (found,) = problems(tmp_path, prod.replace(BACKUP_CRON, f'cron = "{cron}"'))

    assert found.startswith("prod.toml: vector_store.backups.cron: "), found
    assert expected in found
    assert 'for example "0 3 * * *"' in found


@pytest.mark.parametrize(
    "cron",
    ["30 2 * * MON-FRI", "0 3 1 JAN,JUL *", "*/15 * * * *", "0 0-23/6 * * sun", "5,35 1-3 1-15/2 * 0,6"],
)
def test_schedules_with_names_ranges_lists_and_steps_are_accepted(prod, tmp_path, cron):
    loads(tmp_path, prod.replace(BACKUP_CRON, f'cron = "{cron}"'))


def test_a_zone_the_region_does_not_have_is_refused_with_the_zones_it_has(prod, tmp_path):
    (found,) = problems(tmp_path, prod.replace("eu-west-1c", "eu-west-1z"))

    assert found == (
        "prod.toml: aws.availability_zones: eu-west-1z is not a zone of eu-west-1, which has "
        "eu-west-1a, eu-west-1b, eu-west-1c; pick zones from `aws ec2 describe-availability-zones "
        "--region eu-west-1`"
    )


def test_in_a_region_missing_from_the_table_only_impossible_letters_are_refused(prod, tmp_path):
    """No region has a zone after f; a region infrakit has no table for gets the benefit of the doubt."""
    elsewhere = prod.replace('region = "eu-west-1"', 'region = "il-central-1"', 1)
    loads(tmp_path, elsewhere.replace(ZONES, 'availability_zones = ["il-central-1a", "il-central-1f"]'))

    (found,) = problems(
        tmp_path, elsewhere.replace(ZONES, 'availability_zones = ["il-central-1a", "il-central-1g"]')
    )

    assert (
        "il-central-1g is not a zone of il-central-1: no AWS region has a zone after il-central-1f" in found
    )


def test_main_py_reports_the_bad_schedule_without_a_traceback(prod, tmp_path):
    environments = tmp_path / "environments"
    environments.mkdir()
    (environments / "prod.toml").write_text(prod.replace(BACKUP_CRON, 'cron = "61 3 * * *"'))

    result = subprocess.run(
        [PYTHON, str(ROOT / "main.py"), "--environments-dir", "environments", "--outdir", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "environments/prod.toml: vector_store.backups.cron: minute field '61'" in result.stderr
    assert not (tmp_path / "out").exists()
