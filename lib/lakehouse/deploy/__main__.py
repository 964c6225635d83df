"""``python -m lakehouse.deploy --env dev``."""

import sys

from lakehouse.deploy import main

sys.exit(main())
