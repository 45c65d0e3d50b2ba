"""Where `python main.py` writes: the project's cdktf.out holds the project's environments only.

Environment files from another directory go to cdktf.out beside that directory, unless --outdir
or $CDKTF_OUTDIR (which the cdktf CLI sets) says otherwise. A full synth removes stacks it did not
synthesize, so writing them into the project's cdktf.out would delete the project's stacks.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from infrakit import synth_cache
from tests.conftest import ENVIRONMENTS, ROOT, MainInProcess, MainRun


def tree(outdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()}


@pytest.fixture
def run_main(main_in_process: MainInProcess, monkeypatch: pytest.MonkeyPatch) -> Callable[..., MainRun]:
    """`python main.py ARGS` of the project's copy of main.py, in the project (tests/conftest.py,
    main_in_process), without $CDKTF_OUTDIR unless `env` sets it, and with the synth cache on."""
    monkeypatch.delenv("CDKTF_OUTDIR", raising=False)
    monkeypatch.delenv(synth_cache.DISABLE_VARIABLE, raising=False)

    def run(project: Path, *args: str, env: dict[str, str] | None = None) -> MainRun:
        return main_in_process(*args, cwd=project, app_file=project / "main.py", env=env)

    return run


@pytest.fixture
def project(tmp_path: Path, run_main: Callable[..., MainRun]) -> Path:
    """A project (main.py, environments/local.toml) synthesized into its own cdktf.out."""
    root = tmp_path / "project"
    (root / "environments").mkdir(parents=True)
    shutil.copy(ROOT / "main.py", root / "main.py")
    shutil.copy(ENVIRONMENTS / "local.toml", root / "environments" / "local.toml")
    result = run_main(root)
    assert result.returncode == 0, result.stderr
    assert (root / "cdktf.out" / "stacks" / "local" / "cdk.tf.json").is_file()
    return root


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    directory = tmp_path / "elsewhere" / "envs"
    directory.mkdir(parents=True)
    shutil.copy(ENVIRONMENTS / "local.toml", directory / "sandbox.toml")
    return directory


def test_environments_from_elsewhere_go_to_cdktf_out_beside_them(run_main, project, elsewhere):
    before = tree(project / "cdktf.out")

    result = run_main(project, "--environments-dir", str(elsewhere))

    assert result.returncode == 0, result.stderr
    assert (elsewhere.parent / "cdktf.out" / "stacks" / "sandbox" / "cdk.tf.json").is_file()
    assert tree(project / "cdktf.out") == before, "the project's stacks are untouched, none removed"


def test_outdir_and_cdktf_outdir_still_decide(run_main, project, elsewhere, tmp_path):
    chosen = run_main(project, "--environments-dir", str(elsewhere), "--outdir", str(tmp_path / "chosen"))
    by_cli = run_main(
        project, "--environments-dir", str(elsewhere), env={"CDKTF_OUTDIR": str(tmp_path / "cli")}
    )

    assert chosen.returncode == 0, chosen.stderr
    assert by_cli.returncode == 0, by_cli.stderr
    assert (tmp_path / "chosen" / "stacks" / "sandbox" / "cdk.tf.json").is_file()
    assert (tmp_path / "cli" / "stacks" / "sandbox" / "cdk.tf.json").is_file()
    assert not (elsewhere.parent / "cdktf.out").exists()


def test_an_environments_dir_beside_the_projects_own_needs_an_outdir(run_main, project, elsewhere):
    shutil.copytree(elsewhere, project / "more-environments")
    before = tree(project / "cdktf.out")

    result = run_main(project, "--environments-dir", "more-environments")

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--environments-dir more-environments" in result.stderr
    assert "pass --outdir DIR" in result.stderr
    assert tree(project / "cdktf.out") == before
