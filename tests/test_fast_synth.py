"""Fast synth stays correct: loading provider modules on demand, skipping jsii's type checks and
running its kernel in place change no byte of the output, and the synth cache is invalidated by
every kind of input."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from infrakit import synth_cache
from tests.conftest import ENVIRONMENTS, PYTHON, ROOT, MainInProcess

UP_TO_DATE = "inputs unchanged"


def tree(outdir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(outdir)): p.read_bytes()
        for p in sorted(outdir.rglob("*"))
        if p.is_file() and p.name != synth_cache.STAMP
    }


def synth_counting_modules(tmp_path: Path, *names: str, eager: bool) -> tuple[Path, int, int]:
    """Synthesizes into tmp_path/out with the cache off; returns the output directory, how many
    AWS provider submodules jsii's kernel loaded and how many Node processes ran
    (tests/loaded_provider_modules.js counts both). eager: the usual way, as a plain cdktn app runs."""
    counts = tmp_path / "counts"
    env = {
        **os.environ,
        "NODE_OPTIONS": f'--require "{ROOT / "tests" / "loaded_provider_modules.js"}"',
        "LOADED_PROVIDER_MODULES": str(counts),
        "INFRAKIT_SYNTH_CACHE": "0",
        "INFRAKIT_EAGER_PROVIDER_IMPORTS": "1" if eager else "0",
        # The usual way also runs jsii's runtime type checks, which a synth skips by default, and
        # runs the kernel behind jsii's relay.
        "INFRAKIT_JSII_TYPE_CHECKS": "1" if eager else "0",
        "INFRAKIT_JSII_RELAY": "1" if eager else "0",
    }
    result = subprocess.run(
        [PYTHON, "main.py", *names, "--outdir", str(tmp_path / "out")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    per_process = [int(line) for line in counts.read_text().split()]
    return tmp_path / "out", max(per_process), len(per_process)


def test_provider_modules_loaded_the_usual_way_give_byte_identical_output(synthesized, tmp_path):
    """Every environment, with every one of the ~2,400 AWS submodules loaded the usual way,
    jsii's runtime type checks on and its kernel behind jsii's relay (two Node processes), gives the
    bytes of a default synth (checks skipped, the kernel in place: tests/test_jsii_kernel.py).

    It cannot prove that a construct argument of the wrong type would fail the same way with the
    checks skipped: mypy --strict checks those calls, and the in-process synths of the tests run
    with the checks on (test_jsii_type_checks_run_only_when_asked)."""
    outdir, loaded, processes = synth_counting_modules(tmp_path, eager=True)
    assert loaded > 2000
    assert processes == 2
    assert tree(outdir) == tree(synthesized)


# Counts typeguard's checks, which jsii's check_type calls for every checked argument.
CHECKS_PROBE = """
import sys
from pathlib import Path
import typeguard
from infrakit.config.loader import load_environment
from infrakit.synth import synthesize
calls = []
check_type = typeguard.check_type
typeguard.check_type = lambda *args, **kwargs: calls.append(1) or check_type(*args, **kwargs)
synthesize([load_environment(Path("environments/local.toml"))], sys.argv[1])
print(len(calls))
"""


@pytest.mark.parametrize(("asked", "checked"), [(None, False), ("1", True)])
def test_jsii_type_checks_run_only_when_asked(tmp_path, asked, checked):
    """A synth skips jsii's runtime type checks unless INFRAKIT_JSII_TYPE_CHECKS=1: each check
    jsii runs is a call to typeguard.check_type (jsii/_type_checking.py), counted here. The tests'
    own in-process synths (conftest.synth) never skip them.

    It cannot prove the checks would have caught anything: the shipped stacks pass them either way."""
    env = {k: v for k, v in os.environ.items() if k != "INFRAKIT_JSII_TYPE_CHECKS"}
    if asked is not None:
        env["INFRAKIT_JSII_TYPE_CHECKS"] = asked
    result = subprocess.run(
        [PYTHON, "-c", CHECKS_PROBE, str(tmp_path / "out")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    checks = int(result.stdout.split()[-1])
    assert checks > 100 if checked else checks == 0


def test_node_loads_only_the_provider_submodules_a_stack_uses(tmp_path):
    """A synth of dev loads a few dozen of the ~2,400 AWS submodules. Cannot prove how long that
    takes (scripts/bench_synth.py measures it)."""
    _, loaded, processes = synth_counting_modules(tmp_path, "dev", eager=False)
    assert 10 < loaded < 200
    assert processes == 1


# ----------------------------------------------------------------------------- the cache, end to end


@pytest.fixture
def synth(main_in_process: MainInProcess, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """`python main.py local --outdir out` of the project's copy of main.py, in the project, with the
    synth cache on (tests/conftest.py, main_in_process); `extra_env` is set for this run only and
    `site` is put on sys.path for it, as PYTHONPATH would. Returns stdout."""
    monkeypatch.delenv(synth_cache.DISABLE_VARIABLE, raising=False)

    def run(project: Path, extra_env: dict[str, str] | None = None, site: Path | None = None) -> str:
        with monkeypatch.context() as scoped:
            if site is not None:
                scoped.syspath_prepend(str(site))
            result = main_in_process(
                "local", "--outdir", "out", cwd=project, app_file=project / "main.py", env=extra_env
            )
        assert result.returncode == 0, result.stderr
        return result.stdout

    return run


@pytest.fixture
def project(tmp_path, synth):
    """A copy of main.py and the local environment, synthesized once."""
    shutil.copy(ROOT / "main.py", tmp_path / "main.py")
    (tmp_path / "environments").mkdir()
    shutil.copy(ENVIRONMENTS / "local.toml", tmp_path / "environments" / "local.toml")
    assert UP_TO_DATE not in synth(tmp_path)
    return tmp_path


def test_unchanged_inputs_skip_synthesis(project, synth):
    assert UP_TO_DATE in synth(project)


def test_an_environment_file_change_resynthesizes(project, synth):
    config = project / "environments" / "local.toml"
    config.write_text(config.read_text().replace("memory_mb = 512", "memory_mb = 640"))
    assert UP_TO_DATE not in synth(project)
    assert '"memory": 640' in (project / "out" / "stacks" / "local" / "cdk.tf.json").read_text()


def test_the_script_preloaded_into_node_is_part_of_the_code_fingerprint():
    from infrakit import jsii_node
    from infrakit.synth import PACKAGE_DIR

    assert jsii_node.PRELOAD in synth_cache.code_files(PACKAGE_DIR)


def test_a_code_change_resynthesizes(project, synth):
    (project / "main.py").write_text((project / "main.py").read_text() + "\n# changed\n")
    assert UP_TO_DATE not in synth(project)


def test_an_installed_package_change_resynthesizes(project, tmp_path, synth):
    site = tmp_path / "site"
    (site / "somepackage-1.0.dist-info").mkdir(parents=True)
    assert UP_TO_DATE not in synth(project, site=site)


def test_a_relevant_environment_variable_change_resynthesizes(project, synth):
    assert UP_TO_DATE not in synth(project, {"CDKTF_CONTEXT_JSON": '{"changed": true}'})
    assert UP_TO_DATE in synth(project, {"CDKTF_CONTEXT_JSON": '{"changed": true}'})
    assert UP_TO_DATE in synth(
        project, {"CDKTF_CONTEXT_JSON": '{"changed": true}', "UNRELATED_VARIABLE": "x"}
    )


def synth_in_a_new_process(project: Path, extra_env: dict[str, str] | None = None) -> str:
    """`python main.py local --outdir out` in the project, as its own process: for what jsii's Node
    reads from its environment when it starts."""
    env = {k: v for k, v in os.environ.items() if k != synth_cache.DISABLE_VARIABLE}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run(
        [PYTHON, "main.py", "local", "--outdir", "out"],
        cwd=project,
        env={**env, **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_hcl_output_is_never_served_from_a_json_synth(project):
    """`cdktf synth --hcl` sets SYNTH_HCL_OUTPUT; cdktf's App (in Node) then writes cdk.tf, not
    cdk.tf.json. Node reads it when it starts, so these synths are processes of their own."""
    assert UP_TO_DATE not in synth_in_a_new_process(project, {"SYNTH_HCL_OUTPUT": "true"})
    assert (project / "out" / "stacks" / "local" / "cdk.tf").is_file()
    assert UP_TO_DATE not in synth_in_a_new_process(project)
    assert (project / "out" / "stacks" / "local" / "cdk.tf.json").is_file()
    # Terraform would load both files, and every resource twice.
    assert not (project / "out" / "stacks" / "local" / "cdk.tf").exists()


def test_a_changed_or_missing_output_resynthesizes(project, synth):
    stack = project / "out" / "stacks" / "local" / "cdk.tf.json"
    stack.write_text(stack.read_text().replace('"memory": 512', '"memory": 1'))
    assert UP_TO_DATE not in synth(project)
    assert '"memory": 512' in stack.read_text()
    stack.unlink()
    assert UP_TO_DATE not in synth(project)
    assert stack.exists()


def test_files_added_by_terraform_init_do_not_invalidate_the_cache(project, synth):
    (project / "out" / "stacks" / "local" / ".terraform").mkdir()
    (project / "out" / "stacks" / "local" / ".terraform.lock.hcl").write_text("# lock\n")
    assert UP_TO_DATE in synth(project)


def test_a_different_set_of_environments_resynthesizes(project, synth):
    other = (ENVIRONMENTS / "local.toml").read_text()
    for port in ("5432", "6379", "6333", "7687", "7474", "8080"):  # two environments cannot share a host port
        other = other.replace(f"host_port = {port}", f"host_port = 1{port}")
    (project / "environments" / "other.toml").write_text(other)
    assert UP_TO_DATE not in synth(project), "the set of environment files is an input"
