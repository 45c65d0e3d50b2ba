"""Load prebuilt provider bindings one submodule at a time.

A provider package's __init__.py imports every submodule eagerly: about 2,200 for AWS, which is
8 of the 11-15 s that `import cdktf_cdktf_provider_aws.vpc` costs (see ../shared/reference.md).
Registering the package in sys.modules without running that __init__.py lets Python import just
the submodules the stack uses; each still loads the jsii assembly through `.._jsii`, so the
generated classes and the synthesized output are unchanged (a test compares the bytes).
"""

from __future__ import annotations

import importlib.util
import os
import sys

from infrakit.cdk import SOURCES

# The provider packages infrakit/cdk.py imports from (the ones whose names live in a submodule).
PROVIDER_PACKAGES = tuple(sorted({module.split(".")[0] for module in SOURCES.values() if "." in module}))
# Set to 1 to import the packages the usual way (for comparison and troubleshooting).
EAGER_VARIABLE = "INFRAKIT_EAGER_PROVIDER_IMPORTS"


def load_providers_on_demand() -> None:
    if os.environ.get(EAGER_VARIABLE) == "1":
        return
    for name in PROVIDER_PACKAGES:
        if name in sys.modules:
            continue  # already imported, eagerly or not: nothing to gain
        spec = importlib.util.find_spec(name)
        if spec is None or spec.submodule_search_locations is None:
            continue  # not installed: the import that needs it will say so
        # A package module whose __path__ is set but whose __init__.py never runs.
        sys.modules[name] = importlib.util.module_from_spec(spec)
