"""The summary scripts/setup.sh prints after a deploy: every output of the environment and its images
stack, with each sensitive one shown by name only. `terraform output -json` is a stand-in script
printing Terraform's documented output format; it cannot prove what a real state holds."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from infrakit import cli
from tests.conftest import ENVIRONMENTS

SECRET = (
    "postgresql://postgres:never-print-me@db.example:6543/postgres"  # checkov:skip=CKV_SECRET_4: test value
)

OUTPUTS = {
    "dev": {
        "api_url": {"sensitive": False, "type": "string", "value": "https://api.dev.example.com"},
        "database_url": {"sensitive": True, "type": "string", "value": SECRET},
    },
    "dev-images": {
        "api_image_repository": {
            "sensitive": False,
            "type": "string",
            "value": "480937561234.dkr.ecr.eu-west-1.amazonaws.com/infrakit-dev-api",
        }
    },
}


def deployed(project: Path, bin_dir: Path) -> None:
    """Stack directories as `cdktf deploy` leaves them, and a terraform that prints their outputs."""
    for stack, outputs in OUTPUTS.items():
        directory = project / "cdktf.out" / "stacks" / stack
        (directory / ".terraform").mkdir(parents=True)
        (directory / "outputs.json").write_text(json.dumps(outputs))
    terraform = bin_dir / "terraform"
    terraform.write_text('#!/bin/sh\n[ "$1 $2" = "output -json" ] && exec cat outputs.json\nexit 1\n')
    terraform.chmod(terraform.stat().st_mode | stat.S_IEXEC)


def test_summary_shows_where_things_are_and_names_secrets_only(tmp_path, monkeypatch, capsys) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    deployed(tmp_path, bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--environments-dir", str(ENVIRONMENTS), "summary", "--env", "dev"]) == 0
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert "api_url: https://api.dev.example.com" in text
    assert "api_image_repository: 480937561234.dkr.ecr.eu-west-1.amazonaws.com/infrakit-dev-api" in text
    assert "database_url: (sensitive, not shown" in text
    assert "never-print-me" not in text
    assert text.index("dev-images:") < text.index("  dev:")  # in deploy order


def test_summary_of_an_environment_not_deployed_from_here(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--environments-dir", str(ENVIRONMENTS), "summary", "--env", "dev"]) == 0
    assert "not deployed from this checkout" in capsys.readouterr().err
