"""An output directory that refuses writes: one message naming the directory and what to do, status
2, no traceback, and nothing replaced, all or nothing: the manifest never names a stack that was
not written."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infrakit import synth_cache, synth_output
from tests.conftest import ENVIRONMENTS, MainInProcess, MainRun

OLD = {
    "manifest.json": b'{"stacks": {"local": "old"}}\n',
    "stacks/local/cdk.tf.json": b'{"old": true}\n',
}


def write_tree(directory: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(data)


def tree(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


# ----------------------------------------------------------------------------- moving into place


@pytest.fixture
def staged(tmp_path: Path) -> tuple[Path, Path]:
    """An output directory holding an earlier synth, and a staging directory holding a new one
    with a second stack."""
    outdir = tmp_path / "out"
    write_tree(outdir, OLD)
    staging = outdir / ".infrakit-staging-test"
    write_tree(
        staging,
        {
            "manifest.json": b'{"stacks": {"local": "new", "other": "new"}}\n',
            "stacks/local/cdk.tf.json": b'{"new": true}\n',
            "stacks/other/cdk.tf.json": b'{"new": true}\n',
        },
    )
    return outdir, staging


def refuse_writes_into(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    real_replace = os.replace

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        # A rename needs write permission on the directory it leaves and the one it enters.
        if directory in (Path(source).parent, Path(target).parent):
            raise PermissionError(13, "Permission denied", str(target))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("refusing", ["stacks/local", "stacks/other"])
def test_a_refused_move_puts_back_every_file_already_moved(staged, monkeypatch, refusing):
    """Simulated: os.replace refuses writes into one directory, as a read-only directory would for
    a user who is not root (the tests run as root). Cannot prove which moves a real file system
    refuses; the test below does that end to end where chattr works."""
    outdir, staging = staged
    refuse_writes_into(monkeypatch, outdir / refusing)

    with pytest.raises(synth_output.OutputNotWritable) as raised:
        synth_output.move_into_place(staging, outdir)

    assert raised.value.path.parent == outdir / refusing
    assert tree(outdir).items() >= OLD.items(), "the earlier synth is as it was"
    assert {name for name in tree(outdir) if not name.startswith(".infrakit-staging")} == set(OLD)
    assert not (outdir / "stacks" / "other").exists(), "a directory made for the new stack is gone"


# ----------------------------------------------------------------------------- python main.py


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """chattr +i: refuses every write, even root's, where the file system and the container allow."""
    try:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    except FileNotFoundError:
        pytest.skip("chattr is not installed")
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not allowed here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.fixture
def main_py(
    main_in_process: MainInProcess, monkeypatch: pytest.MonkeyPatch
) -> Callable[[Path, str], MainRun]:
    """`python main.py local --environments-dir environments --outdir OUTDIR` in `cwd`, with the synth
    cache on (tests/conftest.py, main_in_process)."""
    monkeypatch.delenv(synth_cache.DISABLE_VARIABLE, raising=False)

    def run(cwd: Path, outdir: str) -> MainRun:
        return main_in_process("local", "--environments-dir", "environments", "--outdir", outdir, cwd=cwd)

    return run


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "environments").mkdir()
    shutil.copy(ENVIRONMENTS / "local.toml", tmp_path / "environments" / "local.toml")
    return tmp_path


def assert_refused(result: MainRun, outdir: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"infrakit: cannot write the synthesized output to {outdir}: "), (
        result.stderr
    )
    assert "Nothing was replaced" in result.stderr
    assert "or pass --outdir DIR" in result.stderr


def test_a_read_only_stack_directory_fails_the_synth_and_replaces_nothing(project, main_py):
    """A real synth; the stack directory is made immutable with chattr (skipped where that is not
    allowed). Cannot prove the same for a directory made read-only by its mode, which root ignores."""
    outdir = project / "out"
    write_tree(outdir, OLD)

    with immutable(outdir / "stacks" / "local"):
        result = main_py(project, "out")

    assert_refused(result, "out")
    assert "out/stacks/local" in result.stderr
    assert tree(outdir) == OLD, "neither the manifest nor the stack was replaced"


def test_a_read_only_output_directory_fails_before_synthesizing(project, main_py):
    outdir = project / "out"
    write_tree(outdir, OLD)

    with immutable(outdir):
        result = main_py(project, "out")

    assert_refused(result, "out")
    assert tree(outdir) == OLD
