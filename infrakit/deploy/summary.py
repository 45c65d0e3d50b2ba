"""What was deployed and where, as scripts/setup.sh prints it at the end of a deploy.

Read from the stacks' outputs. A sensitive output is shown by name only, with where to read it:
a summary ends up in terminal scrollback and CI logs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from infrakit.bootstrap.endpoints import stack_outputs
from infrakit.config import Environment
from infrakit.stacks.names import image_services, images_stack_name


def deployed_summary(
    environment: Environment, *, project_root: Path, environ: Mapping[str, str] = os.environ
) -> list[str]:
    stacks = [environment.name]
    if image_services(environment):
        stacks.insert(0, images_stack_name(environment.name))
    lines = [f"{environment.name}: what is deployed and where"]
    for stack in stacks:
        outputs = stack_outputs(stack, project_root, environ)
        if not outputs:
            lines.append(f"  {stack}: not deployed from this checkout (no state in cdktf.out/stacks/{stack})")
            continue
        lines.append(f"  {stack}:")
        for name, output in sorted(outputs.items()):
            if output.sensitive:
                lines.append(
                    f"    {name}: (sensitive, not shown; `node_modules/.bin/cdktf output {stack}` reads it)"
                )
            else:
                lines.append(f"    {name}: {output.value}")
    return lines
