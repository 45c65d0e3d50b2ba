"""Synthesize environment stacks: `python main.py [ENV...]`.

Fast paths, in order: an unchanged synth is skipped outright (synth_cache); otherwise only the
provider submodules a stack uses are loaded (jsii_node). Stacks are written into a
staging directory and moved into place at the end (synth_output), so that Ctrl-C never leaves
a half-written stack.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn, TextIO

from infrakit import jsii_node, synth_cache, synth_jobs, synth_output
from infrakit.interrupts import dropped_interrupts_redelivered

if TYPE_CHECKING:
    from infrakit.config import Environment

EXIT_CONFIG_ERROR = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what shells report for a command ended by Ctrl-C
INTERRUPTED = "infrakit: synthesis interrupted; nothing half-done was kept (run it again to synthesize)"
PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_OUTDIR = "cdktf.out"  # where cdktf's App writes when nothing says otherwise


class UsageError(Exception):
    """A command line that cannot be run as given; the message says what to pass instead."""


class SynthesisFailed(Exception):
    """A process synthesizing some of the environments failed; it has said why on stderr."""

    def __init__(self, names: Sequence[str], status: int):
        self.names = list(names)
        self.status = status
        super().__init__(f"synthesis of {', '.join(names)} failed (exit status {status})")


def synthesize(
    environments: Sequence[Environment], outdir: str | Path | None = None, *, jobs: int = 1
) -> list[Path]:
    """Synthesize the stacks into outdir and return the files written.

    The files appear in outdir only once every stack is complete: until then outdir is as it was.
    With `jobs` above 1, up to that many processes synthesize the environments between them
    (synth_jobs), when this process has not started jsii yet; the output is the same.
    """
    target = Path(outdir or os.environ.get("CDKTF_OUTDIR") or DEFAULT_OUTDIR)
    with synth_output.staging_directory(target) as staging:
        groups = synth_jobs.partition(environments, jobs) if _can_fork() else [list(environments)]
        if len(groups) > 1:
            _run_in_processes(groups, staging)
        else:
            _run_app(environments, staging)
        with _ctrl_c_ignored():
            return synth_output.move_into_place(staging, target)


def _can_fork() -> bool:
    """A child forked before the CDK is imported starts its own jsii and Node; one forked after
    would share this process's pipes to Node (and jsii's threads would not exist in it)."""
    return hasattr(os, "fork") and "cdktn" not in sys.modules and threading.active_count() == 1


def _run_in_processes(groups: Sequence[Sequence[Environment]], staging: Path) -> None:
    """The first group here, each other group in a forked child writing into its own directory
    inside staging; then the children's output is merged in. A child that fails fails the synth:
    SynthesisFailed, after every child has ended."""
    sys.stdout.flush()
    sys.stderr.flush()
    children: list[tuple[int, Sequence[Environment], Path]] = []
    try:
        for index, group in enumerate(groups[1:], start=1):
            part = staging / f".part-{index}"
            pid = os.fork()
            if pid == 0:
                _child(group, part)
            children.append((pid, group, part))
        _run_app(groups[0], staging)
        failed: SynthesisFailed | None = None
        while children:
            pid, group, part = children[0]
            _, status = os.waitpid(pid, 0)
            children.pop(0)
            code = os.waitstatus_to_exitcode(status)
            if code != 0 and failed is None:
                failed = SynthesisFailed([e.name for e in group], code)
            elif code == 0:
                synth_jobs.merge_part(staging, part)
        if failed is not None:
            raise failed
    finally:
        _end_children([pid for pid, _, _ in children])


CHILD_GRACE_SECONDS = 5.0


def _end_children(pids: Sequence[int]) -> None:
    """Cut short (a Ctrl-C, a failure here): a Ctrl-C to each child, which then stops its Node and
    exits as a Ctrl-C at the terminal would have it; SIGKILL for any still running after
    CHILD_GRACE_SECONDS (one that ignores Ctrl-C, as a background job does). Each is waited for."""
    for pid in pids:
        with suppress(OSError):
            os.kill(pid, signal.SIGINT)
    remaining = set(pids)
    deadline = time.monotonic() + CHILD_GRACE_SECONDS
    while remaining and time.monotonic() < deadline:
        for pid in list(remaining):
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    remaining.discard(pid)
            except ChildProcessError:
                remaining.discard(pid)
        time.sleep(0.01)
    for pid in remaining:
        with suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _child(group: Sequence[Environment], part: Path) -> NoReturn:
    """Synthesize `group` into `part` and exit: 0 done, 130 interrupted, 1 failed (the traceback
    printed, as a one-process synth prints it). Never returns into the parent's code."""
    code = 1
    node_stopped = False
    try:
        _run_app(group, part)
        code = 0
    except BaseException as error:  # noqa: BLE001 - a child reports through its exit status
        ctrl_c = _active
        if ctrl_c is not None and ctrl_c.pressed:
            code = EXIT_INTERRUPTED
        elif jsii_node.node_stopped(error):
            node_stopped = True
        else:
            traceback.print_exc()
    finally:
        with suppress(BaseException):
            _stop_jsii_node()  # and its temporary directory: os._exit below runs no exit hook
            if node_stopped:
                _report_node_stopped()
            if code == 0 and isinstance(sys.stderr, _HeldFromOtherThreads):
                sys.stderr.release()  # what Node said on stderr, as the parent does at its end
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _run_app(environments: Sequence[Environment], outdir: Path) -> None:
    jsii_node.configure()
    # Node starts at the first CDK import, in one of these.
    with jsii_node.own_temporary_directory():
        jsii_node.skip_runtime_type_checks()
        # Imported here so that configuration errors are reported before jsii and Node start.
        from infrakit.cdk import App
        from infrakit.stacks.environment_stack import EnvironmentStack
        from infrakit.stacks.images_stack import ImagesStack
        from infrakit.stacks.names import image_services
        from infrakit.stacks.state import TARGET_VERSIONS

    # Stack traces in construct metadata hold absolute paths; leaving them out keeps
    # synthesized output byte-identical across machines.
    # Absolute: jsii's Node resolves a relative path against its own working directory, which is
    # this process's when Node started, not necessarily now.
    app = App(outdir=str(outdir.resolve()), stack_traces=False, context={"targetVersions": TARGET_VERSIONS})
    for environment in environments:
        if image_services(environment):
            ImagesStack(app, environment)
        EnvironmentStack(app, environment)
    app.synth()


