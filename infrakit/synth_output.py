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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STACKS = "stacks"
# What the CDK writes into every stack directory: cdk.tf.json, or cdk.tf with SYNTH_HCL_OUTPUT.
STACK_MARKERS = ("cdk.tf.json", "cdk.tf")
STAGING_PREFIX = ".infrakit-staging-"


@contextmanager
def staging_directory(outdir: Path) -> Iterator[Path]:
    """A fresh directory inside outdir, removed on the way out whatever happened.

    Each run gets its own, so that two synths into one output directory never pull the floor
    from under each other; the last one to move its files in wins, with identical bytes.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=outdir))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def move_into_place(staging: Path, outdir: Path) -> list[Path]:
    """Move every staged file to the same relative place under outdir; returns the files written.

    A stack written in one format loses the other format's file from an earlier synth: with both
    cdk.tf and cdk.tf.json in one directory, terraform would load every resource twice.
    """
    written = []
    for source in sorted(path for path in staging.rglob("*") if path.is_file()):
        target = outdir / source.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        written.append(target)
    for target in written:
        if target.name in STACK_MARKERS:
            for other in STACK_MARKERS:
                if other != target.name:
                    (target.parent / other).unlink(missing_ok=True)
    return written


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
