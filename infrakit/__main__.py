import sys

from infrakit.cli import main

sys.exit(main())