# ----------------------------------------------------------------------------- the command


def main(argv: Sequence[str], *, default_environments_dir: Path, app_file: Path) -> int:
    with _ctrl_c_recorded() as ctrl_c:
        try:
            args = _parser(default_environments_dir).parse_args(argv)
            return _synthesize_command(args, default_environments_dir, app_file, ctrl_c)
        except KeyboardInterrupt:
            return _report_interrupt(ctrl_c)
        except Exception as error:
            # jsii's Node child is in our process group: the same Ctrl-C ends it, and the next
            # call into jsii fails with a broken pipe or an empty reply before Python has
            # raised KeyboardInterrupt.
            if ctrl_c.pressed:
                return _report_interrupt(ctrl_c)
            if jsii_node.node_stopped(error):
                return _report_node_stopped()
            raise


def _parser(default_environments_dir: Path) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description="Synthesize Terraform for the named environments (all when none are named).",
    )
    parser.add_argument("names", nargs="*", metavar="ENV", help="environment file stem, e.g. local")
    parser.add_argument(
        "--environments-dir",
        type=Path,
        default=default_environments_dir,
        help="directory of <env>.toml files (default: %(default)s)",
    )
    parser.add_argument(
        "--outdir",
        default=None,
        help="output directory (default: $CDKTF_OUTDIR, else cdktf.out; with --environments-dir, "
        "cdktf.out beside that directory)",
    )
    return parser


