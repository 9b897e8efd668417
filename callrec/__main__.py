"""``python -m callrec``."""

import sys

from callrec.cli import main

sys.exit(main())
