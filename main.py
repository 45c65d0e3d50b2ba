"""The cdktf app (see cdktf.json): `python main.py [ENV...]`."""

import sys
from pathlib import Path

from infrakit.synth import main

if __name__ == "__main__":
    sys.exit(
        main(
            sys.argv[1:],
            default_environments_dir=Path(__file__).parent / "environments",
            app_file=Path(__file__),
        )
    )