def _synthesize_command(
    args: argparse.Namespace, default_environments_dir: Path, app_file: Path, ctrl_c: _CtrlC
) -> int:
    environments_dir: Path = args.environments_dir
    if not environments_dir.is_dir():
        return _report_config_problems(environments_dir, args.names)
    try:
        names = environment_names(args.names, environments_dir)
        outdir = output_directory(
            environments_dir,
            explicit=args.outdir or os.environ.get("CDKTF_OUTDIR"),
            default_environments_dir=default_environments_dir,
            project_dir=app_file.resolve().parent,
        )
        jobs = synth_jobs.jobs_wanted(os.environ, synth_jobs.available_cores())
    except synth_jobs.JobsError as error:
        print(f"python main.py: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    except UsageError as error:
        print(f"python main.py: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR

    inputs = None
    if synth_cache.enabled():
        # An input it cannot read (a broken *.toml) means no cache: the loader then says what is wrong.
        with suppress(OSError):
            inputs = synth_cache.fingerprint(
                code=synth_cache.code_files(PACKAGE_DIR, app_file.resolve()),
                environments_dir=environments_dir,
                names=names,
            )
        if inputs is not None and synth_cache.is_current(outdir, inputs):
            print(f"infrakit: inputs unchanged; {_display(outdir)} is up to date")
            return 0

    from infrakit.config import ConfigError, load_environments

    try:
        environments = load_environments(environments_dir, names)
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return EXIT_CONFIG_ERROR
    try:
        synth_cache.invalidate(outdir)
        written = synthesize(environments, outdir, jobs=jobs)
    except synth_output.OutputNotWritable as error:
        return _report_not_writable(outdir, error.path, error.reason)
    except SynthesisFailed as error:
        if ctrl_c.pressed:
            raise
        print(
            f"infrakit: synthesis of {', '.join(error.names)} failed in a separate process (exit status "
            f"{error.status}, see above); nothing was replaced in {_display(outdir)}. To synthesize in "
            f"one process, set {synth_jobs.JOBS_VARIABLE}=1",
            file=sys.stderr,
        )
        return 1
    except OSError as error:
        where = Path(error.filename) if error.filename else None
        if ctrl_c.pressed or where is None or not where.resolve().is_relative_to(outdir.resolve()):
            raise  # not the output directory's doing: a Ctrl-C, jsii's pipe to Node, a missing Node
        return _report_not_writable(outdir, where, error.strerror or str(error))
    synthesized = ", ".join(e.name for e in environments)
    with _ctrl_c_ignored():
        if not args.names:
            _remove_stale_stacks(outdir, environments_dir, _stack_names(environments))
        if inputs is not None:
            synth_cache.record(outdir, inputs, written)
        _stop_jsii_node()
    if ctrl_c.pressed and not ctrl_c.started_ignored:
        print(
            f"infrakit: synthesis interrupted while finishing; {_display(outdir)} holds the complete "
            f"output of {synthesized}",
            file=ctrl_c.stderr,
        )
        return EXIT_INTERRUPTED
    print(f"infrakit: synthesized {synthesized}")
    return 0


def environment_names(given: Sequence[str], environments_dir: Path) -> list[str]:
    """The environments asked for, as file stems: `local`, `local.toml` and
    `environments/local.toml` all name `local`. Each is named once, in the order given."""
    names: list[str] = []
    for text in given:
        path = Path(text)
        if path.suffix == ".toml" or len(path.parts) > 1:
            if len(path.parts) > 1 and not _same_path(path.parent, environments_dir):
                raise UsageError(
                    f"{text} is not in the environments directory {_display(environments_dir)}; "
                    f"to synthesize it, run: python main.py --environments-dir {path.parent} "
                    f"{path.name.removesuffix('.toml')}"
                )
            text = path.name.removesuffix(".toml")
        if text not in names:
            names.append(text)
    return names


def _report_not_writable(outdir: Path, path: Path, reason: str) -> int:
    print(
        f"infrakit: cannot write the synthesized output to {_display(outdir)}: {_display(path)}: "
        f"{reason}. Nothing was replaced. Make {_display(outdir)} and everything in it writable "
        "by you, or pass --outdir DIR to write elsewhere",
        file=sys.stderr,
    )
    return EXIT_CONFIG_ERROR


def _stop_jsii_node() -> None:
    """Stop jsii's Node child now, while a Ctrl-C is ours to handle, instead of in jsii's exit hook,
    where a Ctrl-C (which reaches Node too) prints a broken pipe traceback (jsii_node.stop_kernel).
    Then deletes the temporary directory Node was given, with what a Node ended by Ctrl-C left."""
    try:
        jsii_node.stop_kernel()
    finally:
        jsii_node.remove_own_temporary_directory()


def output_directory(
    environments_dir: Path,
    *,
    explicit: str | None,
    default_environments_dir: Path,
    project_dir: Path,
) -> Path:
    """Where a synth writes: where --outdir or $CDKTF_OUTDIR says (a relative path is relative to the
    working directory); otherwise the project's cdktf.out, beside main.py, or for environment files
    from another directory, cdktf.out beside that directory.

    A full synth removes the stacks of environments it did not synthesize, so the environments
    of another directory must never share the project's output directory by default.
    """
    if explicit:
        return Path(explicit)
    if _same_path(environments_dir, default_environments_dir):
        # The project's own, wherever main.py is run from: cdktf.json and Terraform look there.
        return project_dir / DEFAULT_OUTDIR
    beside = environments_dir.resolve().parent / DEFAULT_OUTDIR
    if _same_path(beside, project_dir / DEFAULT_OUTDIR):
        raise UsageError(
            f"the output for --environments-dir {environments_dir} would default to the project's "
            f"{DEFAULT_OUTDIR}, which holds the stacks of {_display(default_environments_dir)}; "
            "pass --outdir DIR to say where its stacks go"
        )
    return beside


def _same_path(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _report_config_problems(environments_dir: Path, names: Sequence[str]) -> int:
    from infrakit.config import ConfigError, load_environments

    try:
        load_environments(environments_dir, names)
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
    return EXIT_CONFIG_ERROR


def _stack_names(environments: Sequence[Environment]) -> set[str]:
    """Each environment's stack and its supporting stacks, which share its file."""
    from infrakit.stacks.names import image_services, images_stack_name

    names = {e.name for e in environments}
    return names | {images_stack_name(e.name) for e in environments if image_services(e)}


def _remove_stale_stacks(outdir: Path, environments_dir: Path, current: set[str]) -> None:
    for stack in synth_output.remove_stale_stacks(outdir, current):
        # A supporting stack (<env>-images) goes with its environment's file.
        gone = _display(environments_dir / f"{stack.name.removesuffix('-images')}.toml")
        where = _display(stack.directory)
        if stack.removable:
            print(f"infrakit: removed stale stack {where}: {gone} no longer exists")
            continue
        state = ", ".join(_display(path) for path in stack.state_files)
        print(
            f"infrakit: warning: kept stale stack {where} although {gone} no longer exists, because "
            f"it holds Terraform state ({state}). If its resources still exist, run `terraform "
            "destroy` in that directory; then delete it. Until then scripts/scan.sh scans it too.",
            file=sys.stderr,
        )


def _display(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# ----------------------------------------------------------------------------- Ctrl-C


class _HeldFromOtherThreads:
    """sys.stderr while main() runs: the main thread writes straight through; other threads, which
    here means jsii's thread copying Node's stderr, are held until main() ends, then written out,
    unless a Ctrl-C came. A dying Node's complaint can reach that thread before Python has run its
    Ctrl-C handler, so silencing stderr in the handler alone comes too late."""

    def __init__(self, real: TextIO):
        self.real = real
        self.held: list[str | bytes] = []
        self.buffer = _HeldBytes(self)

    def write(self, text: str) -> int:
        if threading.current_thread() is threading.main_thread():
            return self.real.write(text)
        self.held.append(text)
        return len(text)

    def flush(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self.real.flush()

    def release(self) -> None:
        previous: str | bytes = ""
        for item in self.held:
            if isinstance(item, bytes):
                self.real.buffer.write(item)
            elif item == "\n" and jsii_node.node_line(previous) is not None:
                pass  # print()'s own newline after a bytes line, which ends in one already
            else:
                self.real.write(jsii_node.node_line(item) or item)
            previous = item
        self.held.clear()
        self.real.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


class _HeldBytes:
    def __init__(self, owner: _HeldFromOtherThreads):
        self.owner = owner

    def write(self, data: bytes) -> int:
        if threading.current_thread() is threading.main_thread():
            return self.owner.real.buffer.write(data)
        self.owner.held.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self.owner.real.buffer.flush()


@dataclass
class _CtrlC:
    real_stderr: TextIO
    pressed: bool = False
    raises: bool = True  # False while finishing: the output is complete, stopping it would gain nothing
    started_ignored: bool = False  # a background job: Ctrl-C is not ours, though it still ends Node

    @property
    def stderr(self) -> TextIO:
        """Where to report the interrupt, once jsii's noise is silenced."""
        return self.real_stderr

    def on_sigint(self, _signum: int, _frame: FrameType | None) -> None:
        if self.pressed:
            return  # later Ctrl-Cs must not cut the cleanup short
        self.pressed = True
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - open until exit
        if self.raises and not self.started_ignored:
            raise KeyboardInterrupt

    def rearm(self) -> None:
        """The KeyboardInterrupt never reached the synth (infrakit/interrupts.py): the Ctrl-C
        delivered again must raise it, not be taken for a later one."""
        self.pressed = False


_active: _CtrlC | None = None


@contextmanager
def _ctrl_c_recorded() -> Iterator[_CtrlC]:
    """Raise KeyboardInterrupt on the first Ctrl-C, as Python does, and remember that it came.

    jsii's Node (two behind jsii's relay) is in our process group, so the same Ctrl-C ends it, and
    on the way out it may complain on a stderr pipe that jsii copies to ours ("Error on jsii API
    channel", and at exit a broken pipe in jsii's atexit hook). None of that is the user's to
    read: from the first Ctrl-C on, sys.stderr is silenced and the one line about the interrupt
    goes to the real stderr. Later Ctrl-Cs are ignored so that cleaning up is not cut short.

    Started with Ctrl-C ignored (a background job of a script), Python goes on ignoring it, but
    Node resets its signals at start and still dies of it: the Ctrl-C is recorded, so that the
    failure it causes is reported as an interruption rather than as jsii's traceback.
    """
    global _active
    real_stderr = sys.stderr
    held = _HeldFromOtherThreads(real_stderr)
    ctrl_c = _CtrlC(real_stderr, started_ignored=signal.getsignal(signal.SIGINT) is signal.SIG_IGN)
    previous = signal.signal(signal.SIGINT, ctrl_c.on_sigint)
    outer, _active = _active, ctrl_c
    sys.stderr = held  # quacks like a TextIO where jsii uses it
    try:
        with dropped_interrupts_redelivered(rearm=ctrl_c.rearm):
            yield ctrl_c
    finally:
        _active = outer
        # After a Ctrl-C, jsii's exit hook may still have to stop its Node child: stay as we are.
        if not ctrl_c.pressed:
            sys.stderr = real_stderr
            held.release()
            signal.signal(signal.SIGINT, previous)


@contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Moving finished files into place takes milliseconds; a Ctrl-C must not leave it half done.

    Under main(), the run is finishing from here on: a Ctrl-C is recorded, not raised, and main()
    reports it once the output is complete and jsii's Node stopped.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread
        return
    ctrl_c = _active
    if ctrl_c is not None and signal.getsignal(signal.SIGINT) == ctrl_c.on_sigint:
        ctrl_c.raises = False
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


NODE_STOPPED = (
    "infrakit: jsii's Node stopped before the synthesis was done; what it said, if anything, is above. Check "
    "NODE_OPTIONS and JSII_NODE. Nothing was replaced"
)


def _report_node_stopped() -> int:
    """What Node said first (held until now, as every line from jsii's thread is), then one line."""
    if isinstance(sys.stderr, _HeldFromOtherThreads):
        sys.stderr.release()
    print(NODE_STOPPED, file=sys.stderr)
    jsii_node.no_broken_pipe_at_exit()
    return 1


def _report_interrupt(ctrl_c: _CtrlC) -> int:
    print(INTERRUPTED, file=ctrl_c.stderr)
    return EXIT_INTERRUPTED
