"""Round-trip a large generated image and report time and peak memory:
python -m iwave.stress [--width 4000 --height 3000] [--step S]"""
import argparse
import resource
import time

import numpy as np

from iwave.codec import Codec
from iwave.synthetic import photo_like


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m iwave.stress", description=__doc__)
    p.add_argument("--width", type=int, default=4000)
    p.add_argument("--height", type=int, default=3000)
    p.add_argument("--step", type=float, help="lossy step (default lossless)")
    args = p.parse_args(argv)
    a = photo_like(args.height, args.width, 3, seed=1)
    codec = Codec()
    t0 = time.perf_counter()
    data = codec.compress(a, step=args.step)
    t1 = time.perf_counter()
    out = codec.decompress(data)
    t2 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    exact = bool(np.array_equal(out, a))
    print(f"{args.width}x{args.height} RGB, {'lossless' if args.step is None else f'step {args.step:g}'}: "
          f"{len(data) * 8 / a.shape[0] / a.shape[1]:.3f} bpp, exact {exact}, encode {t1 - t0:.1f} s, "
          f"decode {t2 - t1:.1f} s, peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
