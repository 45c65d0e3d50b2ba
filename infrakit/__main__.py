"""`infrakit` and `python -m infrakit`: see infrakit/cli.py. Here only what a process needs around main()."""

import os
import signal
import sys
from contextlib import suppress


def run() -> None:
    """The `infrakit` console script, and `python -m infrakit`."""
    try:
        from infrakit.cli import main
    except KeyboardInterrupt:  # Ctrl-C while the imports ran, before any command started
        print("infrakit: interrupted (Ctrl-C) while starting; nothing was changed", file=sys.stderr)
        sys.exit(130)

    code = main()
    with suppress(OSError):  # so that a Ctrl-C below, which skips the usual flush, loses no output
        sys.stdout.flush()
    # The outcome is decided; a Ctrl-C during the interpreter's shutdown would only print a traceback.
    signal.signal(signal.SIGINT, lambda _signum, _frame: os._exit(code))
    sys.exit(code)


if __name__ == "__main__":
    run()
