"""Synthesizing environments in several processes at once: how many, which goes where, and how
their output is put back together.

One jsii kernel (a Node process) builds stacks one round trip at a time, so one process keeps
about one core busy. Environments are independent of each other (an environment's stacks, such
as `<env>-images`, always stay together), so a synth of several environments splits them across
processes, each with its own Node, and the output is the one a single process writes, byte for
byte (tests/test_synth_jobs.py).

This module imports nothing heavy: it runs before the CDK is imported.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infrakit.synth_output import STACKS

if TYPE_CHECKING:
    from infrakit.config import Environment

JOBS_VARIABLE = "INFRAKIT_SYNTH_JOBS"
MANIFEST = "manifest.json"

# Relative cost of synthesizing an environment, from measured round trips to Node: an AWS
# environment makes about ten times as many as a local one.
AWS_WEIGHT = 10
LOCAL_WEIGHT = 1


class JobsError(ValueError):
    """INFRAKIT_SYNTH_JOBS holds something other than a whole number of at least 1."""


def jobs_wanted(environ: Mapping[str, str], cores: int) -> int:
    """INFRAKIT_SYNTH_JOBS if set, else one process per core available to this one."""
    raw = environ.get(JOBS_VARIABLE, "").strip()
    if not raw:
        return max(1, cores)
    try:
        jobs = int(raw)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise JobsError(
            f"{JOBS_VARIABLE} must be a whole number of processes, at least 1 (1 synthesizes in this "
            f"process alone); it is {raw!r}"
        )
    return jobs


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def partition(environments: Sequence[Environment], jobs: int) -> list[list[Environment]]:
    """At most `jobs` groups of about equal cost, none empty, each in the order given; the first
    group holds the first environment. Longest first, each to the lightest group so far."""
    count = max(1, min(jobs, len(environments)))
    weights = [AWS_WEIGHT if e.config.uses_aws else LOCAL_WEIGHT for e in environments]
    totals = [0] * count
    members: list[list[int]] = [[] for _ in range(count)]
    for index in sorted(range(len(environments)), key=lambda i: (-weights[i], i)):
        lightest = min(range(count), key=lambda g: (totals[g], g))
        members[lightest].append(index)
        totals[lightest] += weights[index]
    groups = [sorted(indexes) for indexes in members if indexes]
    groups.sort(key=lambda indexes: indexes[0])
    return [[environments[i] for i in indexes] for indexes in groups]


def merge_part(staging: Path, part: Path) -> None:
    """Move what one process wrote into `part` (its stacks and its manifest) into `staging`,
    where another process wrote the rest; the manifest is rewritten as cdktn writes it."""
    if (part / STACKS).is_dir():
        (staging / STACKS).mkdir(exist_ok=True)
        for stack in sorted((part / STACKS).iterdir()):
            os.replace(stack, staging / STACKS / stack.name)
    ours = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
    theirs = json.loads((part / MANIFEST).read_text(encoding="utf-8"))
    (staging / MANIFEST).write_text(_cdktn_json(merged_manifest(ours, theirs)), encoding="utf-8")
    shutil.rmtree(part)


def merged_manifest(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """One manifest naming the stacks of both; they must come from the same cdktn."""
    if ours.get("version") != theirs.get("version"):
        raise ValueError(
            f"manifests of cdktn {ours.get('version')} and {theirs.get('version')} cannot be merged"
        )
    shared = set(ours.get("stacks", {})) & set(theirs.get("stacks", {}))
    if shared:
        raise ValueError(f"two processes synthesized the same stacks: {', '.join(sorted(shared))}")
    return {**ours, "stacks": {**ours.get("stacks", {}), **theirs.get("stacks", {})}}


def _cdktn_json(value: object) -> str:
    """JSON as cdktn writes its manifest: keys sorted at every depth, two-space indent, no final
    newline, non-ASCII text as is (JSON.stringify)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
