"""How many threads iwave's tensor work may use.

torch's intra-op threads collapse on small tensors when another process
holds a core (a 32x32 image took 43 s instead of 0.95 s beside other jobs):
each of thousands of tiny parallel regions waits for a thread the scheduler
gave to someone else. So iwave never asks for more threads than there are
free cores: by default the cores this process may run on less the current
load (at least one); `threads=` / `--threads N` or $IWAVE_THREADS choose.
Processes that iwave starts (tiles, folder files) share the same count, so
jobs x threads never exceeds it.
"""
import os
from contextlib import contextmanager

from iwave.errors import IWaveError


def usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def free_cores():
    """The cores this process may use less the 1-minute load average, >= 1."""
    cores = usable_cores()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    return max(1, min(cores, int(cores - load + 0.5)))


def resolve(threads=None):
    """threads, else $IWAVE_THREADS, else the free cores; checked."""
    if threads is None:
        threads = os.environ.get("IWAVE_THREADS") or free_cores()
    try:
        n = int(threads)
    except (TypeError, ValueError):
        raise IWaveError(f"threads must be a whole number, not {threads!r}") from None
    if n < 1:
        raise IWaveError("threads must be at least 1")
    return n


@contextmanager
def limited(threads):
    """torch's intra-op threads set to `threads` inside the block, and
    restored after it (iwave used as a library leaves the host's setting)."""
    import torch
    before = torch.get_num_threads()
    if before != threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
