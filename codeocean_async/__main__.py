"""Run the command line: ``python -m codeocean_async`` is ``codeocean-async``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
