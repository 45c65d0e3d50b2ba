"""The CDK and its prebuilt providers are imported in one place, infrakit/cdk.py, so that a move to
another release or fork (CDK Terrain) changes that file and the pins only."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# CDK Terrain (cdktn) and its providers, and the archived cdktf they replaced.
CDK_PACKAGES = ("cdktn", "cdktf")
PROVIDER_PREFIXES = ("cdktn_provider_", "cdktf_cdktf_provider_")


def _imports_the_cdk(module: str | None) -> bool:
    if not module:
        return False
    return module.split(".")[0] in CDK_PACKAGES or module.startswith(PROVIDER_PREFIXES)


def test_no_cdk_import_outside_infrakit_cdk() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = []
    for name in tracked:
        if name == "infrakit/cdk.py":
            continue
        for node in ast.walk(ast.parse((ROOT / name).read_text(), name)):
            modules = (
                [node.module]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offenders += [f"{name}:{node.lineno}: {m}" for m in modules if _imports_the_cdk(m)]
    assert not offenders


def test_every_name_infrakit_cdk_offers_exists() -> None:
    """Resolves each name from its module, in a fresh process whose Node loads provider modules on
    demand, as a synth does: a misspelt module or name after the next bump fails here, not mid-synth."""
    code = (
        "from infrakit import jsii_node\n"
        "jsii_node.configure()\n"
        "import infrakit.cdk as cdk\n"
        "missing = []\n"
        "for name in cdk.SOURCES:\n"
        "    try:\n"
        "        getattr(cdk, name)\n"
        "    except (ImportError, AttributeError) as error:\n"
        "        missing.append(f'{name}: {error}')\n"
        "print('\\n'.join(missing))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_an_unknown_name_is_an_attribute_error() -> None:
    import infrakit.cdk as cdk

    with pytest.raises(AttributeError, match="NotAConstruct"):
        cdk.NotAConstruct  # noqa: B018
