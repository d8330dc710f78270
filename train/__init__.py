"""Training tools for iwave models: `python -m train --help`."""
