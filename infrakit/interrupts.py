"""A Ctrl-C that Python would drop is delivered again.

A Python signal handler runs in the main thread wherever that thread happens to be, and that may be
inside a weakref callback or a `__del__` method, where Python drops any exception with an
"Exception ignored in ..." traceback (cpython#95959). One such place is the weakref callback of
importlib's module locks (`_get_module_lock.<locals>.cb`), which runs during every import: a Ctrl-C
that lands there raises its KeyboardInterrupt into nothing, and the command carries on as if it
had never come (seen in test_cli_process_group_interrupts, and in esphome/device-builder#2688 for
SIGTERM). The hook below turns that dropped exception into the same signal again, a moment later,
from a helper thread (`_thread.interrupt_main`), once the main thread has left the callback.
"""

from __future__ import annotations

import _thread
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Long enough for the main thread to return from the callback (a few bytecodes), short enough
# that nobody notices.
REDELIVERY_DELAY = 0.05


@contextmanager
def dropped_interrupts_redelivered(rearm: Callable[[], None] = lambda: None) -> Iterator[None]:
    """While inside, a KeyboardInterrupt that Python drops is delivered again as SIGINT.

    `rearm` runs first, in the main thread: the handler that raised it may have changed state on
    the way (a first Ctrl-C that makes the next one exit at once), and the interrupt it raised
    never reached the command, so the next delivery must count as that first Ctrl-C again.
    Every other unraisable exception goes to the hook that was there before."""
    previous = sys.unraisablehook

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        # A signal handler runs only in the main thread, so a KeyboardInterrupt it raised is
        # dropped there; one dropped in another thread is not a Ctrl-C.
        if isinstance(unraisable.exc_value, KeyboardInterrupt) and (
            threading.current_thread() is threading.main_thread()
        ):
            rearm()
            redelivery = threading.Timer(REDELIVERY_DELAY, _thread.interrupt_main)
            redelivery.daemon = True
            redelivery.start()
            return
        previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous
