"""Fit how the file format codes the coding plans' own integers
(entropy.plan_format.SIDE): code training images as the encoder does, collect
the integers of every plan by kind (flags, thresholds, weights, a - 8, f, s)
and find, for each kind, the Laplace scale that codes them in the fewest
bits under the model's tables. This is how SIDE was chosen (a format
constant: changing it needs a new file version).

    python -m iwave.train.side_scales MODEL.npz DATA [--steps 12,30,75,190,320] [--images 40]

Prints one JSON object: per kind, the count, SIDE's scale offset and its
bits, and the best offset and its bits.
"""
import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from iwave.entropy.plan_fit import value_bits
from iwave.entropy.plan_format import SIDE, Plan, side_integers
from iwave.entropy.tables import ZERO_INDEX
from iwave.errors import IWaveError
from iwave.model import IWaveModel
from iwave.quantisation import MAX_STEP, MIN_STEP
from iwave.train.data import add_sample_options, training_sample
from iwave.train.tables import coded_streams_of

OFFSETS = range(-ZERO_INDEX, 31)      # every scale offset with a table (k = 0 ... 54)


def collect(model, files, steps, progress=True):
    """{kind: int64 array} of the plans' integers when the encoder codes
    `files` at each lossy step (None: lossless)."""
    out = defaultdict(list)
    for plans, _ in coded_streams_of(model, files, steps, "collecting plans", progress):
        for plan in (p for p in plans if isinstance(p, Plan)):   # else zeros, or LL coded sequentially
            for v, kind in side_integers(plan, SIDE.part_flags):
                out[kind].append(v)
    return {k: np.array(v, dtype=np.int64) for k, v in out.items()}


def _bits(values, offset, tables):
    return float(value_bits(values, np.zeros_like(values), np.full_like(values, ZERO_INDEX + offset),
                            tables).sum())


def fit(integers, tables):
    """{kind: {count, side (SIDE's offset), side_bits, best, best_bits}}."""
    out = {}
    for kind, values in sorted(integers.items()):
        bits = {d: _bits(values, d, tables) for d in OFFSETS}
        best = min(bits, key=bits.get)
        out[kind] = {"count": int(values.size), "side": getattr(SIDE, kind),
                     "side_bits": round(bits[getattr(SIDE, kind)]), "best": best,
                     "best_bits": round(bits[best])}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m iwave.train.side_scales",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="a model (.npz); its tables cost the integers")
    p.add_argument("data", help="the training folder (its held-out images are skipped)")
    p.add_argument("--steps", default="12,30,75,190,320",
                   help="comma-separated lossy steps; 'lossless' codes losslessly (default 12,30,75,190,320)")
    add_sample_options(p, 40)
    args = p.parse_args(argv)
    try:
        steps = [None if s.strip() == "lossless" else float(s) for s in args.steps.split(",")]
    except ValueError:
        raise SystemExit("error: --steps must be numbers (or 'lossless') separated by commas")
    if any(s is not None and not MIN_STEP <= s <= MAX_STEP for s in steps):
        raise SystemExit(f"error: steps must be between {MIN_STEP} and {MAX_STEP:g}")
    try:
        model = IWaveModel.load(args.model)
    except IWaveError as e:
        raise SystemExit(f"error: {e}")
    if not Path(args.data).is_dir():
        raise SystemExit(f"error: {args.data} is not a folder")
    files = training_sample(args.data, args.images, args.holdout_every)
    kinds = fit(collect(model, files, steps), model.tables)
    print(json.dumps({"model": model.identifier(), "images": len(files), "steps": args.steps,
                      "kinds": kinds,
                      "side_bits": sum(k["side_bits"] for k in kinds.values()),
                      "best_bits": sum(k["best_bits"] for k in kinds.values())}))


if __name__ == "__main__":
    main()
