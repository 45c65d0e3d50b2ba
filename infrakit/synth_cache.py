"""Skip synthesis when nothing that shapes its output has changed.

The inputs are: infrakit's code and main.py, the environment files, the installed package
versions, the Python version, the environment variables the CDK, jsii and infrakit read
(CDKTF_*, CDKTN_*, JSII_*, INFRAKIT_*, and SYNTH_HCL_OUTPUT and TERRAFORM_BINARY_NAME, which the CDK's App
reads too), and the environments asked for. A stamp in the output directory
records a fingerprint of them and a hash of every file the synth wrote. The cache is used only
when the fingerprint matches and every recorded file is still there, byte for byte. Files
others add later (terraform init's .terraform/ and lock file) are neither recorded nor checked.

This module imports nothing heavy: a warm run must not pay for pydantic, the CDK or jsii.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from infrakit.environment_files import toml_entries

STAMP = ".infrakit-synth.json"
VARIABLE_PREFIXES = ("CDKTF_", "CDKTN_", "JSII_", "INFRAKIT_")
# Read by the CDK's App without a CDKTF_ prefix (cdktn 0.24 lib/app.js, lib/util.js): `cdktf synth --hcl` sets
# SYNTH_HCL_OUTPUT, which turns cdk.tf.json into cdk.tf.
VARIABLES = ("SYNTH_HCL_OUTPUT", "TERRAFORM_BINARY_NAME")
DISABLE_VARIABLE = "INFRAKIT_SYNTH_CACHE"  # set to 0 to always synthesize


def enabled(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get(DISABLE_VARIABLE, "1") != "0"


def fingerprint(
    *,
    code: Iterable[Path],
    environments_dir: Path,
    names: Iterable[str],
    environ: Mapping[str, str] = os.environ,
    site_dirs: Iterable[str] | None = None,
) -> str:
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)

    for path in sorted(code):
        add(f"code:{path.as_posix()}", path.read_bytes())
    for path in toml_entries(environments_dir):
        add(f"environment:{path.name}", path.read_bytes())
    add("packages", "\n".join(installed_distributions(site_dirs)).encode())
    add("python", sys.version.encode())
    variables = sorted(
        (k, v) for k, v in environ.items() if k.startswith(VARIABLE_PREFIXES) or k in VARIABLES
    )
    add("variables", json.dumps(variables).encode())
    add("names", json.dumps(sorted(names)).encode())
    return digest.hexdigest()


def installed_distributions(site_dirs: Iterable[str] | None = None) -> list[str]:
    """Every installed distribution with its version, from the .dist-info directory names:
    one directory listing per path entry, instead of importlib.metadata's slower walk."""
    found: set[str] = set()
    for entry in site_dirs if site_dirs is not None else sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        found.update(
            f"{entry}:{n}" for n in names if n.endswith((".dist-info", ".egg-info", ".egg-link", ".pth"))
        )
    return sorted(found)


def code_files(package_dir: Path, *extra: Path) -> list[Path]:
    """infrakit's Python, and the script it preloads into jsii's Node (provider_modules.js)."""
    return [*package_dir.rglob("*.py"), *package_dir.rglob("*.js"), *extra]


def is_current(outdir: Path, expected: str) -> bool:
    try:
        stamp = json.loads((outdir / STAMP).read_text())
    except (OSError, ValueError):
        return False
    if stamp.get("fingerprint") != expected or not stamp.get("outputs"):
        return False
    for relative, digest in stamp["outputs"].items():
        try:
            if _sha256(outdir / relative) != digest:
                return False
        except OSError:
            return False
    return True


def record(outdir: Path, fingerprint_: str, written: Iterable[Path]) -> None:
    """Stamp outdir as the synth of these inputs. `written` is exactly what this synth wrote:
    stacks that other synths left in outdir are none of this stamp's business."""
    outputs = {path.relative_to(outdir).as_posix(): _sha256(path) for path in sorted(written)}
    (outdir / STAMP).write_text(json.dumps({"fingerprint": fingerprint_, "outputs": outputs}, indent=1))


def invalidate(outdir: Path) -> None:
    """Forget the last synth before a new one starts changing outdir: whatever interrupts it,
    the next run synthesizes instead of trusting a half-updated output."""
    (outdir / STAMP).unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
