"""``python -m rating``: see rating.cli."""

import sys

from rating.cli import main

sys.exit(main())
