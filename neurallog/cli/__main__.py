"""``python -m neurallog.cli``: same as the ``neurallog`` console script."""

from __future__ import annotations

import sys

from neurallog.cli import main

if __name__ == "__main__":
    sys.exit(main())
