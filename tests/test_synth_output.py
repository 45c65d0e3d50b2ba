"""`python main.py` and `cdktf synth` write reproducible output that is safe to share."""

from __future__ import annotations

import json
import re
import socket
import subprocess
from pathlib import Path

from tests.conftest import PYTHON, ROOT


def synth_into(outdir: Path, *names: str) -> None:
    result = subprocess.run(
        [PYTHON, "main.py", "--outdir", str(outdir), *names],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


def tree(outdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()}


def test_two_synths_of_the_same_inputs_are_byte_identical(tmp_path):
    synth_into(tmp_path / "a", "local")
    synth_into(tmp_path / "b", "local")
    first, second = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert "stacks/local/cdk.tf.json" in first
    assert first == second


def test_output_has_no_absolute_paths_host_names_or_timestamps(synthesized):
    """Every environment, as `python main.py` synthesized it for the suite (tests/conftest.py)."""
    leaks = [str(ROOT), str(synthesized.parent), str(Path.home()), socket.gethostname()]
    for name, content in tree(synthesized).items():
        text = content.decode()
        for leak in leaks:
            assert leak not in text, f"{leak!r} found in {name}"
        assert not re.search(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text), f"timestamp in {name}"
        assert not re.search(r'"/(?:root|home|tmp|work|Users)/', text), f"absolute path in {name}"


def test_local_state_path_is_relative_to_the_project(synthesized):
    stack = json.loads((synthesized / "stacks" / "local" / "cdk.tf.json").read_text())
    assert stack["terraform"]["backend"] == {"local": {"path": "../../../terraform.local.tfstate"}}


def test_synthesizing_local_never_imports_the_aws_bindings(tmp_path):
    # Loading the AWS bindings costs seconds; a local synth must not pay for it.
    probe = (
        "import sys; from pathlib import Path; from infrakit.synth import synthesize;"
        "from infrakit.config import load_environments;"
        "synthesize(load_environments(Path('environments'), ['local']), sys.argv[1]);"
        # Neither the package nor its assembly (cdktn_provider_aws._jsii) may load.
        "print(sorted(m for m in sys.modules if m.startswith('cdktn_provider_aws')))"
    )
    result = subprocess.run(
        [PYTHON, "-c", probe, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "stacks" / "local" / "cdk.tf.json").is_file()
    assert result.stdout.strip() == "[]"
