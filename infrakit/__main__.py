"""`infrakit` and `python -m infrakit`: see infrakit/cli.py. Here only what a process needs around main().

The first statements install a Ctrl-C handler, before the slow imports (rich, pydantic, the config
models), so that a Ctrl-C while the command starts prints one line instead of a traceback from
whichever import it interrupted. Only Python's own start-up, before this file runs, is out of reach.
"""

import os
import signal
import sys

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command ended by Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as shells report `cmd | head` for tools that die of it


def _interrupted_while_starting(signum: int, frame: object) -> None:
    # os.write and os._exit: the interrupted import may hold locks that print() or an exit would need.
    try:
        os.write(2, b"infrakit: interrupted (Ctrl-C) while starting; nothing was changed\n")
    finally:
        os._exit(EXIT_INTERRUPTED)


# A shell that starts us with Ctrl-C ignored (a background job) keeps it ignored.
if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _interrupted_while_starting)


def run() -> None:
    """The `infrakit` console script, and `python -m infrakit`."""
    from infrakit.cli import main

    if signal.getsignal(signal.SIGINT) is _interrupted_while_starting:
        # From here main() handles Ctrl-C itself, saying what the command was doing.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
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
