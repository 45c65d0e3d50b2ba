"""Byte-compile a site-packages directory on every core, leaving out the AWS provider modules
infrakit never imports.

  .venv/bin/python scripts/byte_compile.py SITE_PACKAGES [--module NAME]...

What `python -m compileall -q -j 0 SITE_PACKAGES` does (same .pyc files, same up-to-date check,
errors printed to stdout), except inside cdktn_provider_aws: there it compiles the package's own
files (its __init__.py), its _jsii assembly and the submodules infrakit imports, and none of the
other ~2,400 (three quarters of the source in site-packages: half of compileall's time). Those
are still importable: Python compiles them from source, in memory, if something ever imports one.

The submodules are the `cdktn_provider_aws.*` keys of `infrakit.cdk._MODULES` (the one place
infrakit imports providers from), or the --module names given instead (each a dotted name, as
there). setup.sh runs this after `pip install --no-compile`.

Exit status: 0 everything compiled; 3 some files could not be compiled (printed to stdout, as
compileall prints them; setup.sh carries on, as pip would: they are read from source); 2 a
listed submodule is not in SITE_PACKAGES (a stale module list: fix infrakit/cdk.py), or a usage
error; 130 interrupted; 1 this script itself failed.
"""

from __future__ import annotations

# As infrakit/__main__.py: a Ctrl-C while this starts (imports, the module list, the walk) ends it
# with 130 and no traceback; setup.sh prints the line. _signal and os are loaded while Python starts.
import _signal  # type: ignore[import-not-found]  # no stub; the C module behind signal
import os

INTERRUPTED = 130


def _interrupted_while_starting(signum: int, frame: object) -> None:
    os._exit(INTERRUPTED)  # nothing started yet: nothing to stop


# A shell that starts us with Ctrl-C ignored (a background job) keeps it ignored.
if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    _signal.signal(_signal.SIGINT, _interrupted_while_starting)

import argparse  # noqa: E402 - after the handler, on purpose
import compileall  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import multiprocessing  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterable, Iterator  # noqa: E402

# Packages compiled only in part: the package's own files, the directories always kept, and the
# submodules the module list names.
SELECTED_PACKAGES = {"cdktn_provider_aws": ("_jsii",)}

SOME_NOT_COMPILED = 3
MISSING_MODULE = 2
BATCH_BYTES = 256 * 1024


class MissingModuleError(Exception):
    """A listed submodule has no directory (or .py file) in site-packages."""


def infrakit_modules() -> list[str]:
    """The modules infrakit imports the CDK and its providers from (a plain dict: cheap to import)."""
    from infrakit.cdk import _MODULES

    return list(_MODULES)


def kept_submodules(site: str, modules: Iterable[str]) -> dict[str, set[str]]:
    """For each package in SELECTED_PACKAGES, the names of the submodules to compile.

    Raises MissingModuleError naming each listed submodule that is not on disk."""
    kept = {package: set(always) for package, always in SELECTED_PACKAGES.items()}
    missing = []
    for module in modules:
        package, _, rest = module.partition(".")
        if package not in kept or not rest:
            continue  # compiled whole, with the rest of site-packages
        submodule = rest.split(".")[0]
        path = os.path.join(site, package, submodule)
        if not (os.path.isdir(path) or os.path.isfile(path + ".py")):
            missing.append(module)
        kept[package].add(submodule)
    if missing:
        raise MissingModuleError(", ".join(missing))
    return kept


def sources(site: str, kept: dict[str, set[str]]) -> Iterator[str]:
    """Every .py file under `site`, as compileall finds them (no __pycache__, no symlinked
    directories), except in the selected packages' submodules that `kept` leaves out."""
    for directory, subdirectories, files in os.walk(site):
        subdirectories[:] = sorted(
            name
            for name in subdirectories
            if name != "__pycache__" and not os.path.islink(os.path.join(directory, name))
        )
        relative = os.path.relpath(directory, site)
        if relative in kept:
            subdirectories[:] = [name for name in subdirectories if name in kept[relative]]
        yield from (os.path.join(directory, name) for name in sorted(files) if name.endswith(".py"))


def compile_batch(paths: list[str]) -> tuple[bool, str]:
    """compileall's own compile_file on each path, quiet as `-q`: whether every one compiled, and
    what they printed (returned, so that two workers' lines do not mix)."""
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        results = [compileall.compile_file(path, quiet=1) for path in paths]
    return all(results), printed.getvalue()


def batches(paths: Iterable[str]) -> list[list[str]]:
    """The paths, largest file first (so that no long file is left to run alone at the end), in
    batches of about BATCH_BYTES of source each: a large file alone, small ones many at a time
    (one message to a worker per batch, not per file)."""
    sized = sorted(((_size(path), path) for path in paths), reverse=True)
    grouped: list[list[str]] = []
    batch: list[str] = []
    total = 0
    for size, path in sized:
        batch.append(path)
        total += size
        if total >= BATCH_BYTES:
            grouped.append(batch)
            batch, total = [], 0
    return [*grouped, batch] if batch else grouped


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def ignore_sigint() -> None:
    """For the pool's workers: Ctrl-C is the parent's to handle (it stops them), or each worker
    would print its own KeyboardInterrupt traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def compile_all(groups: list[list[str]], workers: int) -> bool:
    """Compiles each batch of paths on one of `workers` processes; prints what compileall would
    print. True when every file compiled. A Ctrl-C stops the workers and raises KeyboardInterrupt."""
    every_one = True
    # Forked with Ctrl-C ignored, so that none lands in a worker before its initializer runs.
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        pool = multiprocessing.Pool(workers, initializer=ignore_sigint)
    finally:
        # From here a Ctrl-C raises KeyboardInterrupt, and the `finally` below stops the workers.
        signal.signal(
            signal.SIGINT, signal.SIG_IGN if before == signal.SIG_IGN else signal.default_int_handler
        )
    try:
        for ok, printed in pool.imap_unordered(compile_batch, groups):
            every_one = every_one and ok
            sys.stdout.write(printed)
        pool.close()
    finally:
        pool.terminate()  # a no-op once closed and done; on Ctrl-C, stops the workers at once
        pool.join()
    return every_one


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", metavar="SITE_PACKAGES", help="the site-packages directory to compile")
    parser.add_argument(
        "--module",
        action="append",
        metavar="NAME",
        help="a module infrakit imports (repeatable); default: the keys of infrakit.cdk._MODULES",
    )
    args = parser.parse_args(argv)
    site = os.path.abspath(args.site)
    if not os.path.isdir(site):
        parser.error(f"{args.site} is not a directory")
    try:
        kept = kept_submodules(site, args.module if args.module is not None else infrakit_modules())
    except MissingModuleError as error:
        print(
            f"byte_compile: not in {site}: {error}. The module list (infrakit/cdk.py's _MODULES) "
            "names a provider submodule that is not installed: fix the list or the pins",
            file=sys.stderr,
        )
        return MISSING_MODULE
    workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 0 if compile_all(batches(sources(site, kept)), workers) else SOME_NOT_COMPILED


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED)
