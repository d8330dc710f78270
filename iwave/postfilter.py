"""The post filter of lossy files (since file format 7): after the inverse
transform and the denoiser, each quantised component plane of a tile may get
a small linear filter that the encoder fits to that tile by least squares
against the original and sends with it, as an adaptive loop filter does in
video codecs. The encoder sees the original, so the filter corrects what the
trained networks get wrong for this image; it is sent only where it saves
more distortion than its bits are worth.

The filter is point-symmetric on a 5x5 or 7x7 diamond (SHAPES): each tap weighs the sum of
the two samples at +d and -d less twice the centre (so flat areas pass
unchanged), plus a constant offset:

    y = x + sum_i w_i (x[+d_i] + x[-d_i] - 2 x) + b

with w_i and b multiples of 1/PRECISION, samples beyond the tile repeated
from its edge. Decoding costs at most MACS_PER_SAMPLE multiplies per sample."""
import math
from typing import NamedTuple

import numpy as np
import torch

from entropy import EntropyError
from entropy.adaptation import value_bits
from entropy.tables import ZERO_INDEX


def _half_diamond(r):
    """The offsets (dy, dx) within city-block distance r of the centre, one
    of each mirror pair."""
    return tuple((dy, dx) for dy in range(r + 1) for dx in range(-r, r + 1)
                 if 0 < abs(dy) + abs(dx) <= r and (dy > 0 or dx > 0))


# The shapes a filter may take (its index + 1 is sent; 0: no filter): the
# encoder picks the one that pays best for each component of each tile.
SHAPES = (_half_diamond(2), _half_diamond(3))     # 5x5 and 7x7 diamonds: 6 and 12 taps
RADIUS = 3
PRECISION = 64                    # weights and offset in 64ths
COEFF_MAX = 1024                  # |w| <= 16, |b| <= 16 grey levels
ALL_TAPS = tuple(sorted(set().union(*SHAPES)))
MACS_PER_SAMPLE = max(len(t) for t in SHAPES)
FLAG_SCALE, COEFF_SCALE = 0, 22   # Laplace scale indices (offsets from ZERO_INDEX) of the side code
# A bit of side information is worth 2 ln 2 times the mean squared error per
# sample (the slope of D(R) = c 2^(-2R/N) for N samples): a filter is sent
# only if it saves more than that per bit it costs.
BIT_WORTH = 2 * math.log(2)


class Filter(NamedTuple):
    shape: int               # index into SHAPES
    weights: tuple           # one per tap of the shape, then the offset, in 1/PRECISION


def _differences(x, taps):
    """(taps, H, W): x[+d] + x[-d] - 2x for each tap d of an (H, W) plane."""
    h, w = x.shape
    p = torch.nn.functional.pad(x[None, None], (RADIUS,) * 4, mode="replicate")[0, 0]

    def at(dy, dx):
        return p[RADIUS + dy:RADIUS + dy + h, RADIUS + dx:RADIUS + dx + w]
    return torch.stack([at(dy, dx) + at(-dy, -dx) - 2 * x for dy, dx in taps])


def apply(planes, filters):
    """planes (n, 1, H, W) float tensor, one Filter or None (unfiltered) per
    component -> filtered planes."""
    out = planes.clone()
    for c, f in enumerate(filters):
        if f is None:
            continue
        x = planes[c, 0]
        w = torch.tensor(f.weights[:-1], dtype=x.dtype) / PRECISION
        out[c, 0] = (x + (w[:, None, None] * _differences(x, SHAPES[f.shape])).sum(0)
                     + f.weights[-1] / PRECISION)
    return out


def _side(filters):
    """The integers the side code sends for these filters, and their scales."""
    values, scales = [], []
    for f in filters:
        values.append(0 if f is None else f.shape + 1)
        scales.append(FLAG_SCALE)
        if f is not None:
            values += f.weights
            scales += [COEFF_SCALE] * len(f.weights)
    return np.array(values, dtype=np.int64), np.array(scales, dtype=np.int64) + ZERO_INDEX


def side_bits(f):
    """Bits the side code spends on one component's filter (None: off)."""
    values, scales = _side([f])
    return float(value_bits(values, np.zeros_like(values), scales).sum())


def _best(x, err, core, weight, worth):
    """The Filter that saves most weighted squared error on the core net of
    its side bits at `worth` per bit, or None if none saves anything. Every
    shape's normal equations are a block of those of all taps together."""
    feats = torch.cat([_differences(x, ALL_TAPS), torch.ones_like(x)[None]])[:, core[0], core[1]]
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


def write(encoder, filters):
    """Queue the filters (one per component, None: off) on a ValueEncoder."""
    values, scales = _side(filters)
    encoder.add(values, np.zeros_like(values), scales)


def read(decoder, count):
    """`count` filters as write queued them; EntropyError if malformed."""
    filters = []
    for _ in range(count):
        zero = np.zeros(1, dtype=np.int64)
        shape = int(decoder.decode(zero, zero + ZERO_INDEX + FLAG_SCALE)[0])
        if not 0 <= shape <= len(SHAPES):
            raise EntropyError("post filter shape out of range")
        if shape == 0:
            filters.append(None)
            continue
        zeros = np.zeros(len(SHAPES[shape - 1]) + 1, dtype=np.int64)
        weights = tuple(int(v) for v in decoder.decode(zeros, zeros + ZERO_INDEX + COEFF_SCALE))
        if max(abs(v) for v in weights) > COEFF_MAX:
            raise EntropyError("post filter weight out of range")
        filters.append(Filter(shape - 1, weights))
    return filters
