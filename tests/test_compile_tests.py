"""scripts/compile_tests.py: the suite's byte code, written once before pytest-xdist's workers each
collect the whole suite, in the form pytest and Python read even under PYTHONDONTWRITEBYTECODE.

Each test builds a small suite in tmp_path, runs the script on it as scripts/test.sh does, then
runs pytest on it with PYTHONDONTWRITEBYTECODE=1 (as on these machines) and PYTEST_DEBUG=1, whose
trace says, for each test module, whether pytest found a cached rewritten .pyc or rewrote it."""

from __future__ import annotations

import os
import subprocess
from importlib.util import cache_from_source
from pathlib import Path

from tests.conftest import PYTHON, ROOT

SCRIPT = ROOT / "scripts" / "compile_tests.py"


def small_suite(root: Path) -> Path:
    """tests/ with a conftest.py, a helper module and a test module whose assert fails on purpose,
    so that pytest's output shows whether the code it ran had its asserts rewritten."""
    tests = root / "tests"
    tests.mkdir(parents=True)
    (tests / "__init__.py").write_text("")
    (tests / "conftest.py").write_text(
        "import pytest\n\n\n@pytest.fixture\ndef wanted():\n    return [1, 3]\n"
    )
    (tests / "helper.py").write_text("def got():\n    return [1, 2]\n")
    (tests / "test_sample.py").write_text(
        "from tests.helper import got\n\n\ndef test_sample(wanted):\n    assert got() == wanted\n"
    )
    return tests


def compile_tests(tests: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, str(SCRIPT), str(tests)], capture_output=True, text=True, timeout=120, check=False
    )


def run_pytest(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DEBUG": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "--rootdir", str(root), "tests"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def rewrote(result: subprocess.CompletedProcess[str], module: Path) -> bool:
    """Whether PYTEST_DEBUG's trace says pytest rewrote this module itself (exec_module traces
    f"rewriting {fn!r}"; "rewriting conftest file" is only the decision to rewrite it)."""
    return f"rewriting {module!r} [assertion]" in result.stderr


def found_cached(result: subprocess.CompletedProcess[str], module: Path) -> bool:
    return f"found cached rewritten pyc for {module} [assertion]" in result.stderr


def test_pytest_runs_the_rewritten_code_it_finds_instead_of_rewriting_each_module(tmp_path: Path) -> None:
    """Under PYTHONDONTWRITEBYTECODE, pytest loads the script's rewritten .pyc for the test module
    and conftest.py, and the failing assert still explains itself (rewritten code ran); the helper
    module gets the .pyc Python reads. Without the script, pytest rewrites each module itself.

    Cannot prove: how much faster collection is (scripts/test.sh's comment has the measurement), or
    that the next pytest release keeps these internals (the script then says so and exits 0)."""
    tests = small_suite(tmp_path)
    before = run_pytest(tmp_path)
    assert rewrote(before, tests / "test_sample.py"), before.stderr[-2000:]
    assert not list(tests.glob("__pycache__/*.pyc")), "PYTHONDONTWRITEBYTECODE: pytest wrote nothing"

    done = compile_tests(tests)
    assert done.returncode == 0
    assert done.stderr == ""
    after = run_pytest(tmp_path)
    for module in (tests / "test_sample.py", tests / "conftest.py"):
        assert found_cached(after, module), after.stderr[-2000:]
        assert not rewrote(after, module)
    assert Path(cache_from_source(str(tests / "helper.py"))).is_file()
    assert after.returncode == 1
    assert "assert [1, 2] == [1, 3]" in after.stdout
    assert "At index 1 diff: 2 != 3" in after.stdout

    # Up to date: a second run leaves every file as it was (the same inode: not even replaced).
    written = {pyc: pyc.stat().st_ino for pyc in tests.glob("__pycache__/*.pyc")}
    assert compile_tests(tests).returncode == 0
    assert {pyc: pyc.stat().st_ino for pyc in tests.glob("__pycache__/*.pyc")} == written


def test_a_module_edited_since_is_rewritten_by_the_script_and_by_pytest(tmp_path: Path) -> None:
    """The .pyc records the source's mtime and size, as pytest's own: pytest rewrites a module
    edited after the script ran (and runs the edit), and the script's next run replaces that .pyc.

    Cannot prove: an edit that keeps both the size and the mtime second is seen (pytest's own
    check has the same limit)."""
    tests = small_suite(tmp_path)
    assert compile_tests(tests).returncode == 0
    module = tests / "test_sample.py"
    # A new size: within the same second, pytest's check (and Python's) sees only that.
    module.write_text(module.read_text().replace("assert got() == wanted", "assert got() != wanted, 'x'"))
    edited = run_pytest(tmp_path)
    assert rewrote(edited, module)
    assert edited.returncode == 0, edited.stdout

    assert compile_tests(tests).returncode == 0
    again = run_pytest(tmp_path)
    assert found_cached(again, module), again.stderr[-2000:]
    assert again.returncode == 0


def test_a_module_that_does_not_compile_is_named_and_the_rest_are_compiled(tmp_path: Path) -> None:
    """A syntax error in a test module or a helper is named on one line each, with no traceback,
    and the script exits 0: pytest reports the error in full when it collects the module.

    Cannot prove: that every way a file can fail to compile gives one line (only syntax errors,
    the one a person makes while editing, are tried)."""
    tests = small_suite(tmp_path)
    (tests / "test_broken.py").write_text("def test_broken(:\n    pass\n")
    (tests / "broken_helper.py").write_text("def broken(:\n")
    done = compile_tests(tests)
    assert done.returncode == 0
    lines = done.stderr.splitlines()
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith(f"compile_tests: {tests / 'broken_helper.py'}: ")
    assert lines[1].startswith(f"compile_tests: {tests / 'test_broken.py'}: ")
    assert "Traceback" not in done.stderr
    after = run_pytest(tmp_path)
    assert found_cached(after, tests / "test_sample.py")
