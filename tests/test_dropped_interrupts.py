"""A Ctrl-C whose KeyboardInterrupt Python drops is delivered again (infrakit/interrupts.py).

Python runs a signal handler wherever the main thread is, and drops an exception raised inside a
weakref callback. importlib's module locks have such a callback, run during every import, so a
Ctrl-C at the wrong moment of an import was lost: `validate` then ran on for its whole timeout
(found once by test_cli_process_group_interrupts, in a suite run under extra load).

These tests land the Ctrl-C in a weakref callback on purpose: the callback sends SIGINT to this
process, and signal.raise_signal runs the Python handler before it returns, so the handler's
KeyboardInterrupt is raised inside the callback, where Python drops it.

What they cannot prove: that every place where Python drops exceptions reports to
sys.unraisablehook (weakref callbacks, __del__ and garbage-collector callbacks do; a C extension
that calls PyErr_Clear does not), or that 50 ms is always enough for the main thread to leave the
callback on a machine that has stopped it for longer.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
import weakref
from collections.abc import Iterator

import pytest

from infrakit.cli import Interruption
from infrakit.interrupts import dropped_interrupts_redelivered
from infrakit.synth import _ctrl_c_recorded


class _Lock:
    """Stands for importlib's module lock: an object with a weakref callback."""


def ctrl_c_inside_a_weakref_callback() -> None:
    """Drops the last reference to an object whose weakref callback sends us SIGINT."""
    lock = _Lock()
    ref = weakref.ref(lock, lambda _ref: signal.raise_signal(signal.SIGINT))
    del lock
    assert ref() is None  # the callback has run


def interrupted_within(seconds: float) -> float:
    """Lands a Ctrl-C in a weakref callback, then works on like a command; returns how long the
    KeyboardInterrupt took to arrive. Fails if the callback let it through (then it was never
    dropped, and this test would prove nothing) or if it never arrives."""
    started = time.monotonic()
    carried_on = False
    with pytest.raises(KeyboardInterrupt):
        ctrl_c_inside_a_weakref_callback()
        carried_on = True  # the command did not notice: the interrupt was dropped
        while time.monotonic() - started < seconds:
            time.sleep(0.01)
    assert carried_on, "the KeyboardInterrupt was not dropped by the callback"
    return time.monotonic() - started


@pytest.fixture
def sigint_as_in_a_terminal() -> Iterator[None]:
    """Ctrl-C handled as in a command started from a terminal: a suite started as a background job
    (`scripts/test.sh &`) inherits it ignored, and then infrakit rightly leaves it ignored."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.mark.usefixtures("sigint_as_in_a_terminal")
def test_a_commands_ctrl_c_dropped_in_a_weakref_callback_still_interrupts_it_as_the_first():
    """infrakit's commands: the interrupt arrives within a moment, and it counts as the first
    Ctrl-C (the next one exits at once), not as a second."""
    interruption = Interruption("validate", "validate")
    with interruption.second_ctrl_c_exits_at_once():
        assert interrupted_within(5.0) < 1.0
        # As after any first Ctrl-C: the next one would exit at once.
        assert getattr(signal.getsignal(signal.SIGINT), "__name__", "") == "exit_now"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.usefixtures("sigint_as_in_a_terminal")
def test_a_synths_ctrl_c_dropped_in_a_weakref_callback_still_interrupts_it():
    """main.py's synth: the interrupt arrives, and is recorded as pressed."""
    with _ctrl_c_recorded() as ctrl_c:
        real_stderr = ctrl_c.real_stderr
        try:
            assert interrupted_within(5.0) < 1.0
            assert ctrl_c.pressed
        finally:
            # A pressed Ctrl-C leaves stderr silenced for jsii's exit hook; this test has no jsii.
            sys.stderr = real_stderr
            signal.signal(signal.SIGINT, signal.default_int_handler)


def test_other_dropped_exceptions_still_reach_the_previous_hook(monkeypatch):
    seen: list[type[BaseException]] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: seen.append(unraisable.exc_type))

    def fail(_ref: object) -> None:
        raise ValueError("a bug in a callback")

    with dropped_interrupts_redelivered():
        lock = _Lock()
        ref = weakref.ref(lock, fail)
        del lock
        assert ref() is None
    assert seen == [ValueError]
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]  # no redelivery
