"""What a newcomer reads: usage lines, refusals of impossible requests, and hints that fix things.

- `validate --service NAME` for a service the environment does not have is a usage error, never
  an `"ok": true` with nothing checked;
- a collection that differs from config gets a hint that fixes it (collections are never changed
  in place), not one to run the command that left it as it is;
- `migrate --help` shows `repair` as the optional action it is;
- `migrate --dry-run | head -1` ends quietly, as Unix tools do;
- usage lines name the command as it was run: `infrakit`, or `python -m infrakit`.

What this cannot prove: how a terminal renders these lines (rich wraps them to its width).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infrakit import cli
from infrakit.bootstrap.checks import CheckFailed, check_qdrant
from infrakit.bootstrap.collections import connect, sync_collections
from infrakit.config.collections import CollectionSpec
from tests.conftest import ENDPOINT_VARIABLES, ENVIRONMENTS, ROOT
from tests.standins.qdrant import QdrantStandIn

CONSOLE_SCRIPT = Path(sys.executable).parent / "infrakit"
QDRANT_KEY = "usage-test-qdrant-key-5c1a"  # checkov:skip=CKV_SECRET_6: test value


def infrakit(
    *args: str, program: list[str] | None = None, cwd: Path, shell_pipe: str = "", **endpoints: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ENDPOINT_VARIABLES}
    environ |= endpoints | {"PYTHONPATH": str(ROOT)}
    argv = [*(program or [sys.executable, "-m", "infrakit"]), "--environments-dir", str(ENVIRONMENTS), *args]
    if shell_pipe:
        argv = ["bash", "-c", 'set -o pipefail; "$@" ' + shell_pipe, "bash", *argv]
    return subprocess.run(argv, cwd=cwd, env=environ, capture_output=True, text=True, timeout=60)


def test_validate_of_a_service_the_environment_lacks_is_a_usage_error(
    elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        [
            "--environments-dir",
            str(ENVIRONMENTS),
            "validate",
            "--env",
            "local",
            "--service",
            "supabase",
            "--json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""  # no JSON claiming "ok": true
    assert "--service supabase: environment 'local' (" in err and "local.toml) has no such service" in err
    assert "it has postgres, redis, qdrant" in err


def test_validate_json_is_never_ok_with_no_check() -> None:
    from infrakit.bootstrap.validate import to_json

    assert json.loads(to_json("local", []))["ok"] is False


DOCUMENTS = CollectionSpec(
    name="documents", vector_size=8, distance="Cosine", hnsw_m=16, hnsw_ef_construct=100
)


def test_a_collection_mismatch_hint_says_it_is_never_changed_in_place_and_how_to_fix_it() -> None:
    with QdrantStandIn(api_key=QDRANT_KEY) as qdrant:
        sync_collections(connect(qdrant.url, QDRANT_KEY), [DOCUMENTS])
        changed = DOCUMENTS.model_copy(update={"hnsw_m": 32})
        with pytest.raises(CheckFailed) as failure:
            check_qdrant(qdrant.url, QDRANT_KEY, [changed], timeout=2, environment="local")
    message = str(failure.value)
    assert "documents: mismatch (hnsw m is 16, expected 32)" in message
    assert "never changed in place" in message
    assert "environments/local.toml" in message
    assert "`infrakit collections --env local --recreate-mismatched`" in message
    assert "(run `python -m infrakit collections`)" not in message


def test_migrate_help_shows_repair_as_optional(tmp_path: Path) -> None:
    usage = infrakit("migrate", "--help", cwd=tmp_path).stdout.split("\n\n")[0]
    lines = usage.splitlines()
    assert lines[0].startswith("usage: python -m infrakit migrate [-h] --env ENV")
    assert "repair" not in lines[0]  # status, --apply and --dry-run need no action
    assert (
        lines[1].strip().startswith("python -m infrakit migrate repair --status {applied,reverted} VERSION")
    )


def test_a_reader_that_stops_early_ends_the_dry_run_quietly(tmp_path: Path, database_url: str) -> None:
    """`head -1` exits after one line. The migration is large enough (over 200 KB of SQL) that the
    dry run is still writing when it does, whatever the pipe's buffer size."""
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "20990101000000_large.sql").write_text(
        "".join(f"CREATE TABLE t{n} (id int, note text DEFAULT '{'x' * 40}');\n" for n in range(2_000))
    )
    result = infrakit(
        "migrate",
        "--env",
        "local",
        "--dry-run",
        "--migrations-dir",
        str(migrations),
        cwd=tmp_path,
        shell_pipe="| head -1",
        DATABASE_URL=database_url,
    )
    assert result.stdout.startswith("-- Dry run: 1 pending migration(s).")
    assert result.stderr == ""  # no traceback, no "Exception ignored ... BrokenPipeError"
    assert result.returncode == 141  # 128 + SIGPIPE, as `set -o pipefail` sees a Unix tool end


@pytest.mark.parametrize(
    ("program", "name"), [("console script", "infrakit"), ("module", "python -m infrakit")]
)
def test_usage_lines_name_the_command_as_it_was_run(program: str, name: str, tmp_path: Path) -> None:
    if program == "console script" and not CONSOLE_SCRIPT.exists():
        pytest.skip(f"{CONSOLE_SCRIPT} is not installed: run scripts/setup.sh")
    argv = [str(CONSOLE_SCRIPT)] if program == "console script" else None
    result = infrakit("validate", program=argv, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"usage: {name} validate [-h] --env ENV")
