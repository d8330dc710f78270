"""Integer frequency tables for zero-mean discretised Laplace distributions.

Table k has Laplace scale sigma_k = 2 ** ((k - ZERO_INDEX) / SCALE_STEPS_PER_OCTAVE)
and covers residuals -R_k..R_k plus one escape symbol (the tail mass). Scales
above the last table are coded by splitting off low bits (see laplace_coder).

Means are integers, or for models with mean resolution 4, multiples of 1/4:
then a residual from the integer below the mean is coded with the table of
the mean's fraction (0, 1/4 or 1/2; 3/4 is 1/4 mirrored), three sets of
NUM_TABLES tables stacked as rows (set * NUM_TABLES + k). A context model
whose prediction falls between two integers loses much less with them:
rounding its means to integers cost about 1% of lossless bits.

The tables are computed once with float64 and shipped as `laplace_tables.npz`,
because libm/SIMD `exp` may differ in the last ulp between machines and a single
differing frequency would make files undecodable elsewhere. `build_tables()` is
kept so anyone can check the shipped file (tests/entropy/test_tables.py).

A model may carry its own tables of the same layout (`fit_tables`): the
residuals a context model leaves are not exactly Laplace, and tables fitted
to the symbols it really codes save bits. They are integers too, so they
decode the same everywhere.
"""
from functools import lru_cache
from typing import NamedTuple
from pathlib import Path

import numpy as np

PROB_BITS = 16
PROB_SCALE = 1 << PROB_BITS
SCALE_STEPS_PER_OCTAVE = 6
ZERO_INDEX = 24            # table 24 has sigma = 1
NUM_TABLES = 55            # sigma from 2**-4 to 2**5
TAIL_SIGMAS = 7.0          # residuals beyond ~7 sigma go through the escape path
MAX_SCALE_INDEX = NUM_TABLES - 1 + SCALE_STEPS_PER_OCTAVE * 40   # up to 2**45
TABLE_FILE = Path(__file__).with_name("laplace_tables.npz")
# A model codes means as multiples of 1/resolution: 1 (integers) or 4
# (quarters); each resolution has a set of tables for each of these fractions
SET_FRACTIONS = {1: (0.0,), 4: (0.0, 0.25, 0.5)}
MEAN_RESOLUTIONS = tuple(SET_FRACTIONS)


def zeroth_order_bits(values):
    """Bits a static histogram of `values` (integer-valued) would need to
    code them, the histogram itself not counted."""
    _, counts = np.unique(values, return_counts=True)
    return max(0.0, float(-(counts * np.log2(counts / counts.sum())).sum()))


def sigma_of_index(k):
    return 2.0 ** ((np.asarray(k, dtype=np.float64) - ZERO_INDEX) / SCALE_STEPS_PER_OCTAVE)


class Tables(NamedTuple):
    """cum[k, :2R_k+3]: cumulative frequencies of table k (symbols -R_k..R_k,
    then escape), rows padded with PROB_SCALE; radius[k] = R_k. One set of
    NUM_TABLES rows for integer means, three for quarter means."""
    cum: np.ndarray
    radius: np.ndarray


def resolution_of(rows):
    """The mean resolution (1 or 4) served by tables, or symbol counts, with
    these rows (an array with one row per table): one set of NUM_TABLES
    rows per fraction."""
    sets = rows.shape[0] // NUM_TABLES
    for resolution, fractions in SET_FRACTIONS.items():
        if len(fractions) == sets:
            return resolution
    raise ValueError("coding tables have the wrong layout")


@lru_cache(maxsize=1)
def max_frequency():
    """The largest frequency of any Laplace table; fitted tables are held
    below it too, so min_bits_per_value holds for every model."""
    return int(max(np.diff(load_tables(r).cum, axis=1).max() for r in SET_FRACTIONS))


def min_bits_per_value():
    """The fewest bits any value can cost: no stream of n values is shorter
    than n times this (less the coder's 32-bit state). Lets a reader refuse a
    file whose header claims far more values than its data could hold."""
    return float(-np.log2(max_frequency() / PROB_SCALE))


@lru_cache(maxsize=1)
def centroid_offsets():
    """For each scale index k: how far the mean of a Laplace(sigma_k) density
    restricted to one unit bin lies from the bin's centre, towards the
    distribution's mean: 1/2 coth(1/(2 sigma)) - sigma, in (0, 1/2).
    Rounded to multiples of 2**-16 with Python's scalar math, so every machine
    reconstructs the same values."""
    import math
    out = []
    for k in range(MAX_SCALE_INDEX + 1):
        s = float(sigma_of_index(k))
        c = 0.5 if s < 1e-3 else (0.0 if s > 1e6 else 0.5 / math.tanh(0.5 / s) - s)
        out.append(round(min(max(c, 0.0), 0.5) * 65536) / 65536)
    return np.array(out)


def _laplace_cdf(x, b):
    return np.where(x < 0, 0.5 * np.exp(x / b), 1.0 - 0.5 * np.exp(-x / b))


def _laplace_probabilities(k, r, offset=0.0):
    """P(symbol) of table k with radius r: residuals -r..r from a mean
    `offset` above the residuals' zero, then the escape."""
    b = float(sigma_of_index(k))
    edges = np.arange(-r, r + 2, dtype=np.float64) - 0.5 - offset
    c = _laplace_cdf(edges, b)
    p = np.empty(2 * r + 2)
    p[:-1] = np.diff(c)
    p[-1] = c[0] + (1.0 - c[-1])          # both tails -> escape
    return p


