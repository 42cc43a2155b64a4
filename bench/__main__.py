"""``python -m bench`` is ``aegis-bench``."""

import sys

from bench.cli import main

sys.exit(main())
