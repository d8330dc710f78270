"""Bound-like estimate: would a cross-component post filter (each chroma
plane corrected by a linear filter of the decoded luma's local differences,
as VVC's CC-ALF does) pay on top of the post filters lossy files send
today? Per image and step: the decoder's planes after today's post filter
(format 15, per-class where it pays), then for Co and Cg a least-squares
filter on Y[p + d] - Y[p] over the taps of a diamond, weights in 64ths, side
bits estimated at 1 + 2 log2(1 + |q|) per weight and charged at the fit's
worth (postfilter_fit.bit_worth). Printed: the gain in dB of that
Lagrangian cost over the three components (0.1 dB is worth about 2% of
rate at these steps).

    python docs/experiments/cross_component.py HELD_OUT_FOLDER [--steps 24,48,96,160]

Held-out images only (never Kodak)."""
import glob
import math

import numpy as np
import torch
from PIL import Image

from iwave import encoder, postfilter, postfilter_fit
from iwave.coding import reconstruct
from iwave.colour import YCOCG_SYNTHESIS_GAINS
from iwave.model import IWaveModel, resolve_model_paths
from iwave.postfilter import PRECISION       # weights in 64ths, as the post filter's

import held_out      # docs/experiments/held_out.py

RADII = (1, 2)


def taps(r):
    return [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)
            if 0 < abs(dy) + abs(dx) <= r]


def luma_features(y, r):
    """(taps + 1, samples): Y[p + d] - Y[p] for the diamond's taps, then ones."""
    p = torch.nn.functional.pad(y[None, None], (r, r, r, r), mode="replicate")[0, 0]
    h, w = y.shape
    rows = [p[r + dy:r + dy + h, r + dx:r + dx + w] - y for dy, dx in taps(r)]
    return torch.stack(rows + [torch.ones_like(y)]).reshape(len(rows) + 1, -1).numpy()


def cc_cost(feats, err, weight, worth):
    """Weighted squared error plus side bits after the best quantised filter
    (or none: the error as it is)."""
    none = weight * float(err @ err)
    gram, corr = feats @ feats.T, feats @ err
    w = np.linalg.solve(gram + 1e-6 * np.eye(len(gram)), corr)
    q = np.round(w * PRECISION)
    e = err - feats.T @ (q / PRECISION)
    bits = 1 + float(np.sum(1 + 2 * np.log2(1 + np.abs(q))))
    return min(none, weight * float(e @ e) + worth * bits)


def main():
    folder, steps = held_out.arguments(__doc__, "24,48,96,160")
    model = IWaveModel.load(resolve_model_paths()["lossy"])
    gains = {}
    whole = (slice(None), slice(None))
    for path in sorted(glob.glob(f"{folder}/*.png")):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        x = encoder.component_groups(rgb)[0][0]
        target = torch.from_numpy(x).double()[:, None]
        for step in map(float, steps):
            bands, _ = encoder.subbands(model, x, 8, step)
            rec = reconstruct(model, bands, step).double()
            filters = postfilter_fit.fit(rec, target, whole, YCOCG_SYNTHESIS_GAINS, step)
            post = postfilter.apply(rec, filters, step)
            err = [(target[c, 0] - post[c, 0]).reshape(-1).numpy() for c in range(3)]
            worth = postfilter_fit.bit_worth(0, 0, step)
            before = sum(w * float(e @ e) for w, e in zip(YCOCG_SYNTHESIS_GAINS, err))
            line = []
            for r in RADII:
                feats = luma_features(post[0, 0], r)
                after = YCOCG_SYNTHESIS_GAINS[0] * float(err[0] @ err[0]) + sum(
                    cc_cost(feats, err[c], YCOCG_SYNTHESIS_GAINS[c], worth) for c in (1, 2))
                db = 10 * math.log10(before / after)
                gains.setdefault((r, step), []).append(db)
                line.append(f"radius {r} {db:+.3f} dB")
            print(f"{path.split('/')[-1]} step {step:g}: " + ", ".join(line), flush=True)
    for (r, step), g in sorted(gains.items()):
        print(f"radius {r} step {step:g}: mean {np.mean(g):+.3f} dB")


if __name__ == "__main__":
    main()
