"""Where a synth's files land in the output directory (cdktf.out).

The CDK's App writes straight into the directory it is given, so a synth cut short (Ctrl-C, a
crash) would leave a half-written stack behind for terraform, checkov or the synth cache to
trust. Stacks are therefore synthesized into a private staging directory inside the output
directory (same file system, so each move is an atomic rename) and moved into place only once
the CDK has written them all. Files the synth does not write, such as terraform init's
.terraform/ and lock file, or state, stay where they are.

A full synth also removes the stacks of environments whose file is gone, so that the policy
gate (scripts/scan.sh scans cdktf.out/stacks) never passes or fails on a stale stack. A
directory that holds Terraform state is never removed.

This module imports nothing heavy: a warm run must not pay for pydantic, the CDK or jsii.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

STACKS = "stacks"
# What the CDK writes into every stack directory: cdk.tf.json, or cdk.tf with SYNTH_HCL_OUTPUT.
STACK_MARKERS = ("cdk.tf.json", "cdk.tf")
STAGING_PREFIX = ".infrakit-staging-"


REPLACED = ".replaced"  # inside the staging directory: what the synth replaced, until it is done


class OutputNotWritable(Exception):
    """The output directory, or a directory inside it, refused a write. Nothing was replaced."""

    def __init__(self, outdir: Path, error: OSError, path: Path | None = None):
        self.outdir = outdir
        self.path = path or outdir  # the place in the output that could not be written
        self.reason = error.strerror or str(error)
        super().__init__(f"{self.path}: {self.reason}")


@contextmanager
def staging_directory(outdir: Path) -> Iterator[Path]:
    """A fresh directory inside outdir, removed on the way out whatever happened.

    Each run gets its own, so that two synths into one output directory never pull the floor
    from under each other; the last one to move its files in wins, with identical bytes.
    """
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=outdir))
    except OSError as error:
        raise OutputNotWritable(outdir, error) from None
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def move_into_place(staging: Path, outdir: Path) -> list[Path]:
    """Move every staged file to the same relative place under outdir; returns the files written.

    All or nothing: if a move is refused (a read-only stack directory, say), every file already
    moved is put back as it was and OutputNotWritable is raised, so the manifest never names a
    stack that was not written. Each file replaced is first set aside in the staging directory,
    which is on the same file system, so setting aside and putting back are renames too.

    A stack written in one format loses the other format's file from an earlier synth: with both
    cdk.tf and cdk.tf.json in one directory, terraform would load every resource twice.
    """
    moves = [
        (source, outdir / source.relative_to(staging))
        for source in sorted(path for path in staging.rglob("*") if path.is_file())
    ]
    superseded = [
        target.parent / other
        for _, target in moves
        if target.name in STACK_MARKERS
        for other in STACK_MARKERS
        if other != target.name and (target.parent / other).is_file()
    ]
    aside = staging / REPLACED
    done: list[tuple[Path, Path | None]] = []  # (target, where its old file was set aside)
    created: list[Path] = []
    current = outdir
    try:
        for current in superseded:
            done.append((current, _set_aside(current, aside, outdir)))
        for source, current in moves:
            created += _make_parents(current.parent, outdir)
            done.append((current, _set_aside(current, aside, outdir)))
            os.replace(source, current)
    except OSError as error:
        _put_back(done, created)
        raise OutputNotWritable(outdir, error, current) from None
    return [target for _, target in moves]


def _set_aside(target: Path, aside: Path, outdir: Path) -> Path | None:
    if not target.is_file():
        return None
    kept = aside / target.relative_to(outdir)
    kept.parent.mkdir(parents=True, exist_ok=True)
    os.replace(target, kept)
    return kept


def _make_parents(directory: Path, outdir: Path) -> list[Path]:
    """Create directory and its missing parents inside outdir; returns those created, outermost first."""
    missing = [parent for parent in (directory, *directory.parents) if outdir in parent.parents]
    created = [parent for parent in reversed(missing) if not parent.exists()]
    for parent in created:
        parent.mkdir()
    return created


def _put_back(done: list[tuple[Path, Path | None]], created: list[Path]) -> None:
    """Undo the moves so far, newest first. Best effort: these renames reverse ones just made."""
    for target, kept in reversed(done):
        with suppress(OSError):
            if kept is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(kept, target)
    for directory in reversed(created):
        with suppress(OSError):
            directory.rmdir()


@dataclass(frozen=True)
class StaleStack:
    """A stack directory in the output whose environment was not synthesized by a full synth."""

    name: str
    directory: Path
    state_files: tuple[Path, ...]

    @property
    def removable(self) -> bool:
        return not self.state_files


def stale_stacks(outdir: Path, current: Collection[str]) -> list[StaleStack]:
    """Stack directories under outdir/stacks that are not among the current environments.

    Only directories that hold what cdktf writes count: anything else there is not infrakit's.
    """
    stacks_dir = outdir / STACKS
    if not stacks_dir.is_dir():
        return []
    return [
        StaleStack(directory.name, directory, _state_files(directory))
        for directory in sorted(stacks_dir.iterdir())
        if directory.is_dir()
        and not directory.is_symlink()
        and directory.name not in current
        and any((directory / marker).is_file() for marker in STACK_MARKERS)
    ]


def remove_stale_stacks(outdir: Path, current: Collection[str]) -> list[StaleStack]:
    """Delete every stale stack that holds no Terraform state; returns all stale stacks found."""
    found = stale_stacks(outdir, current)
    for stack in found:
        if stack.removable:
            shutil.rmtree(stack.directory)
    return found


def _state_files(directory: Path) -> tuple[Path, ...]:
    # Anywhere inside: a default local backend writes terraform.<stack>.tfstate beside cdk.tf.json,
    # workspaces live in terraform.tfstate.d/, and terraform init records the backend in
    # .terraform/terraform.tfstate. Deleting any of them could lose track of live resources.
    return tuple(
        sorted(
            path
            for path in directory.rglob("*")
            if path.is_file() and path.name.endswith((".tfstate", ".tfstate.backup"))
        )
    )
