"""`python -m aekit ...` (and `torchrun -m aekit train ...`) run the CLI."""

import sys

from .interfaces.cli import main

sys.exit(main())
