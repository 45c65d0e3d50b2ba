"""Byte-compile the test suite once, before pytest-xdist's workers each import all of it.

  .venv/bin/python scripts/compile_tests.py [TESTS_DIR]

scripts/test.sh runs this while lint runs. Every xdist worker collects the whole suite. Where
PYTHONDONTWRITEBYTECODE is set (it is on these machines), no process keeps what it compiles. So
on every run each worker rewrote the asserts of every test module (pytest's assertion rewriting)
and compiled the helper modules again: 3.5 of the 8 CPU-s a worker spent collecting. This writes,
for every .py file under TESTS_DIR (default: tests):

- for test modules and conftest.py files, the rewritten .pyc, where pytest itself writes it
  (`__pycache__/<name>.cpython-311-pytest-<version>.pyc`), made by pytest's own functions;
- for the other modules (helpers, stand-ins), the .pyc that Python writes (compileall).

pytest and Python read these even under PYTHONDONTWRITEBYTECODE, and compile again any source
changed since (both check the source's mtime and size). Files already up to date are skipped.

The rewriting functions are pytest internals (pytest is pinned in constraints.txt). If an upgrade
moves them, this says so on one line and exits 0: the suite runs as before, only collects slower.
Likewise a file that cannot be compiled is named and skipped: pytest reports its error.
Exit status: 0, also then; 2 for a usage error.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import fnmatch
import io
import os
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

DEFAULT_PYTHON_FILES = ["test_*.py", "*_test.py"]  # pytest's default `python_files`


def pytest_ini(pyproject: Path) -> dict[str, object]:
    """[tool.pytest.ini_options] of pyproject.toml, or {} without one."""
    try:
        data = tomllib.loads(pyproject.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    options = data.get("tool", {}).get("pytest", {}).get("ini_options", {})
    return options if isinstance(options, dict) else {}


def python_files(ini: dict[str, object]) -> list[str]:
    """The `python_files` patterns: a list, or a string of them (an ini "args" value)."""
    configured = ini.get("python_files", DEFAULT_PYTHON_FILES)
    if isinstance(configured, str):
        return configured.split()
    return [str(pattern) for pattern in configured] if isinstance(configured, list) else DEFAULT_PYTHON_FILES


def sources(tests: Path) -> Iterator[Path]:
    """Every .py file under `tests`, as absolute (not resolved) paths: pytest imports the test
    modules by such a path and records it in their code, for tracebacks."""
    for directory, subdirectories, files in os.walk(os.path.abspath(tests)):
        subdirectories[:] = sorted(name for name in subdirectories if name != "__pycache__")
        yield from (Path(directory, name) for name in sorted(files) if name.endswith(".py"))


def rewritten_by_pytest(path: Path, patterns: list[str]) -> bool:
    """Whether pytest rewrites this file's asserts when it collects it: conftest.py, and files
    matching `python_files` (by name, as pytest matches a pattern without a slash)."""
    return path.name == "conftest.py" or any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tests", nargs="?", default="tests", type=Path, help="default: tests")
    args = parser.parse_args(argv)
    if not args.tests.is_dir():
        parser.error(f"{args.tests} is not a directory")
    ini = pytest_ini(Path(__file__).resolve().parent.parent / "pyproject.toml")
    patterns = python_files(ini)
    rewrite = _pytest_rewriting(ini)
    for path in sources(args.tests):
        try:
            if not rewritten_by_pytest(path, patterns):
                _compile(path)
            elif rewrite is not None:
                _rewrite(rewrite, path)
        except SyntaxError as error:
            print(
                f"compile_tests: {path}: {error.msg} (line {error.lineno}); pytest reports it",
                file=sys.stderr,
            )
        except (AttributeError, TypeError) as error:  # pytest's internals moved
            print(f"compile_tests: pytest's assertion rewriting changed ({error})", file=sys.stderr)
            rewrite = None
    return 0


def _pytest_rewriting(ini: dict[str, object]) -> ModuleType | None:
    """pytest's assertion rewriting module, or None (said why) when this cannot write what pytest would."""
    if ini.get("enable_assertion_pass_hook"):
        # That hook changes the rewritten code, and pytest would load ours without checking.
        print(
            "compile_tests: enable_assertion_pass_hook is set: test modules left to pytest", file=sys.stderr
        )
        return None
    try:
        from _pytest.assertion import rewrite
    except ImportError as error:
        print(f"compile_tests: cannot use pytest's assertion rewriting ({error})", file=sys.stderr)
        return None
    return rewrite


def _compile(path: Path) -> None:
    """What Python writes when it imports the module: compileall's .pyc, if not up to date."""
    with contextlib.redirect_stdout(io.StringIO()) as said:
        compiled = compileall.compile_file(str(path), quiet=1)
    if not compiled:
        error = (said.getvalue().strip().splitlines() or ["not compiled"])[-1]
        print(f"compile_tests: {path}: {error}; Python reports it on import", file=sys.stderr)


def _rewrite(rewrite: ModuleType, path: Path) -> None:
    """What pytest's AssertionRewritingHook.exec_module does for one test module, without running
    it: keep an up-to-date rewritten .pyc, else rewrite the source and write one (atomically:
    pytest may be reading it)."""
    pyc = rewrite.get_cache_dir(path) / (path.name[:-3] + rewrite.PYC_TAIL)
    if rewrite._read_pyc(path, pyc) is not None:
        return
    source_stat, code = rewrite._rewrite_test(path, None)  # None: the config only sets the pass hook
    if rewrite.try_makedirs(pyc.parent):
        rewrite._write_pyc(_Trace(), code, source_stat, pyc)


class _Trace:
    """The assertion state _write_pyc takes: it only traces why a write failed (then pytest
    rewrites that module itself, as before)."""

    @staticmethod
    def trace(message: str) -> None:
        del message


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
