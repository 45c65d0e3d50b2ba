"""Index the provider packages in jsii's package cache, once per machine.

    python -m infrakit.jsii_index [--check] [PACKAGE ...]

jsii's kernel keeps each package it loads unpacked in a cache (~/.cache/aws/jsii/package-cache,
or $JSII_RUNTIME_PACKAGE_CACHE_ROOT), and the first time it loads a package from there it starts
a worker thread that writes an index of the package's types beside it. Later kernels read only the
types a synth uses, instead of parsing the whole assembly: 155 MB of JSON for the AWS provider.
But the worker stops with its kernel, and indexing the AWS provider takes longer than a synth
lasts. So on a machine where no long-lived process had loaded the AWS provider (a newcomer's
before the test suite ran, or a fresh CI runner), no synth ever wrote the index, and every synth
of an AWS environment parsed the whole assembly: `python main.py dev` took 4.3 s instead of 2.0 s,
measured here.

scripts/setup.sh runs this. It loads the provider packages (every one infrakit uses, or the
PACKAGEs named) in a kernel that is asked to exit only once the index workers it started are done
(INFRAKIT_JSII_FINISH_INDEXING, read by infrakit/jsii_kernel.js). With --check it only says
whether each is indexed, by its exit status alone: 0 if so, 1 if not. Where the index lies is jsii's business
(lib__program.js: defaultCacheRoot, RUNTIME_INDEX_VERSION): if jsii moves it, --check answers
"not indexed" and indexing runs again, which is slower but still right (a test fails then).

Exit status: 0 done, or nothing to do; 1 not indexed (--check), or indexing failed (a synth still
works, parsing the packages whole); 2 usage; 130 interrupted (the next run finishes the job).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

from infrakit import jsii_node

# The prebuilt providers infrakit builds stacks with (infrakit/cdk.py), and their npm scope.
PACKAGES = ("cdktn_provider_aws", "cdktn_provider_docker", "cdktn_provider_random")
NPM_SCOPE = "@cdktn"
INDEX_MANIFEST = ".jsii.runtime.v1.json"  # jsii 1.142: RUNTIME_INDEX_VERSION "v1"
FINISH_VARIABLE = "INFRAKIT_JSII_FINISH_INDEXING"
INDEXING_SECONDS = 600.0
EXIT_NOT_INDEXED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def cache_root(environ: Mapping[str, str], home: Path, platform: str) -> Path | None:
    """Where jsii's kernel keeps its package cache, or None when the cache is turned off (then
    every kernel unpacks and parses each package afresh, and there is nothing to index)."""
    if environ.get("JSII_RUNTIME_PACKAGE_CACHE", "enabled").lower() != "enabled":
        return None
    if environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT"):
        return Path(environ["JSII_RUNTIME_PACKAGE_CACHE_ROOT"])
    if platform == "darwin":
        return home / "Library" / "Caches" / "com.amazonaws.jsii" / "package-cache"
    return home / ".cache" / "aws" / "jsii" / "package-cache"


def assembly(package: str) -> tuple[str, str] | None:
    """The npm name and version of a Python provider package's jsii assembly, read from the name of
    the tarball it ships (`_jsii/provider-aws@25.8.1.jsii.tgz`) without importing it."""
    spec = importlib.util.find_spec(package)
    for location in (spec.submodule_search_locations or []) if spec else []:
        for tarball in sorted((Path(location) / "_jsii").glob("*@*.jsii.tgz")):
            name, _, version = tarball.name.removesuffix(".jsii.tgz").rpartition("@")
            return f"{NPM_SCOPE}/{name}", version
    return None


def indexed(root: Path, npm_name: str, version: str) -> bool:
    return any((root / npm_name / version).glob(f"*/{INDEX_MANIFEST}"))


def not_indexed(root: Path, packages: Sequence[str]) -> list[str]:
    missing = []
    for package in packages:
        found = assembly(package)
        if found is None or not indexed(root, *found):
            missing.append(package)
    return missing


def index(packages: Sequence[str]) -> None:
    """Load `packages` in a kernel run in place, then wait for it to finish indexing them."""
    os.environ[FINISH_VARIABLE] = "1"
    jsii_node.configure()
    if os.environ.get(jsii_node.RUNTIME_VARIABLE) != str(jsii_node.KERNEL):
        raise RuntimeError(
            "jsii's kernel cannot run in place here (infrakit/jsii_node.py: run_kernel_in_place), "
            "and behind jsii's relay it stops before the index is written"
        )
    started = time.monotonic()
    with jsii_node.own_temporary_directory():
        for package in packages:
            importlib.import_module(package)
    jsii_node.stop_kernel(
        INDEXING_SECONDS,
        still_waiting=lambda seconds: say(f"still indexing ({seconds:.0f} s)"),
        every=5.0,
    )
    say(f"indexed in {time.monotonic() - started:.0f} s")


def say(message: str) -> None:
    print(f"infrakit: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infrakit.jsii_index",
        description="Index the provider packages in jsii's package cache, so that synths load "
        "only the types they use.",
    )
    parser.add_argument("--check", action="store_true", help="exit 0 if every package is indexed, 1 if not")
    parser.add_argument("packages", nargs="*", metavar="PACKAGE", help=f"default: {' '.join(PACKAGES)}")
    args = parser.parse_args(argv)
    packages = args.packages or list(PACKAGES)
    unknown = [p for p in packages if assembly(p) is None]
    if unknown:
        say(f"not an installed jsii package: {', '.join(unknown)}")
        return EXIT_USAGE
    root = cache_root(os.environ, Path.home(), sys.platform)
    if root is None:
        say("jsii's package cache is off (JSII_RUNTIME_PACKAGE_CACHE): nothing to index")
        return 0
    missing = not_indexed(root, packages)
    if args.check:
        return EXIT_NOT_INDEXED if missing else 0
    if not missing:
        say(f"jsii's index of {', '.join(packages)} is up to date")
        return 0
    say(f"indexing {', '.join(missing)} in {root}")
    # A terminal's Ctrl-C reaches Node too, which may die before Python sees the KeyboardInterrupt:
    # then jsii raises an error of its own, and only this flag tells the two apart.
    pressed = False

    def ctrl_c(signum: int, frame: FrameType | None) -> None:
        nonlocal pressed
        pressed = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, ctrl_c)
    sys.stderr = jsii_node.NodeLinesAsText(sys.stderr)
    try:
        index(missing)
    except BaseException as error:  # noqa: BLE001 - any failure leaves synths working, only slower
        if pressed or isinstance(error, KeyboardInterrupt):
            say("indexing interrupted; the next run finishes it (synths work meanwhile, only slower)")
            return EXIT_INTERRUPTED
        if jsii_node.node_stopped(error):
            jsii_node.no_broken_pipe_at_exit()
            error = RuntimeError(
                "jsii's Node stopped; what it said, if anything, is above. Check NODE_OPTIONS and JSII_NODE"
            )
        say(f"could not index {', '.join(missing)}: {error} (synths work, only slower)")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # nothing left to interrupt
        jsii_node.stop_kernel()  # at once if Node is gone; jsii's exit hook would print a traceback
        jsii_node.remove_own_temporary_directory()
    still = not_indexed(root, missing)
    if still:
        say(f"jsii wrote no index for {', '.join(still)} (synths work, only slower)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
