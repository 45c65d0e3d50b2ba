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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from infrakit import jsii_node, synth_cache, synth_output

if TYPE_CHECKING:
    from infrakit.config import Environment

EXIT_CONFIG_ERROR = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what shells report for a command ended by Ctrl-C
PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_OUTDIR = "cdktf.out"  # where cdktf's App writes when nothing says otherwise


class UsageError(Exception):
    """A command line that cannot be run as given; the message says what to pass instead."""


def synthesize(environments: Sequence[Environment], outdir: str | Path | None = None) -> list[Path]:
    """Synthesize the stacks into outdir and return the files written.

    The files appear in outdir only once every stack is complete: until then outdir is as it was.
    """
    target = Path(outdir or os.environ.get("CDKTF_OUTDIR") or DEFAULT_OUTDIR)
    with synth_output.staging_directory(target) as staging:
        _run_app(environments, staging)
        with _ctrl_c_ignored():
            return synth_output.move_into_place(staging, target)


def _run_app(environments: Sequence[Environment], outdir: Path) -> None:
    jsii_node.configure()
    # Imported here so that configuration errors are reported before jsii and Node start.
    from infrakit.cdk import App
    from infrakit.stacks.environment_stack import EnvironmentStack
    from infrakit.stacks.images_stack import ImagesStack
    from infrakit.stacks.names import image_services
    from infrakit.stacks.state import TARGET_VERSIONS

    # Stack traces in construct metadata hold absolute paths; leaving them out keeps
    # synthesized output byte-identical across machines.
    app = App(outdir=str(outdir), stack_traces=False, context={"targetVersions": TARGET_VERSIONS})
    for environment in environments:
        if image_services(environment):
            ImagesStack(app, environment)
        EnvironmentStack(app, environment)
    app.synth()


# ----------------------------------------------------------------------------- the command


def main(argv: Sequence[str], *, default_environments_dir: Path, app_file: Path) -> int:
    args = _parser(default_environments_dir).parse_args(argv)
    with _ctrl_c_recorded() as ctrl_c:
        try:
            return _synthesize_command(args, default_environments_dir, app_file)
        except KeyboardInterrupt:
            return _report_interrupt(ctrl_c)
        except Exception:
            # jsii's Node child is in our process group: the same Ctrl-C ends it, and the next
            # call into jsii fails with a broken pipe or an empty reply before Python has
            # raised KeyboardInterrupt.
            if ctrl_c.pressed:
                return _report_interrupt(ctrl_c)
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


def _synthesize_command(args: argparse.Namespace, default_environments_dir: Path, app_file: Path) -> int:
    environments_dir: Path = args.environments_dir
    if not environments_dir.is_dir():
        return _report_config_problems(environments_dir, args.names)
    try:
        outdir = output_directory(
            environments_dir,
            explicit=args.outdir or os.environ.get("CDKTF_OUTDIR"),
            default_environments_dir=default_environments_dir,
            project_dir=app_file.resolve().parent,
        )
    except UsageError as error:
        print(f"python main.py: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR

    inputs = None
    if synth_cache.enabled():
        inputs = synth_cache.fingerprint(
            code=synth_cache.code_files(PACKAGE_DIR, app_file.resolve()),
            environments_dir=environments_dir,
            names=args.names,
        )
        if synth_cache.is_current(outdir, inputs):
            print(f"infrakit: inputs unchanged; {outdir} is up to date", file=sys.stderr)
            return 0

    from infrakit.config import ConfigError, load_environments

    try:
        environments = load_environments(environments_dir, args.names)
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return EXIT_CONFIG_ERROR
    synth_cache.invalidate(outdir)
    written = synthesize(environments, outdir)
    with _ctrl_c_ignored():
        if not args.names:
            _remove_stale_stacks(outdir, environments_dir, _stack_names(environments))
        if inputs is not None:
            synth_cache.record(outdir, inputs, written)
    names = ", ".join(e.name for e in environments)
    print(f"infrakit: synthesized {names}", file=sys.stderr)
    return 0


def output_directory(
    environments_dir: Path,
    *,
    explicit: str | None,
    default_environments_dir: Path,
    project_dir: Path,
) -> Path:
    """Where a synth writes: where --outdir or $CDKTF_OUTDIR says; otherwise cdktf.out, or for
    environment files from another directory, cdktf.out beside that directory.

    A full synth removes the stacks of environments it did not synthesize, so the environments
    of another directory must never share the project's output directory by default.
    """
    if explicit:
        return Path(explicit)
    if _same_path(environments_dir, default_environments_dir):
        return Path(DEFAULT_OUTDIR)
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
            print(f"infrakit: removed stale stack {where}: {gone} no longer exists", file=sys.stderr)
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


@dataclass
class _CtrlC:
    pressed: bool = False
    stderr: TextIO | None = None  # where to report it, once jsii's noise is silenced


@contextmanager
def _ctrl_c_recorded() -> Iterator[_CtrlC]:
    """Raise KeyboardInterrupt on the first Ctrl-C, as Python does, and remember that it came.

    jsii's two Node processes are in our process group, so the same Ctrl-C ends them, and on
    the way out they complain on a stderr pipe that jsii copies to ours ("Error on jsii API
    channel", and at exit a broken pipe in jsii's atexit hook). None of that is the user's to
    read: from the first Ctrl-C on, sys.stderr is silenced and the one line about the interrupt
    goes to the real stderr. Later Ctrl-Cs are ignored so that cleaning up is not cut short.
    """
    ctrl_c = _CtrlC()
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # Started as a background job, or under nohup: Ctrl-C is not ours to handle.
        yield ctrl_c
        return

    def on_sigint(_signum: int, _frame: FrameType | None) -> None:
        ctrl_c.pressed = True
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        ctrl_c.stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115 - open until exit
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield ctrl_c
    finally:
        # After a Ctrl-C, jsii's exit hook still has to stop its Node child: stay as we are.
        if not ctrl_c.pressed:
            signal.signal(signal.SIGINT, previous)


@contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Moving finished files into place takes milliseconds; a Ctrl-C must not leave it half done."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _report_interrupt(ctrl_c: _CtrlC) -> int:
    print(
        "infrakit: synthesis interrupted; nothing half-done was kept (run it again to synthesize)",
        file=ctrl_c.stderr or sys.stderr,
    )
    return EXIT_INTERRUPTED
