"""How many threads iwave's tensor work may use.

torch's intra-op threads collapse on small tensors when another process
holds a core (a 32x32 image took 43 s instead of 0.95 s beside other jobs):
each of thousands of tiny parallel regions waits for a thread the scheduler
gave to someone else. Measured (docs/speed.md, python -m iwave.bench.speed):
two threads decode a Kodak image 1.2x faster than one on an idle 2-core
machine, and 30x slower than idle once one other process busy-loops on a
core, while one thread is 1.02x of idle there. A machine's load can change
at any moment (the load average lags by a minute), so the default is one
thread; `threads=` / `--threads N` or $IWAVE_THREADS ask for more where the
cores are known to be free, and `--jobs` parallelises at the coarse level
(tiles, files). Processes that iwave starts share the count, so jobs x
threads never exceeds it.
"""
import os
from contextlib import contextmanager

from iwave.errors import IWaveError


def resolve(threads=None):
    """threads, else $IWAVE_THREADS, else 1; checked."""
    if threads is None:
        threads = os.environ.get("IWAVE_THREADS") or 1
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
