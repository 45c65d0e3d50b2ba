"""Benchmark synthesis, side by side in one run. Prints its numbers; asserts nothing.

  .venv/bin/python scripts/bench_synth.py [--rounds N]

- naive peer: the same stacks as a plain cdktn app builds them: provider packages loaded the
  usual way (INFRAKIT_EAGER_PROVIDER_IMPORTS=1, so jsii's Node loads every provider submodule),
  no synth cache, cdktn's creation stacks recorded, jsii's runtime type checks run and its kernel
  behind jsii's relay (INFRAKIT_JSII_RELAY=1), as cdktn and jsii do by default, and all in one
  process (INFRAKIT_SYNTH_JOBS=1), as one cdktn app is; every environment;
- cold: every environment, provider modules loaded on demand, empty output directory, split
  across processes as infrakit does by default (one per core: infrakit/synth_jobs.py);
- cold, one process: the same with INFRAKIT_SYNTH_JOBS=1, to show what the split adds;
- cold, relay: the same as cold with jsii's kernel behind its relay, to show what running it in
  place adds (infrakit/jsii_kernel.js);
- local: the local environment alone, empty output directory;
- warm: every environment again with unchanged inputs (the synth cache answers).
Each is a fresh `python main.py` process, timed wall-clock; the best of N rounds counts. CPU
(user + system, of the process and everything it started) is printed beside it: splitting
across processes trades CPU for wall-clock time. The last line is the ratio the fast-feedback
target is stated in: cold / naive peer, wall-clock.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(outdir: Path, *names: str, **env: str) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one `python main.py`, Node included (waited-for children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "main.py", "--outdir", str(outdir), *names],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def fresh(base: Path, name: str) -> Path:
    path = base / name
    shutil.rmtree(path, ignore_errors=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    results: dict[str, list[tuple[float, float]]] = {
        "baseline": [],
        "cold": [],
        "one process": [],
        "relay": [],
        "local": [],
        "warm": [],
    }
    with tempfile.TemporaryDirectory() as directory:
        base = Path(directory)
        for _ in range(rounds):
            # Interleaved, so that load on the machine hits every case alike.
            eager = {
                "INFRAKIT_EAGER_PROVIDER_IMPORTS": "1",
                "INFRAKIT_SYNTH_CACHE": "0",
                "CDKTN_DISABLE_CREATION_STACK": "0",
                "INFRAKIT_JSII_TYPE_CHECKS": "1",
                "INFRAKIT_SYNTH_JOBS": "1",
                "INFRAKIT_JSII_RELAY": "1",
            }
            results["baseline"].append(run(fresh(base, "baseline"), **eager))
            results["cold"].append(run(fresh(base, "cold")))
            results["one process"].append(run(fresh(base, "one"), INFRAKIT_SYNTH_JOBS="1"))
            results["relay"].append(run(fresh(base, "relay"), INFRAKIT_JSII_RELAY="1"))
            results["local"].append(run(fresh(base, "local"), "local"))
            warm = fresh(base, "warm")
            run(warm)
            results["warm"].append(run(warm))
    baseline = min(wall for wall, _ in results["baseline"])
    print(f"synth benchmark, best of {rounds} rounds (wall clock, fresh process each; CPU of that run)")
    labels = {
        "baseline": "naive peer, all environments (usual imports, no cache)",
        "cold": "infrakit, all environments, cold",
        "one process": "infrakit, all environments, cold, in one process",
        "relay": "infrakit, all environments, cold, behind jsii's relay",
        "local": "infrakit, local alone, cold",
        "warm": "infrakit, all environments, unchanged inputs",
    }
    for key, label in labels.items():
        wall, cpu = min(results[key])
        print(f"  {label:<55} {wall:7.2f} s   {wall / baseline:5.2f}x the naive peer   CPU {cpu:6.2f} s")
    cold = min(wall for wall, _ in results["cold"])
    print(f"cold / naive peer: {cold:.2f} s / {baseline:.2f} s = {cold / baseline:.2f}")


if __name__ == "__main__":
    main()
