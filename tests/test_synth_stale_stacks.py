"""A full synth removes the stacks of environments whose file is gone, so that the policy gate
(scripts/scan.sh scans cdktf.out/stacks) never scans a stale stack; a synth of named
environments leaves other stacks alone; and nothing that holds Terraform state is deleted."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from infrakit import synth_cache
from tests.conftest import MainInProcess, local_text

UP_TO_DATE = "inputs unchanged"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with two environments, `local` and `other`."""
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "local.toml").write_text(local_text())
    (tmp_path / "environments" / "other.toml").write_text(local_text(port_offset=100))
    return tmp_path


@pytest.fixture
def synth(main_in_process: MainInProcess, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """`python main.py --environments-dir environments --outdir out [ENV...]` in the project, with the
    synth cache on; returns what a terminal shows (progress on stdout, warnings on stderr)."""
    monkeypatch.delenv(synth_cache.DISABLE_VARIABLE, raising=False)

    def run(project: Path, *names: str) -> str:
        result = main_in_process("--environments-dir", "environments", "--outdir", "out", *names, cwd=project)
        assert result.returncode == 0, result.stderr
        return result.stdout + result.stderr

    return run


def stacks(project: Path) -> list[str]:
    return sorted(p.name for p in (project / "out" / "stacks").iterdir())


def test_a_full_synth_removes_the_stack_of_a_removed_environment_and_says_so(project, synth):
    synth(project)
    assert stacks(project) == ["local", "other"]
    (project / "environments" / "other.toml").unlink()

    output = synth(project)

    assert stacks(project) == ["local"]
    assert "removed stale stack out/stacks/other: environments/other.toml no longer exists" in output
    manifest = (project / "out" / "manifest.json").read_text()
    assert '"other"' not in manifest


def test_a_synth_of_named_environments_leaves_other_stacks_alone(project, synth):
    synth(project)
    other = project / "out" / "stacks" / "other" / "cdk.tf.json"
    before = other.read_bytes()
    (project / "environments" / "other.toml").unlink()

    output = synth(project, "local")

    assert other.read_bytes() == before
    assert "removed" not in output


def test_a_stale_stack_that_holds_terraform_state_is_kept_with_a_warning_naming_the_file(project, synth):
    synth(project)
    state = project / "out" / "stacks" / "other" / "terraform.other.tfstate"
    state.write_text('{"version": 4}\n')
    (project / "environments" / "other.toml").unlink()

    output = synth(project)

    assert state.read_text() == '{"version": 4}\n'
    assert (project / "out" / "stacks" / "other" / "cdk.tf.json").is_file()
    assert "warning: kept stale stack out/stacks/other" in output
    assert "out/stacks/other/terraform.other.tfstate" in output
    assert "terraform destroy" in output


def test_state_recorded_by_terraform_init_also_keeps_a_stale_stack(project, synth):
    synth(project)
    backend = project / "out" / "stacks" / "other" / ".terraform" / "terraform.tfstate"
    backend.parent.mkdir()
    backend.write_text("{}\n")
    (project / "environments" / "other.toml").unlink()

    output = synth(project)

    assert backend.is_file()
    assert "out/stacks/other/.terraform/terraform.tfstate" in output


def test_directories_that_are_not_infrakit_stacks_are_left_alone(project, synth):
    synth(project)
    notes = project / "out" / "stacks" / "notes"
    notes.mkdir()
    (notes / "README.txt").write_text("mine\n")
    (project / "environments" / "other.toml").unlink()

    output = synth(project)

    assert stacks(project) == ["local", "notes"]
    assert (notes / "README.txt").read_text() == "mine\n"
    assert "notes" not in output


def test_after_a_removal_the_cache_resynthesizes_a_recreated_environment(project, synth):
    synth(project)
    other_text = (project / "environments" / "other.toml").read_text()
    (project / "environments" / "other.toml").unlink()
    synth(project)
    assert UP_TO_DATE in synth(project), "the pruned output is current for the remaining environments"

    (project / "environments" / "other.toml").write_text(other_text)
    output = synth(project)

    assert UP_TO_DATE not in output
    assert stacks(project) == ["local", "other"]
    assert UP_TO_DATE in synth(project)


def test_a_stack_removed_by_hand_is_resynthesized_not_reported_up_to_date(project, synth):
    synth(project)
    shutil.rmtree(project / "out" / "stacks" / "other")

    output = synth(project)

    assert UP_TO_DATE not in output
    assert stacks(project) == ["local", "other"]


def test_resynthesis_keeps_terraform_files_and_state_in_the_stack_directory(project, synth):
    synth(project, "local")
    stack = project / "out" / "stacks" / "local"
    (stack / ".terraform" / "providers").mkdir(parents=True)
    (stack / ".terraform" / "providers" / "marker").write_text("provider\n")
    (stack / ".terraform.lock.hcl").write_text("# lock\n")
    (stack / "terraform.local.tfstate").write_text('{"version": 4}\n')
    config = project / "environments" / "local.toml"
    config.write_text(config.read_text().replace("memory_mb = 512", "memory_mb = 640"))

    assert UP_TO_DATE not in synth(project, "local")

    assert '"memory": 640' in (stack / "cdk.tf.json").read_text()
    assert (stack / ".terraform" / "providers" / "marker").read_text() == "provider\n"
    assert (stack / ".terraform.lock.hcl").read_text() == "# lock\n"
    assert (stack / "terraform.local.tfstate").read_text() == '{"version": 4}\n'
