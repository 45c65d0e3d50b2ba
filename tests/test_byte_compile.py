"""scripts/byte_compile.py: site-packages compiled on every core, except the AWS provider
submodules infrakit never imports.

Each test builds a small fake site-packages in tmp_path and runs the script on it, as setup.sh
does (a fresh process; stdout is what setup.sh discards, stderr what it shows)."""

from __future__ import annotations

import subprocess
from importlib.util import cache_from_source
from pathlib import Path

from tests.conftest import PYTHON, ROOT

SCRIPT = ROOT / "scripts" / "byte_compile.py"


def write(path: Path, text: str = "VALUE = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def fake_site(site: Path) -> dict[str, Path]:
    """A cdktn_provider_aws with its __init__.py, _jsii, a used submodule (with a nested module)
    and an unused one, beside another package and a top-level module."""
    aws = site / "cdktn_provider_aws"
    return {
        "aws": write(aws / "__init__.py"),
        "aws_helper": write(aws / "_helpers.py"),
        "jsii": write(aws / "_jsii" / "__init__.py"),
        "used": write(aws / "vpc" / "__init__.py"),
        "used_nested": write(aws / "vpc" / "inner" / "deep.py"),
        "unused": write(aws / "lexv2_models_intent" / "__init__.py"),
        "unused_too": write(aws / "wafv2_web_acl_rule" / "__init__.py"),
        "other": write(site / "otherpkg" / "__init__.py"),
        "other_sub": write(site / "otherpkg" / "sub" / "mod.py"),
        "docker": write(site / "cdktn_provider_docker" / "container" / "__init__.py"),
        "top_level": write(site / "six.py"),
    }


def byte_compile(site: Path, *modules: str) -> subprocess.CompletedProcess[str]:
    args = [arg for module in modules for arg in ("--module", module)]
    return subprocess.run(
        [PYTHON, str(SCRIPT), str(site), *args], capture_output=True, text=True, timeout=120
    )


def compiled(path: Path) -> bool:
    return Path(cache_from_source(str(path))).is_file()


def test_everything_is_compiled_but_the_aws_submodules_the_list_leaves_out(tmp_path: Path) -> None:
    """The package's own files, _jsii, the listed submodule (all of its directory) and every other
    package get a .pyc; the unlisted AWS submodules do not. Entries of other packages
    (cdktn_provider_docker.*) change nothing: those packages are compiled whole.
    Cannot prove: that infrakit imports nothing outside infrakit/cdk.py's list (tests/test_cdk_imports.py
    checks that), or that the .pyc files are the ones `compileall` writes (they are written by its
    compile_file, but this test reads only where they are)."""
    files = fake_site(tmp_path / "site")
    result = byte_compile(
        tmp_path / "site", "cdktn_provider_aws.vpc", "cdktn_provider_docker.container", "cdktn"
    )
    assert result.returncode == 0, result.stderr
    not_compiled = {name for name, path in files.items() if not compiled(path)}
    assert not_compiled == {"unused", "unused_too"}


def test_by_default_the_list_is_infrakit_cdk_modules(tmp_path: Path) -> None:
    """Without --module, the submodules named in infrakit.cdk._MODULES are kept: each one's
    directory made here gets a .pyc, an unlisted one does not.
    Cannot prove: the same against the real, installed provider (setup.sh runs it there)."""
    from infrakit.cdk import _MODULES

    site = tmp_path / "site"
    files = fake_site(site)
    listed = [module.split(".")[1] for module in _MODULES if module.startswith("cdktn_provider_aws.")]
    assert listed, "infrakit.cdk names no AWS submodule"
    kept = [write(site / "cdktn_provider_aws" / name / "__init__.py") for name in listed]
    result = byte_compile(site)
    assert result.returncode == 0, result.stderr
    assert all(compiled(path) for path in kept)
    assert not compiled(files["unused"])
    assert compiled(files["jsii"]) and compiled(files["aws"])


def test_a_listed_submodule_missing_from_disk_fails_naming_it(tmp_path: Path) -> None:
    """A stale module list (a provider bump that renamed a submodule) stops setup with the module's
    name, rather than compiling less than infrakit imports without a word.
    Cannot prove: that setup.sh shows this message (it does not send stderr elsewhere) and fails on
    this status (its `case` does; tested only by reading it)."""
    fake_site(tmp_path / "site")
    result = byte_compile(tmp_path / "site", "cdktn_provider_aws.vpc", "cdktn_provider_aws.no_such_thing")
    assert result.returncode == 2
    assert "cdktn_provider_aws.no_such_thing" in result.stderr
    assert "cdktn_provider_aws.vpc" not in result.stderr  # there: not named
    assert not compiled(tmp_path / "site" / "otherpkg" / "__init__.py")


def test_a_file_that_does_not_compile_is_reported_and_the_rest_is_compiled(tmp_path: Path) -> None:
    """As `compileall -q`: the file is named on stdout, everything else is compiled, and the
    status (3) is the one setup.sh turns into a step line and carries on from, not a failure.
    Cannot prove: what setup.sh prints for it (read from its `case`, not run here)."""
    files = fake_site(tmp_path / "site")
    broken = write(tmp_path / "site" / "otherpkg" / "broken.py", "def (:\n")
    result = byte_compile(tmp_path / "site", "cdktn_provider_aws.vpc")
    assert result.returncode == 3, result.stderr
    assert "broken.py" in result.stdout
    assert "SyntaxError" in result.stdout
    assert result.stderr == ""
    assert not compiled(broken)
    assert {name for name, path in files.items() if not compiled(path)} == {"unused", "unused_too"}


def test_an_up_to_date_file_is_not_compiled_again(tmp_path: Path) -> None:
    """compileall's own up-to-date check (source mtime and size in the .pyc header) is kept: a
    second run rewrites nothing. Cannot prove: the check under --invalidation-mode or
    SOURCE_DATE_EPOCH (setup.sh sets neither)."""
    files = fake_site(tmp_path / "site")
    assert byte_compile(tmp_path / "site", "cdktn_provider_aws.vpc").returncode == 0
    pyc = Path(cache_from_source(str(files["other"])))
    pyc.write_bytes(pyc.read_bytes()[:16] + b"kept")  # a valid header: left alone
    assert byte_compile(tmp_path / "site", "cdktn_provider_aws.vpc").returncode == 0
    assert pyc.read_bytes().endswith(b"kept")
