"""Benchmark the test command against a baseline checkout, side by side in one run. Prints its
numbers; asserts nothing.

  .venv/bin/python scripts/bench_suite.py --baseline DIR [--rounds N]

DIR is another checkout of infrakit, set up with its own scripts/setup.sh (for example an older
revision: `git worktree add DIR REV`, then `DIR/scripts/setup.sh local --skip-deploy`). Each
round runs `scripts/test.sh`, the README's test command, in the baseline, then in this checkout,
back to back, so that both see the same machine: on these shared 2-core machines the same work
takes up to twice as long at one hour as at another. Printed for each run:

- wall: the whole command (test servers, lint, the suite), seconds;
- suite: the seconds pytest reports for the suite itself, and its counts;
- CPU: user + system seconds of the command and everything it started;
- probe: the seconds a fixed CPU loop takes just before the run (the machine's speed then).

The last lines are the medians and the ratio this checkout / baseline, wall and suite.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"^=+ (?P<counts>.*?) in (?P<seconds>[\d.]+)s", re.M)


@dataclass(frozen=True)
class Run:
    wall: float
    suite: float | None  # None when pytest printed no summary line
    counts: str
    cpu: float
    probe: float
    status: int


def probe() -> float:
    """CPU seconds of a fixed loop: the machine's speed at this moment (lower is faster)."""
    started = time.process_time()
    sum(i * i for i in range(10**7))
    return time.process_time() - started


def run(checkout: Path) -> Run:
    speed = probe()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        ["bash", "scripts/test.sh"], cwd=checkout, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    found = SUMMARY.findall(done.stdout)
    counts, seconds = found[-1] if found else ("no pytest summary", None)
    return Run(wall, float(seconds) if seconds else None, counts, cpu, speed, done.returncode)


def show(name: str, result: Run) -> None:
    suite = f"{result.suite:7.1f}" if result.suite is not None else "      -"
    print(
        f"{name:9} wall {result.wall:7.1f}  suite {suite}  CPU {result.cpu:7.1f}  "
        f"probe {result.probe:5.2f}  exit {result.status}  ({result.counts})",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout, already set up")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    baseline = args.baseline.resolve()
    if not (baseline / "scripts" / "test.sh").is_file() or not (baseline / ".venv").is_dir():
        parser.error(f"{baseline} is not a checkout set up with scripts/setup.sh")
    runs: dict[str, list[Run]] = {"baseline": [], "this": []}
    for round_number in range(1, args.rounds + 1):
        print(f"round {round_number} of {args.rounds}", flush=True)
        for name, checkout in (("baseline", baseline), ("this", ROOT)):
            runs[name].append(run(checkout))
            show(name, runs[name][-1])
    medians = {}
    for name, results in runs.items():
        suites = [r.suite for r in results if r.suite is not None]
        medians[name] = (
            statistics.median(r.wall for r in results),
            statistics.median(suites) if suites else None,
        )
        suite = medians[name][1]
        shown = f"{suite:7.1f}" if suite is not None else "      -"
        print(f"median {name:9} wall {medians[name][0]:7.1f}  suite {shown}")
    (wall_base, suite_base), (wall_this, suite_this) = medians["baseline"], medians["this"]
    print(f"ratio this / baseline: wall {wall_this / wall_base:.2f}", end="")
    if suite_base and suite_this:
        print(f", suite {suite_this / suite_base:.2f}", end="")
    print()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench_suite: interrupted", file=sys.stderr)
        sys.exit(130)
