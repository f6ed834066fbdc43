"""`python -m sims.chargers` (see `cli`)."""

import sys

from sims.chargers.cli import main

sys.exit(main())
