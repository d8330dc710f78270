"""What each effort level buys on a folder of images, in one run: total
bits per sample, mean squared error (lossy), and encode and decode time
against the default level's in the same run.

    python -m iwave.bench.effort FOLDER [--levels 1,2,3,4,7,8,9] [--steps ll,24]

(`ll`: lossless.) docs/effort.md quotes it on held-out photos."""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

from iwave.effort import DEFAULT_EFFORT


def measure(codec, images, step, level):
    """(bits per sample, mean squared error, encode s, decode s) over `images`."""
    bits = samples = 0
    sse = encode_s = decode_s = 0.0
    for a in images:
        t = time.perf_counter()
        data = codec.compress(a, step=step, effort=level)
        encode_s += time.perf_counter() - t
        t = time.perf_counter()
        b = codec.decompress(data)
        decode_s += time.perf_counter() - t
        if step is None and not np.array_equal(a, b):
            raise SystemExit(f"effort {level}: a lossless decode differs from its image")
        bits += len(data) * 8
        samples += a.size
        sse += float(((a.astype(np.float64) - b) ** 2).sum())
    return bits / samples, sse / samples, encode_s, decode_s


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m iwave.bench.effort", description=__doc__.split("\n\n")[0])
    p.add_argument("folder")
    p.add_argument("--levels", default="1,2,3,4,7,8,9", help="effort levels (default 1,2,3,4,7,8,9)")
    p.add_argument("--steps", default="ll,24", help="'ll' (lossless) and/or lossy steps (default ll,24)")
    p.add_argument("--model", help="model name or .npz (default: the shipped ones)")
    args = p.parse_args(argv)
    from iwave.codec import Codec
    from iwave.imageio import read_image
    files = sorted(f for f in Path(args.folder).iterdir() if f.suffix.lower() in (".png", ".ppm", ".tif"))
    if not files:
        raise SystemExit(f"no images in {args.folder}")
    images = [read_image(f) for f in files]
    levels = [int(v) for v in args.levels.split(",")]
    codec = Codec(args.model)
    print(f"{len(images)} images of {args.folder}, one thread")
    print("| mode | effort | bits/sample | vs effort 7 | MSE | encode s | encode / effort 7 | decode s |")
    print("|---|---|---|---|---|---|---|---|")
    for s in args.steps.split(","):
        step = None if s == "ll" else float(s)
        rows = {lv: measure(codec, images, step, lv) for lv in sorted(set(levels) | {DEFAULT_EFFORT})}
        ref = rows[DEFAULT_EFFORT]
        for lv in levels:
            bps, mse, enc, dec = rows[lv]
            print(f"| {'lossless' if step is None else f'step {step:g}'} | {lv} | {bps:.4f} | "
                  f"{100 * (bps / ref[0] - 1):+.2f}% | {mse:.3f} | {enc:.1f} | {enc / ref[2]:.2f}x | "
                  f"{dec:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
