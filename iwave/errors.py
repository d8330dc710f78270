class IWaveError(Exception):
    """A problem the user can act on (bad input, corrupt file, bad option).
    The CLI prints its message as one line and exits non-zero."""
