"""python -m iwave: the same command as `iwave`."""
import sys

from iwave.cli import main

sys.exit(main())
