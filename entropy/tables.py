"""Integer frequency tables for zero-mean discretised Laplace distributions.

Table k has Laplace scale sigma_k = 2 ** ((k - ZERO_INDEX) / SCALE_STEPS_PER_OCTAVE)
and covers residuals -R_k..R_k plus one escape symbol (the tail mass). Scales
above the last table are coded by splitting off low bits (see laplace_coder).

The tables are computed once with float64 and shipped as `laplace_tables.npz`,
because libm/SIMD `exp` may differ in the last ulp between machines and a single
differing frequency would make files undecodable elsewhere. `build_tables()` is
kept so anyone can check the shipped file (tests/entropy/test_tables.py).
"""
from functools import lru_cache
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


def sigma_of_index(k):
    return 2.0 ** ((np.asarray(k, dtype=np.float64) - ZERO_INDEX) / SCALE_STEPS_PER_OCTAVE)


@lru_cache(maxsize=1)
def min_bits_per_value():
    """The fewest bits any value can cost: no stream of n values is shorter
    than n times this (less the coder's 32-bit state). Lets a reader refuse a
    file whose header claims far more values than its data could hold."""
    cum, _ = load_tables()
    return float(-np.log2(np.diff(cum, axis=1).max() / PROB_SCALE))


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


def build_tables():
    """Return (cum, radius): cum[k, :2R_k+3] cumulative frequencies of table k
    (symbols -R..R then escape), rows padded with PROB_SCALE."""
    radii = np.array([int(np.ceil(TAIL_SIGMAS * sigma_of_index(k))) + 1
                      for k in range(NUM_TABLES)], dtype=np.int64)
    width = int(2 * radii.max() + 3)
    cum = np.full((NUM_TABLES, width), PROB_SCALE, dtype=np.int64)
    for k in range(NUM_TABLES):
        b, r = float(sigma_of_index(k)), int(radii[k])
        edges = np.arange(-r, r + 2, dtype=np.float64) - 0.5
        c = _laplace_cdf(edges, b)
        p = np.empty(2 * r + 2)
        p[:-1] = np.diff(c)
        p[-1] = c[0] + (1.0 - c[-1])          # both tails -> escape
        freq = np.maximum(1, np.floor(p * PROB_SCALE)).astype(np.int64)
        excess = int(freq.sum()) - PROB_SCALE
        freq[r] -= excess                     # the mode absorbs the rounding
        assert freq[r] >= 1 and freq.sum() == PROB_SCALE
        cum[k, 0] = 0
        cum[k, 1:2 * r + 3] = np.cumsum(freq)
    return cum, radii


@lru_cache(maxsize=1)
def load_tables():
    with np.load(TABLE_FILE, allow_pickle=False) as f:
        return np.ascontiguousarray(f["cum"]), np.ascontiguousarray(f["radius"])


if __name__ == "__main__":   # regenerate the shipped file: python -m entropy.tables
    cum, radius = build_tables()
    np.savez_compressed(TABLE_FILE, cum=cum, radius=radius)
    print(f"wrote {TABLE_FILE} ({NUM_TABLES} tables, widest {cum.shape[1]} entries)")
