"""The encoder's side of the post filter (iwave.postfilter): the filter
that saves most squared error on a tile net of its side bits."""
import math
from typing import NamedTuple

import numpy as np
import torch

from iwave.entropy.plan_fit import integer_bits
from iwave import filter_classes
from iwave.postfilter import (ALL_TAPS, COEFF_MAX, PRECISION, SHAPES, Classified, Filter, differences,
                              side_of)

# Format 7 to 14: a bit of side information is worth 2 ln 2 times the mean
# squared error per sample (the slope of D(R) = c 2^(-2R/N) for N samples): a
# filter is sent only if it saves more than that per bit it costs.
BIT_WORTH = 2 * math.log(2)


# Since format 15 a bit is worth STEP_LAMBDA x step^2 of weighted squared
# error, as the rate-distortion rounding weighs bits (iwave.encoder.RD_LAMBDA,
# in squared steps): the slope above holds at high rates only, and at the
# steps lossy files use it let filters spend bits that cost more than they
# saved. Per-class filters on the five held-out photos, steps 16-128,
# per-image median BD-rate against format 14: +0.64% with the slope above,
# -1.28%, -1.55%, -1.72%, -1.58%, -0.95% at 0.05, 0.1, 0.2, 0.4, 0.8 x step^2
# (one filter per component at 0.1: -0.06%).
STEP_LAMBDA = 0.2


def bit_worth(total, samples, step):
    """Weighted squared error a side bit is worth: STEP_LAMBDA x step^2, or
    without a step the slope rule (what iwave 0.11 used; experiments)."""
    if step is not None:
        return STEP_LAMBDA * step * step
    return BIT_WORTH * total / max(samples, 1)


def side_bits(f):
    """Bits the side code spends on one component's filter (None: off)."""
    return integer_bits(side_of([f]))


def features(x, core):
    """(taps + 1, samples): every tap's differences of plane x on the core,
    then ones (the offset): what a filter's output is a weighted sum of."""
    feats = torch.cat([differences(x, ALL_TAPS), torch.ones_like(x)[None]])[:, core[0], core[1]]
    return feats.reshape(len(ALL_TAPS) + 1, -1).numpy()


def best_filter(feats, err, weight, worth):
    """The Filter that saves most weighted squared error `err` (features'
    samples) net of its side bits at `worth` per bit, or None if none saves
    anything."""
    return _choice(feats, err, weight, worth)[0]


def _choice(feats, err, weight, worth):
    """(best_filter's choice, its cost: the weighted squared error left plus
    worth x its side bits)."""
    return _choice_of(feats @ feats.T, feats @ err, float(err @ err), weight, worth)


def _choice_of(gram, corr, energy, weight, worth):
    """_choice from the samples' normal equations (gram, corr) and squared
    error (energy), which add up over samples: every shape's normal
    equations are a block of those of all taps together."""
    best, best_cost = None, weight * energy + worth * side_bits(None)
    for shape, taps in enumerate(SHAPES):
        rows = [ALL_TAPS.index(t) for t in taps] + [len(ALL_TAPS)]     # its taps, the offset
        g, c = gram[np.ix_(rows, rows)], corr[rows]
        w = np.linalg.lstsq(g, c, rcond=None)[0]
        f = Filter(shape, tuple(int(v) for v in
                                np.clip(np.round(w * PRECISION), -COEFF_MAX, COEFF_MAX)))
        q = np.array(f.weights, dtype=np.float64) / PRECISION
        cost = weight * max(energy - 2 * float(q @ c) + float(q @ g @ q), 0.0) + worth * side_bits(f)
        if cost < best_cost:
            best, best_cost = f, cost
    return best, best_cost


class _Group(NamedTuple):
    """Classes that share a filter: their normal equations and squared error
    (gram, corr, energy: they add up over samples), and the best filter (or
    none) for them all with its cost (_choice_of)."""
    classes: list
    stats: tuple
    filter: object
    cost: float


def _group(classes, stats, weight, worth):
    return _Group(classes, stats, *_choice_of(*stats, weight, worth))


def _classified(feats, err, cls, weight, worth):
    """(per-class filters as a Classified, or None if no class has one, and
    the cost with all their side bits). Starting from a filter (or none) per
    class, the two groups of classes whose sharing one filter saves most are
    merged until no merge saves anything."""
    order = np.argsort(cls, kind="stable")
    feats, err = feats[:, order], err[order]
    ends = np.cumsum(np.bincount(cls, minlength=filter_classes.NUM_CLASSES))
    groups = {}
    for k, end in enumerate(ends):
        start = ends[k - 1] if k else 0
        if end > start:
            f, e = feats[:, start:end], err[start:end]
            groups[k] = _group([k], (f @ f.T, f @ e, float(e @ e)), weight, worth)

    def merged(a, b):
        stats = tuple(x + y for x, y in zip(groups[a].stats, groups[b].stats))
        group = _group(groups[a].classes + groups[b].classes, stats, weight, worth)
        return group.cost - groups[a].cost - groups[b].cost, group
    merges = {(a, b): merged(a, b) for a in groups for b in groups if a < b}
    while merges:
        (a, b), (change, group) = min(merges.items(), key=lambda m: m[1][0])
        if change >= 0:
            break
        del groups[b]
        groups[a] = group
        merges = {m: v for m, v in merges.items() if a not in m and b not in m}
        merges.update({(min(a, c), max(a, c)): merged(min(a, c), max(a, c)) for c in groups if c != a})
    sending = sorted((g for g in groups.values() if g.filter is not None), key=lambda g: min(g.classes))
    if not sending:
        return None, float("inf")
    numbers = [0] * filter_classes.NUM_CLASSES
    for number, g in enumerate(sending, 1):
        for k in g.classes:
            numbers[k] = number
    classified = Classified(tuple(g.filter for g in sending), tuple(numbers))
    left = sum(g.cost - worth * side_bits(g.filter) for g in groups.values())   # squared error
    return classified, left + worth * side_bits(classified)


def fit(recon, target, core, weights, step=None):
    """The filters to send for one tile: recon and target (n, 1, H, W)
    tensors (the decoder's planes before rounding, and the original), fitted
    and judged on the `core` (a pair of slices) the decoder keeps; weights:
    how much each component's squared error counts in the image's (RGB).
    Given the file's `step`, bits are worth STEP_LAMBDA x step^2 and a
    component may get per-class filters (format 15) where they pay; without
    one, one filter per component at the older worth (experiments)."""
    x = [recon[c, 0].double() for c in range(recon.shape[0])]
    err = [(target[c, 0].double() - xc)[core].reshape(-1).numpy() for c, xc in enumerate(x)]
    total = sum(w * float(e @ e) for w, e in zip(weights, err))
    worth = bit_worth(total, sum(e.size for e in err), step)
    cls = None if step is None else filter_classes.classes(x[0], step)[core].reshape(-1)
    filters = []
    for xc, e, w in zip(x, err, weights):
        feats = features(xc, core)
        best, cost = _choice(feats, e, w, worth)
        if cls is not None:
            classified, classified_cost = _classified(feats, e, cls, w, worth)
            if classified_cost < cost:
                best = classified
        filters.append(best)
    return filters