def _cumulative(p, r):
    """Probabilities of one table -> its PROB_SCALE cumulative frequencies,
    every symbol at least 1; the largest frequency absorbs the rounding
    (for a Laplace table: the mode)."""
    freq = np.maximum(1, np.floor(p * PROB_SCALE)).astype(np.int64)
    mode = r if p[r] >= p.max() else int(np.argmax(p))
    freq[mode] -= int(freq.sum()) - PROB_SCALE
    assert freq[mode] >= 1 and freq.sum() == PROB_SCALE
    return np.concatenate([[0], np.cumsum(freq)])


def build_tables(offset=0.0):
    """Return (cum, radius): cum[k, :2R_k+3] cumulative frequencies of table k
    (symbols -R..R then escape, the mean `offset` above 0), rows padded with
    PROB_SCALE."""
    radii = np.array([int(np.ceil(TAIL_SIGMAS * sigma_of_index(k))) + 1
                      for k in range(NUM_TABLES)], dtype=np.int64)
    width = int(2 * radii.max() + 3)
    cum = np.full((NUM_TABLES, width), PROB_SCALE, dtype=np.int64)
    for k in range(NUM_TABLES):
        r = int(radii[k])
        cum[k, :2 * r + 3] = _cumulative(_laplace_probabilities(k, r, offset), r)
    return cum, radii


def fit_tables(counts, prior_weight=64.0):
    """Tables of the shipped layout fitted to symbol counts (counts[k, s]:
    how often symbol s of table k was coded; laplace_coder.symbol_counts;
    one set of rows per mean fraction, as the Laplace tables it starts from).
    Each table's observed frequencies are mixed with its Laplace table,
    weighted as `prior_weight` values, so a table seldom used stays close to
    Laplace and no symbol is ever impossible."""
    resolution = resolution_of(np.asarray(counts))
    laplace = load_tables(resolution)
    radius = laplace.radius
    cum = np.full(laplace.cum.shape, PROB_SCALE, dtype=np.int64)
    fractions = SET_FRACTIONS[resolution]
    for row in range(cum.shape[0]):
        k, r = row % NUM_TABLES, int(radius[row])
        c = np.asarray(counts[row, :2 * r + 2], dtype=np.float64)
        prior = _laplace_probabilities(k, r, fractions[row // NUM_TABLES])
        p = (c + prior_weight * prior) / (c.sum() + prior_weight)
        freq = np.diff(_cumulative(p, r))
        top = int(freq.argmax())
        over = int(freq[top]) - max_frequency()
        if over > 0:         # the rest then hold the excess, each far below the cap
            freq[top] -= over
            freq[int(np.argsort(freq)[-2])] += over
        cum[row, :2 * r + 3] = np.concatenate([[0], np.cumsum(freq)])
    return Tables(cum, radius.copy())


def check_tables(cum, radius):
    """Tables from a model file -> Tables, or ValueError if they could break
    the coder or the reader's size check (wrong layout, a zero frequency, a
    frequency above max_frequency, rows not summing to PROB_SCALE)."""
    cum, radius = np.asarray(cum), np.asarray(radius)
    if cum.ndim != 2:
        raise ValueError("coding tables have the wrong layout")
    ref_cum, ref_radius = load_tables(resolution_of(cum))
    if (cum.shape != ref_cum.shape or radius.shape != ref_radius.shape
            or not np.array_equal(radius, ref_radius)):
        raise ValueError("coding tables have the wrong layout")
    cum = np.ascontiguousarray(cum, dtype=np.int64)
    for k, r in enumerate(radius):
        row = cum[k, :2 * r + 3]
        if row[0] != 0 or row[-1] != PROB_SCALE or (np.diff(row) < 1).any() \
                or np.diff(row).max() > max_frequency() \
                or (cum[k, 2 * r + 3:] != PROB_SCALE).any():
            raise ValueError(f"coding table {k} is invalid")
    return Tables(cum, np.ascontiguousarray(radius, dtype=np.int64))


# The shipped file's arrays: "cum" (integer means) and one per other fraction
_SET_ARRAYS = ("cum", "cum_quarter", "cum_half")


@lru_cache(maxsize=2)
def load_tables(resolution=1):
    """The shipped Laplace tables for means of this resolution (what a model
    without its own uses)."""
    sets = len(SET_FRACTIONS[resolution])
    with np.load(TABLE_FILE, allow_pickle=False) as f:
        cum = np.concatenate([f[name] for name in _SET_ARRAYS[:sets]])
        radius = np.tile(f["radius"], sets)
    return Tables(np.ascontiguousarray(cum), np.ascontiguousarray(radius))


if __name__ == "__main__":   # regenerate the shipped file: python -m iwave.entropy.tables
    sets = {name: build_tables(offset) for name, offset in zip(_SET_ARRAYS, SET_FRACTIONS[4])}
    np.savez_compressed(TABLE_FILE, radius=sets["cum"][1], **{n: c for n, (c, _) in sets.items()})
    print(f"wrote {TABLE_FILE} ({len(sets)} sets of {NUM_TABLES} tables)")
