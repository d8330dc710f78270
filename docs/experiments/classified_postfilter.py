"""Bound-like estimate: would a post filter with one filter per class of
pixels (classes by local activity and direction of the decoded luma, as the
adaptive loop filters of VVC do) beat the one filter per component that
lossy files send (iwave.postfilter)? Per image and step: the weighted
squared error plus the side bits at the fit's own worth per bit
(postfilter_fit.BIT_WORTH), for the shipped fit and for the classified one
(each class's filter the shipped fit's best shape, or none), printed as the
difference in dB of that Lagrangian cost (what the post filter would gain
in PSNR at equal rate, side bits included; 0.1 dB is worth about 2% of
rate at these steps).

    python docs/experiments/classified_postfilter.py HELD_OUT_FOLDER [--steps 24,48,96,160]

Held-out images only (never Kodak)."""
import glob
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from iwave import encoder, postfilter_fit
from iwave.coding import reconstruct
from iwave.colour import YCOCG_SYNTHESIS_GAINS
from iwave.model import IWaveModel, resolve_model_paths
from iwave.postfilter import ALL_TAPS, PRECISION, SHAPES

import held_out      # docs/experiments/held_out.py

ACTIVITY_EDGES = (0.5, 1.5, 4.0)     # local activity / step: 4 classes
DIRECTION_RATIO = 2.0                # horizontal against vertical energy: 3 classes


def classes(y, step):
    """Class per sample (H, W) from the decoded luma plane y (H, W)."""
    p = F.pad(y[None, None], (1, 1, 1, 1), mode="replicate")[0, 0]
    h = (2 * y - p[1:-1, :-2] - p[1:-1, 2:]).abs()
    v = (2 * y - p[:-2, 1:-1] - p[2:, 1:-1]).abs()
    box = lambda t: F.avg_pool2d(F.pad(t[None, None], (1, 1, 1, 1), mode="replicate"), 3, 1)[0, 0]
    h, v = box(h), box(v)
    activity = np.digitize(((h + v) / step).numpy(), ACTIVITY_EDGES)
    direction = np.where(h > DIRECTION_RATIO * v, 1, np.where(v > DIRECTION_RATIO * h, 2, 0))
    return activity * 3 + direction


def cost(feats, err, weight, worth, mask=None):
    """Weighted squared error plus side bits at `worth` after the shipped
    fit's best filter on the samples of `mask` (all if None)."""
    e = err.reshape(-1)
    if mask is not None:
        feats, e = feats[:, mask.reshape(-1)], e[mask.reshape(-1)]
    f = postfilter_fit.best_filter(feats, e, weight, worth) if e.size > 20 else None
    if f is not None:
        rows = [ALL_TAPS.index(t) for t in SHAPES[f.shape]] + [len(ALL_TAPS)]
        e = e - feats[rows].T @ (np.array(f.weights, dtype=np.float64) / PRECISION)
    return weight * float(e @ e) + worth * postfilter_fit.side_bits(f)


def main():
    folder, steps = held_out.arguments(__doc__, "24,48,96,160")
    model = IWaveModel.load(resolve_model_paths()["lossy"])
    gains = {}
    for path in sorted(glob.glob(f"{folder}/*.png")):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        x = encoder.component_groups(rgb)[0][0]
        target = torch.from_numpy(x).double()
        for step in map(float, steps):
            bands, _ = encoder.subbands(model, x, 8, step)
            rec = reconstruct(model, bands, step)[:, 0].double()
            err = [(target[c] - rec[c]).numpy() for c in range(3)]
            total = sum(w * float((e * e).sum()) for w, e in zip(YCOCG_SYNTHESIS_GAINS, err))
            worth = postfilter_fit.BIT_WORTH * total / sum(e.size for e in err)
            cls = classes(rec[0], step)
            one = classified = 0.0
            whole = (slice(None), slice(None))
            for c, w in enumerate(YCOCG_SYNTHESIS_GAINS):
                feats = postfilter_fit.features(rec[c], whole)
                single = cost(feats, err[c], w, worth)
                one += single
                classified += min(single, sum(cost(feats, err[c], w, worth, cls == k)
                                              for k in np.unique(cls)))
            db = 10 * math.log10(one / classified)
            gains.setdefault(step, []).append(db)
            print(f"{path.split('/')[-1]} step {step:g}: classified filters {db:+.3f} dB", flush=True)
    for step, g in gains.items():
        print(f"step {step:g}: mean {np.mean(g):+.3f} dB")


if __name__ == "__main__":
    main()
