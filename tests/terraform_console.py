"""Evaluate Terraform expressions with the real binary: `terraform console` needs no provider.

The strings a stack synthesizes are Terraform templates. Tests evaluate them here, with the values
that only an apply would know (generated passwords, provider attributes) given as local values, so
that the expression Terraform will run is the one under test, not a string compared with another.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any


class TerraformError(Exception):
    """Terraform refused or failed to evaluate; the message is Terraform's own."""


def evaluate(templates: Any, values: dict[str, Any], *, terraform: str = "terraform") -> Any:
    """Evaluate Terraform JSON-syntax templates with `terraform console`; returns the same shape.

    `values` gives a value for each reference that only an apply would know, by its address (e.g.
    `random_password.x.result`, or `data.supabase_pooler.x.url` with a map); each becomes a local
    value. The templates go into a `.tf.json` file otherwise unchanged, so they are parsed exactly as
    in the synthesized stack (JSON syntax, where every string is a template).
    """
    text = json.dumps(templates)
    names = {}
    for index, reference in enumerate(sorted(values, key=len, reverse=True)):
        names[f"known_{index}"] = values[reference]
        text = re.sub(rf"(?<![\w.-]){re.escape(reference)}(?![\w-])", f"local.known_{index}", text)
    config = {"locals": {**names, "rehearsal": json.loads(text)}}
    with tempfile.TemporaryDirectory(prefix="infrakit-terraform-console-") as workdir:
        (Path(workdir) / "rehearsal.tf.json").write_text(json.dumps(config))
        result = subprocess.run(
            [terraform, "console"],
            input="base64encode(jsonencode(local.rehearsal))\n",
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"},
            check=False,
        )
    if result.returncode != 0:
        raise TerraformError(f"terraform could not evaluate the templates:\n{result.stderr.strip()}")
    encoded = result.stdout.strip().strip('"')
    return json.loads(base64.b64decode(encoded))


# A simple reference in a template: `${type.name.attribute}` or `${data.type.name.attribute}`.
REFERENCE = re.compile(r"\$\{((?:data\.)?[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_]+)\}")


def stand_ins(*templates: Any, **fixed: str) -> dict[str, str]:
    """A value for every simple reference in the templates, for `evaluate`; `fixed` sets those whose
    address ends in `.<name>` (e.g. account_id). Values are stable per address, so two evaluations
    agree."""
    values = {}
    for address in sorted(set(REFERENCE.findall(json.dumps(templates)))):
        attribute = address.rsplit(".", 1)[1]
        digest = hashlib.sha256(address.encode()).hexdigest()[:8]
        values[address] = fixed.get(attribute, f"{attribute}-{digest}")
    return values
