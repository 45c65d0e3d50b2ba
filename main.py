"""The cdktf app (see cdktf.json): `python main.py [ENV...]`."""

import signal
import sys
from pathlib import Path

INTERRUPTED_WHILE_STARTING = "infrakit: synthesis interrupted while starting; nothing was written"


def run() -> int:
    # A Ctrl-C while infrakit is still being imported raises KeyboardInterrupt here: one line, no
    # traceback (or a moment later, if it landed where Python drops it: infrakit/interrupts.py).
    # infrakit.synth.main handles Ctrl-C from then on.
    try:
        from infrakit.interrupts import dropped_interrupts_redelivered

        with dropped_interrupts_redelivered():
            from infrakit.synth import EXIT_INTERRUPTED, INTERRUPTED, main
    except KeyboardInterrupt:
        print(INTERRUPTED_WHILE_STARTING, file=sys.stderr)
        return 130
    try:
        return main(
            sys.argv[1:],
            default_environments_dir=Path(__file__).parent / "environments",
            app_file=Path(__file__),
        )
    except KeyboardInterrupt:
        # main() handles Ctrl-C from its first line to its last: only one in the instant before it
        # takes over or after it hands back lands here, when nothing or everything is written.
        print(INTERRUPTED, file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        # Nothing is left to interrupt, and jsii's Node is stopped: a Ctrl-C while Python exits
        # must not print a traceback from its exit hooks.
        signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(run())
