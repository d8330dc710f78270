"""Round-trip a large generated image and report time and peak memory:
python -m iwave.stress [--width 8000 --height 6000] [--step S] [--tile N] [--jobs N]

Peak RSS is the largest resident set of this process and of any tile worker
(--jobs), so it is what a machine must have free; it includes the generated
image and the decoded copy (144 MB each at 8000 x 6000)."""
import argparse
import resource
import time

import numpy as np

from iwave.codec import DEFAULT_TILE, Codec
from iwave.synthetic import large_photo_like


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m iwave.stress", description=__doc__)
    p.add_argument("--width", type=int, default=8000)
    p.add_argument("--height", type=int, default=6000)
    p.add_argument("--step", type=float, help="lossy step (default lossless)")
    p.add_argument("--tile", type=int, default=DEFAULT_TILE, help=f"tile size (default {DEFAULT_TILE})")
    p.add_argument("--jobs", type=int, default=1, help="tiles coded in parallel processes")
    args = p.parse_args(argv)
    a = large_photo_like(args.height, args.width, seed=1)
    codec = Codec(tile=args.tile, jobs=args.jobs)
    t0 = time.perf_counter()
    data = codec.compress(a, step=args.step)
    t1 = time.perf_counter()
    out = codec.decompress(data)
    t2 = time.perf_counter()
    peak_mb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    exact = bool(np.array_equal(out, a))
    print(f"{args.width}x{args.height} RGB, tile {args.tile}, {args.jobs} job(s), "
          f"{'lossless' if args.step is None else f'step {args.step:g}'}: "
          f"{len(data) * 8 / a.shape[0] / a.shape[1]:.3f} bpp, exact {exact}, encode {t1 - t0:.1f} s, "
          f"decode {t2 - t1:.1f} s, peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
