"""``python -m aiops_core.cli``."""

import sys

from . import main

sys.exit(main())
