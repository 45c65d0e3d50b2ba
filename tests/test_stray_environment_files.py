"""A stray entry in environments/ never crashes a synth.

Editor and hidden files (Emacs's `.#local.toml` lock, a dangling symlink that exists while
local.toml is open; `.local.toml`; backups) are not environments and are ignored. Anything else
named *.toml that is not a readable file (a directory, a dangling symlink, an unreadable file) is a
configuration error naming it, reported when all environments are synthesized or when it is asked
for; a synth of other, named environments goes ahead without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infrakit import synth_cache
from infrakit.config import ConfigError, load_environments, loader
from tests.conftest import MainRun, local_text


@pytest.fixture
def environments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    directory = tmp_path / "environments"
    directory.mkdir()
    (directory / "local.toml").write_text(local_text())
    return directory


def add_editor_files(directory: Path) -> None:
    """What editors leave beside local.toml while it is open: none of it is an environment."""
    (directory / ".#local.toml").symlink_to("root@host.1234:1700000000")  # Emacs's lock: dangling
    (directory / ".local.toml").write_text(local_text())  # a hidden copy, same host ports
    (directory / "#local.toml#").write_text("half an edit")  # Emacs's auto-save
    (directory / "local.toml~").write_text(local_text())  # a backup


def problems(directory: Path, *names: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_environments(directory, names)
    return [str(problem) for problem in raised.value.problems]


def test_editor_and_hidden_files_are_not_environments(environments):
    add_editor_files(environments)

    loaded = load_environments(environments)

    assert [environment.name for environment in loaded] == ["local"]
    assert sorted(loader.environment_files(environments).files) == ["local"]


def test_a_directory_named_like_an_environment_is_a_configuration_error_naming_it(environments):
    (environments / "x.toml").mkdir()

    assert problems(environments) == [
        "environments/x.toml: a directory, not an environment file; every *.toml file in this "
        "directory is an environment: remove it or rename it"
    ]


def test_a_dangling_symlink_is_a_configuration_error_naming_it_and_its_target(environments):
    (environments / "old.toml").symlink_to("../archive/old.toml")

    (found,) = problems(environments)

    assert found.startswith(
        "environments/old.toml: a symbolic link to ../archive/old.toml, which does not exist"
    )


def test_an_unreadable_file_is_a_configuration_error_naming_it(environments, monkeypatch):
    """Simulated: the tests run as root, whom file permissions do not stop, so reading the file
    raises PermissionError here as it would for a user without read permission. Cannot prove that
    the operating system refuses the read."""
    unreadable = environments / "secret.toml"
    unreadable.write_text(local_text(port_offset=100))
    real_read_text = Path.read_text

    def read_text(path: Path, *args: object, **kwargs: object) -> str:
        if path.name == unreadable.name:
            raise PermissionError(13, "Permission denied", str(path))
        return real_read_text(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", read_text)

    assert problems(environments) == ["environments/secret.toml: cannot read file: Permission denied"]
    assert [environment.name for environment in load_environments(environments, ["local"])] == ["local"]


def test_a_broken_entry_asked_for_by_name_is_reported_as_broken_not_unknown(environments):
    (environments / "x.toml").mkdir()

    (found,) = problems(environments, "x")

    assert "a directory, not an environment file" in found


def test_the_host_port_check_ignores_editor_files(environments):
    """A hidden copy of local.toml publishes the same host ports: it is no environment, so no clash."""
    add_editor_files(environments)
    (environments / "x.toml").mkdir()

    loaded = load_environments(environments, ["local"])

    assert [environment.name for environment in loaded] == ["local"]


def test_a_named_synth_goes_ahead_beside_stray_entries_and_a_full_synth_names_them(
    environments, tmp_path, main_in_process, monkeypatch
):
    """One real synth, with the synth cache on (it fingerprints the environment files first). Cannot
    prove the same for an unreadable file: the tests run as root (see the test above)."""
    add_editor_files(environments)
    (environments / "x.toml").mkdir()
    (environments / "old.toml").symlink_to("../archive/old.toml")
    monkeypatch.delenv(synth_cache.DISABLE_VARIABLE, raising=False)

    def main_py(*names: str) -> MainRun:
        return main_in_process("--environments-dir", "environments", "--outdir", "out", *names, cwd=tmp_path)

    named = main_py("local")
    assert named.returncode == 0, named.stderr
    assert "Traceback" not in named.stderr
    assert "infrakit: synthesized local" in named.stdout
    assert (tmp_path / "out" / "stacks" / "local" / "cdk.tf.json").is_file()

    full = main_py()
    assert full.returncode == 2, full.stderr
    assert "Traceback" not in full.stderr
    assert "infrakit: 2 configuration problems" in full.stderr
    assert "environments/x.toml: a directory" in full.stderr
    assert "environments/old.toml: a symbolic link" in full.stderr
    assert ".#local.toml" not in full.stderr and ".local.toml" not in full.stderr


def test_editor_files_do_not_change_the_synth_cache_fingerprint(environments):
    """Opening local.toml in an editor (its lock, a hidden copy, a backup) must neither make the next
    synth start from scratch nor, worse, stop the cache from noticing a real change. Cannot prove
    anything about files the rule does not know (another editor's naming)."""

    def fingerprint() -> str:
        return synth_cache.fingerprint(code=[], environments_dir=environments, names=[], site_dirs=[])

    before = fingerprint()
    add_editor_files(environments)
    assert fingerprint() == before
    (environments / ".local.toml").write_text(local_text(port_offset=7))
    assert fingerprint() == before
    (environments / "local.toml").write_text(local_text(port_offset=7))
    assert fingerprint() != before
