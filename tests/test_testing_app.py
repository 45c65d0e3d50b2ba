"""The tests' in-process stacks leave nothing in the system's temporary directory."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.binding_stacks import new_stack, synth
from tests.conftest import TESTING_OUTDIR, environment_with
from tests.conftest import synth as synth_environment


def leftovers() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("cdktf.outdir.*"))


def test_test_apps_make_no_directory_of_their_own():
    """The CDK's Testing.app() without an outdir makes a cdktf.outdir.* directory for every app and
    never removes it: 94 a suite run, 12,855 on one machine before tests/conftest.py gave every test
    app TESTING_OUTDIR, which the worker removes when it ends.

    Cannot prove that no other test leaves a directory of its own behind."""
    before = leftovers()
    synth(new_stack())
    synth_environment(environment_with("dev"))
    assert leftovers() == before
    assert TESTING_OUTDIR.is_dir()
