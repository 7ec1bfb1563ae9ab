"""`python -m aekit ...` (and `torchrun -m aekit train ...`) run the CLI."""

import sys

from .interfaces.cli import main

LAYER = "interfaces"  # `python -m aekit`: the command line

sys.exit(main())
