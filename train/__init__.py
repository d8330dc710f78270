"""Training tools for iwave models: `python -m iwave.train --help`."""
