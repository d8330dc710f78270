"""The encoder's side of direction-adaptive lifting (iwave.directions): which
direction each block of the finest levels lifts along, and how its maps
are coded.

Each block takes the direction whose uniform column lifting leaves the
least estimated cost in its luma high band, sum log2(1 + |H| / q) with q
that band's step, where that beats the separable transform (d = 0) by
MARGIN such bits: a rough rate for the block that stays blind to what the
context model would make of it, so the margin keeps the choice to the
blocks where a direction clearly pays (docs/effort.md measured 8 and 20).
Levels are chosen in turn, each on the low band the one before left."""
import numpy as np
import torch

from iwave import directions, postfilter, postfilter_fit
from iwave.entropy.plan_fit import value_bits
from iwave.entropy.tables import ZERO_INDEX

MARGIN = 20.0
SHIFTS = tuple(range(-directions.MAX_SHIFT, directions.MAX_SHIFT + 1))


def _costs(luma, transform, level, q):
    """(len(SHIFTS), rows, cols) estimated bits of each block per direction."""
    h, w = luma.shape[-2:]
    b = directions.BLOCK >> level
    rows, cols = directions.block_shape(h, w, level)
    out = []
    for d in SHIFTS:
        _, odd = transform.analyse_columns(luma, np.full((h, w), d))
        cost = np.zeros((rows * b, cols * b))
        cost[1:2 * odd.shape[1]:2, :w] = np.log2(1 + np.abs(odd[0]) / q)
        out.append(cost.reshape(rows, b, cols, b).sum((1, 3)))
    return np.stack(out)


def applies(model):
    """Whether the model's lossy transform is what directional lifting
    generalises: two-tap linear steps, no learned corrections, at least
    LEVELS levels (every shipped lossy model's)."""
    t = model.transform
    return (t.levels >= directions.LEVELS and all(far == 0 for _, far in t.lossy_coeffs)
            and all(s.is_zero_in_exact_mode() for s in t.steps))


def choose(model, x, step):
    """The direction maps (finest level first) for a lossy group's planes x
    (n, H, W) at this step, or None where no block pays for a direction
    (or the model's transform is not one directions apply to)."""
    if not applies(model):
        return None
    transform = model.transform
    steps = model.lossy_steps(step, x.shape[0])
    low = torch.from_numpy(np.asarray(x[:1], np.float64))[:, None]      # luma decides
    maps = []
    for level in range(directions.LEVELS):
        luma = low[:, 0].numpy()
        # the step of this level's vertical high band (its LH subband), luma
        q = steps[2 + 3 * (transform.levels - 1 - level)][0]
        costs = _costs(luma, transform, level, q)
        best = costs.argmin(0)
        plain = costs[SHIFTS.index(0)]
        blocks = np.where(costs.min(0) < plain - MARGIN, np.array(SHIFTS)[best], 0)
        maps.append(blocks.astype(np.int64))
        h, w = low.shape[-2:]
        low, _ = transform.analysis_level(low, 8, directions.expand(blocks, level, h, w))
    return maps if any(m.any() for m in maps) else None


def offsets(maps, tables):
    """Each map's scale offset: the one that codes it in the fewest bits."""
    if maps is None:
        return None
    chosen = []
    for blocks in maps:
        v = np.asarray(blocks, np.int64).reshape(-1)
        bits = [float(value_bits(v, np.zeros_like(v), np.full_like(v, ZERO_INDEX + s), tables).sum())
                for s in range(-directions.SCALE_MAX, directions.SCALE_MAX + 1)]
        chosen.append(int(np.argmin(bits)) - directions.SCALE_MAX)
    return chosen


def cost(recon, filters, x, keep, weights, step, streams):
    """What a lossy group's coding costs, to choose between two: its squared
    error in RGB terms (each component's weighted by its gain into RGB)
    over the tile's own pixels after the post filter, plus what the post
    filter's fit charges per bit of its streams (STEP_LAMBDA step^2)."""
    error = postfilter.apply(recon, filters, step)[:, 0] - torch.from_numpy(x).double()
    squared = (error[:, keep[0], keep[1]] ** 2).sum((1, 2)).numpy()
    bits = 8 * sum(len(s) for s in streams)
    return float(np.dot(weights, squared)) + postfilter_fit.bit_worth(None, None, step) * bits
