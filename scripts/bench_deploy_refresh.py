"""Benchmark the deploy's Terraform work, before and after it applied the plan it summarized.
Prints its numbers side by side; asserts nothing.

  .venv/bin/python scripts/bench_deploy_refresh.py [--resources 100 400] [--slow-reads 0 40]
                                                   [--delay-ms 100] [--rounds 3]

- before: what `infrakit deploy` ran per stack until issue #19: the plan gate's
  `terraform plan -out=FILE` and `terraform show -json FILE`, then `cdktf deploy`, whose
  `terraform apply -auto-approve` plans (and refreshes) everything again, then applies;
- after: `terraform plan -out=FILE`, `terraform show -json FILE`, `terraform apply FILE`.

Real Terraform, on configurations of built-in resources only (no provider can be downloaded here):
N `terraform_data` resources, already in the state, 10% of them changed by the deploy. Their
refresh is local and nearly free, so that alone measures Terraform's own planning work. A real
stack's refresh is one read API call per resource (the AWS provider's Read); to stand in for that,
M `terraform_remote_state` data sources read, through Terraform's built-in `http` backend, a local
server that answers each GET after --delay-ms and counts them. Every plan reads each data source
once (10 at a time, Terraform's default parallelism), and applying a saved plan reads none. Both
flows start from a copy of the same directory and state, interleaved round by round; the median of
the rounds counts.

Left out of "before", so its saving is understated: cdktf's own work (Node's start, a second synth
of the app, its own `terraform init` check), typically seconds per stack.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ENVIRON = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
LOCK = "-lock-timeout=60s"
STATE = {  # what each slow read returns: a state with one output
    "version": 4,
    "terraform_version": "1.11.4",
    "serial": 1,
    "lineage": "bench-deploy-refresh",
    "outputs": {"value": {"value": "read", "type": "string"}},
    "resources": [],
}


class SlowState:
    """A local HTTP server that answers every GET with STATE after `delay` seconds, and counts them."""

    def __init__(self, delay: float):
        self.delay, self.reads, self.lock = delay, 0, threading.Lock()
        bench = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                time.sleep(bench.delay)
                with bench.lock:
                    bench.reads += 1
                body = json.dumps(STATE).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def take(self) -> int:
        with self.lock:
            reads, self.reads = self.reads, 0
        return reads


@contextmanager
def slow_state(delay: float) -> Iterator[SlowState]:
    server = SlowState(delay)
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def configuration(resources: int, reads: int, url: str, changed: bool) -> dict[str, object]:
    """N terraform_data resources (the first 10% with another input once `changed`), M slow reads."""
    document: dict[str, object] = {
        "resource": {
            "terraform_data": {
                f"r{index}": {"input": "two" if changed and index < max(resources // 10, 1) else "one"}
                for index in range(resources)
            }
        }
    }
    if reads:
        document["data"] = {
            "terraform_remote_state": {
                f"read{index}": {"backend": "http", "config": {"address": f"{url}/state/{index}"}}
                for index in range(reads)
            }
        }
    return document


def terraform(binary: str, directory: Path, *args: str) -> None:
    done = subprocess.run([binary, *args], cwd=directory, env=ENVIRON, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"`{binary} {' '.join(args)}` failed in {directory}:\n{done.stderr[-2000:]}")


def before(binary: str, directory: Path, plan_file: str) -> None:
    terraform(binary, directory, "plan", "-input=false", f"-out={plan_file}", LOCK)
    terraform(binary, directory, "show", "-json", plan_file)
    terraform(binary, directory, "apply", "-auto-approve", "-input=false", LOCK)  # cdktf deploy's


def after(binary: str, directory: Path, plan_file: str) -> None:
    terraform(binary, directory, "plan", "-input=false", f"-out={plan_file}", LOCK)
    terraform(binary, directory, "show", "-json", plan_file)
    terraform(binary, directory, "apply", "-input=false", LOCK, plan_file)


def measure(
    binary: str, base: Path, work: Path, flow: Callable[[str, Path, str], None], server: SlowState
) -> tuple[float, int]:
    """Wall time and slow reads of one deploy, from a fresh copy of the base directory."""
    directory = work / "stack"
    shutil.rmtree(directory, ignore_errors=True)
    shutil.copytree(base, directory, symlinks=True)
    server.take()
    started = time.perf_counter()
    flow(binary, directory, str(work / "stack.tfplan"))
    elapsed = time.perf_counter() - started
    (work / "stack.tfplan").unlink(missing_ok=True)
    return elapsed, server.take()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, nargs="+", default=[100, 400])
    parser.add_argument("--slow-reads", type=int, nargs="+", default=[0, 40])
    parser.add_argument("--delay-ms", type=float, default=100.0, help="per slow read (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--terraform", default=os.environ.get("TERRAFORM_BINARY_NAME", "terraform"))
    args = parser.parse_args()
    binary = shutil.which(args.terraform)
    if binary is None:
        raise SystemExit(f"no {args.terraform} on PATH: install Terraform >= 1.10")
    version = subprocess.run([binary, "version"], capture_output=True, text=True, env=ENVIRON).stdout
    print(f"{version.splitlines()[0]}; {args.rounds} rounds, median; slow read = {args.delay_ms:g} ms; "
          "10% of the resources change")  # fmt: skip
    header = (
        f"{'resources':>9} {'slow reads':>10} | {'before: plan + (plan+apply)':>28} | "
        f"{'after: plan + apply(file)':>26} | {'saved':>15} | {'reads before/after':>18}"
    )
    print(header)
    print("-" * len(header))
    with slow_state(args.delay_ms / 1000) as server, tempfile.TemporaryDirectory() as scratch:
        for resources in args.resources:
            for reads in args.slow_reads:
                base = Path(scratch) / f"base-{resources}-{reads}"
                base.mkdir()
                tf = base / "main.tf.json"
                tf.write_text(json.dumps(configuration(resources, reads, server.url, changed=False)))
                terraform(binary, base, "init", "-input=false")
                terraform(binary, base, "apply", "-auto-approve", "-input=false")  # the deployed state
                tf.write_text(json.dumps(configuration(resources, reads, server.url, changed=True)))
                times: dict[str, list[float]] = {"before": [], "after": []}
                counted: dict[str, int] = {}
                for _ in range(args.rounds):
                    for name, flow in (("before", before), ("after", after)):
                        elapsed, read = measure(binary, base, Path(scratch), flow, server)
                        times[name].append(elapsed)
                        counted[name] = read
                old, new = statistics.median(times["before"]), statistics.median(times["after"])
                saved = f"{old - new:.2f} s ({(old - new) / old:.0%})"
                print(
                    f"{resources:>9} {reads:>10} | {old:>26.2f} s | {new:>24.2f} s | {saved:>15} | "
                    f"{counted['before']:>8} / {counted['after']:<8}"
                )


if __name__ == "__main__":
    main()
