"""``python -m qa.evaluation``: the same options as ``qa eval`` (see `qa.evaluation.cli`)."""

import sys

from qa.evaluation.cli import main

sys.exit(main())
