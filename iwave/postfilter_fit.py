"""The encoder's side of the post filter (iwave.postfilter): the filter
that saves most squared error on a tile net of its side bits."""
import math

import numpy as np
import torch

from iwave.entropy.plan_fit import integer_bits
from iwave.postfilter import ALL_TAPS, COEFF_MAX, PRECISION, SHAPES, Filter, differences, side_of

# A bit of side information is worth 2 ln 2 times the mean squared error per
# sample (the slope of D(R) = c 2^(-2R/N) for N samples): a filter is sent
# only if it saves more than that per bit it costs.
BIT_WORTH = 2 * math.log(2)


def side_bits(f):
    """Bits the side code spends on one component's filter (None: off)."""
    return integer_bits(side_of([f]))


def _best(x, err, core, weight, worth):
    """The Filter that saves most weighted squared error on the core net of
    its side bits at `worth` per bit, or None if none saves anything. Every
    shape's normal equations are a block of those of all taps together."""
    feats = torch.cat([differences(x, ALL_TAPS), torch.ones_like(x)[None]])[:, core[0], core[1]]
    feats = feats.reshape(len(ALL_TAPS) + 1, -1).numpy()
    gram, corr = feats @ feats.T, feats @ err
    before = float(err @ err)
    best, best_gain = None, 0.0
    for shape, taps in enumerate(SHAPES):
        rows = [ALL_TAPS.index(t) for t in taps] + [len(ALL_TAPS)]     # its taps, the offset
        w = np.linalg.lstsq(gram[np.ix_(rows, rows)], corr[rows], rcond=None)[0]
        f = Filter(shape, tuple(int(v) for v in
                                np.clip(np.round(w * PRECISION), -COEFF_MAX, COEFF_MAX)))
        after = err - feats[rows].T @ (np.array(f.weights, dtype=np.float64) / PRECISION)
        gain = (weight * (before - float(after @ after))
                - worth * (side_bits(f) - side_bits(None)))
        if gain > best_gain:
            best, best_gain = f, gain
    return best


def fit(recon, target, core, weights):
    """The filters to send for one tile: recon and target (n, 1, H, W)
    tensors (the decoder's planes before rounding, and the original), fitted
    and judged on the `core` (a pair of slices) the decoder keeps; weights:
    how much each component's squared error counts in the image's (RGB)."""
    x = [recon[c, 0].double() for c in range(recon.shape[0])]
    err = [(target[c, 0].double() - xc)[core].reshape(-1).numpy() for c, xc in enumerate(x)]
    total = sum(w * float(e @ e) for w, e in zip(weights, err))
    worth = BIT_WORTH * total / max(sum(e.size for e in err), 1)
    return [_best(xc, e, core, w, worth) for xc, e, w in zip(x, err, weights)]
