"""`infrakit` and `python -m infrakit`: see infrakit/cli.py. Here only what a process needs around main().

The first statements install a Ctrl-C handler, before the slow imports (rich, pydantic, the config
models), so that a Ctrl-C while the command starts prints one line instead of a traceback from
whichever import it interrupted. Only Python's own start-up, before this file runs, is out of reach.
"""

# _signal and os, not signal: both are loaded while Python starts (signal is not, and importing it
# builds enums for a few milliseconds), so the handler below is in place two lines in.
import _signal  # type: ignore[import-not-found]  # no stub; the C module behind signal
import os

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command ended by Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as shells report `cmd | head` for tools that die of it


def _interrupted_while_starting(signum: int, frame: object) -> None:
    # os.write and os._exit: the interrupted import may hold locks that print() or an exit would need.
    try:
        os.write(2, b"infrakit: interrupted (Ctrl-C) while starting; nothing was changed\n")
    finally:
        os._exit(EXIT_INTERRUPTED)


# A shell that starts us with Ctrl-C ignored (a background job) keeps it ignored.
if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    _signal.signal(_signal.SIGINT, _interrupted_while_starting)

import signal  # noqa: E402 - after the handler, on purpose
import sys  # noqa: E402


def run() -> None:
    """The `infrakit` console script, and `python -m infrakit`."""
    from infrakit.cli import main
    from infrakit.interrupts import dropped_interrupts_redelivered

    if signal.getsignal(signal.SIGINT) is _interrupted_while_starting:
        # From here main() handles Ctrl-C itself, saying what the command was doing.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with dropped_interrupts_redelivered():  # a Ctrl-C that lands in an import's lock callback
            code = main()
    except BrokenPipeError:
        _reader_went_away()
    except KeyboardInterrupt:  # while main() read its arguments, before any command started
        _interrupted_while_starting(signal.SIGINT, None)
    # The outcome is decided; a Ctrl-C during the interpreter's shutdown would only print a traceback.
    signal.signal(signal.SIGINT, lambda _signum, _frame: os._exit(code))
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _reader_went_away()
    except OSError:
        pass  # stdout closed some other way: the exit code still tells the outcome
    sys.exit(code)


def _reader_went_away() -> None:
    """`infrakit migrate --dry-run | head -1`: the reader has what it wanted. Exit quietly, as Unix
    tools do, instead of a traceback and a second error when Python flushes stdout at exit."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(EXIT_BROKEN_PIPE)


if __name__ == "__main__":
    run()
