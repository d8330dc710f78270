"""Where a lossy codec's BD-rate against its rivals comes from, rate by
rate: reads a benchmark's results.json (`iwave bench FOLDER --out DIR`) and
prints, for each range of bits per pixel, the per-image median BD-rate
(PSNR-RGB) of the codec's points in that range against each anchor's points
in a range wider by 1/0.7 and 1.4 (so the anchor's curve spans the codec's
qualities; the BD-rate itself keeps to the overlapping qualities).

    python docs/experiments/bd_by_rate.py results/kodak/results.json [--codec iwave-lossy]
        [--anchors jpeg2000,heic-444] [--ranges 0-0.3,0.2-0.8,0.6-3]

It reads measurements only (no coding); never tune on Kodak."""
import json

import numpy as np

from bd_by_image import curves, parser
from iwave.bench.metrics import bd_rate


def within(curve, lo, hi):
    """The (rates, PSNRs) points of `curve` with lo <= rate <= hi, or None."""
    kept = [(r, q) for r, q in zip(*curve) if lo <= r <= hi]
    return tuple(map(list, zip(*kept))) if len(kept) >= 2 else None


def main():
    ap = parser(__doc__)
    ap.add_argument("--ranges", default="0-0.3,0.2-0.8,0.6-3")
    args = ap.parse_args()
    results = json.load(open(args.results))
    test = curves(results, args.codec)
    for anchor in args.anchors.split(","):
        rival = curves(results, anchor)
        for part in args.ranges.split(","):
            lo, hi = (float(x) for x in part.split("-"))
            values = []
            for image, curve in test.items():
                t, a = within(curve, lo, hi), within(rival[image], lo * 0.7, hi * 1.4)
                value = bd_rate(a, t) if t and a else None
                if value is not None:
                    values.append(value)
            median = f"{np.median(values):+.1f}%" if values else "-"
            print(f"{args.codec} against {anchor}, {lo}-{hi} bpp: {median} "
                  f"(median of {len(values)} images)")


if __name__ == "__main__":
    main()
