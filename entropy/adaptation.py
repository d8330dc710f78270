"""Per-image adaptation of the coding parameters.

The context model is trained once, but images differ from its training set:
demosaicked photos, for instance, carry a constant checkerboard that shows up
as a non-zero mean in the finest chroma HH band, and a model can be off in
calibration at some rates. So the encoder fits, for each group of values (the
codec uses one subband of one component), three small integers that remap the
model's (mu, log2 sigma) to the coder's integer mean and scale index:

    m = floor((mu * a/8 + f/8) * resolution + 1/2)     (in units of 1/resolution)
    k = clamp(floor(6 * log2 sigma + 1/2) + ZERO_INDEX + s, 0, MAX_SCALE_INDEX)

and sends them at the start of the stream. (a, f, s) = (8, 0, 0) is the
model's own output. Only the mapping to integers changes, never the context
model's inputs, so the encoder can fit after one pass of the model and the
decoder needs nothing but the integers.
"""
from functools import lru_cache

import numba as nb
import numpy as np

from entropy.laplace_coder import EntropyError, coded_value
from entropy.tables import MAX_SCALE_INDEX, PROB_BITS, ZERO_INDEX, load_tables, resolution_of

IDENTITY = (8, 0, 0)
SLOPE_MAX = 16           # a in 0..16: the mean scaled by 0 to 2 in eighths
OFFSET_MAX = 1024        # |f| <= 1024: the mean moved by up to 128
SHIFT_MAX = 60           # |s| <= 60: the scale moved by up to 10 octaves
FIT_SAMPLES = 8192       # the fit looks at most at this many values of a group
SIGNAL_SCALE = ZERO_INDEX    # the integers themselves are coded as Laplace(0, 1) values


@nb.njit(cache=True)
def _value_bits(v, m, k, cost, radius, quarters):
    """Bits the coder spends on integer v with integer mean m (in quarters
    if `quarters`) and scale index k, from the tables' symbol costs (escapes
    and raw bits counted as the coder sends them)."""
    t, s, b, _, nbits, _ = coded_value(v, m, k, radius, quarters)
    return cost[t, s] + b + (6 + nbits if nbits >= 0 else 0)


@nb.njit(cache=True)
def _bits(values, means, kbase, a, f, s, cost, radius, resolution):
    """Bits the coder spends on `values` under adjustment (a, f, s)."""
    total = 0.0
    for i in range(values.shape[0]):
        m = np.int64(np.floor((means[i] * (a / 8.0) + f / 8.0) * resolution + 0.5))
        k = min(max(kbase[i] + s, 0), MAX_SCALE_INDEX)
        total += _value_bits(values[i], m, k, cost, radius, resolution == 4)
    return total


@nb.njit(cache=True)
def _each_value_bits(values, m, k, cost, radius, quarters):
    out = np.empty(values.shape[0])
    for i in range(values.shape[0]):
        out[i] = _value_bits(values[i], m[i], k[i], cost, radius, quarters)
    return out


def value_bits(values, m, k, tables=None):
    """Bits of each integer value under the coder's integer means `m` and
    scale indices `k` (as entropy.context_model.coding_parameters gives them
    for these tables' mean resolution)."""
    cost, radius, resolution = _symbol_costs(tables)
    flat = lambda t: np.ascontiguousarray(t, dtype=np.int64).reshape(-1)
    return _each_value_bits(flat(values), flat(m), flat(k), cost, radius,
                            resolution == 4).reshape(np.shape(values))


def _symbol_costs(tables=None):
    """Bits of every symbol of every table (default: the Laplace tables),
    the radii and the mean resolution they serve."""
    if tables is None:
        return _laplace_costs()
    return _costs(tables)


@lru_cache(maxsize=1)
def _laplace_costs():
    return _costs(load_tables())


def _costs(tables):
    cum, radius = tables
    freq = np.maximum(np.diff(cum, axis=1), 1)
    return PROB_BITS - np.log2(freq), radius, resolution_of(cum)


_MOVES = np.array([[4, 2, 1, 0, 0], [16, 8, 4, 2, 1], [6, 3, 1, 0, 0]], dtype=np.int64)
_LIMITS = np.array([[0, SLOPE_MAX], [-OFFSET_MAX, OFFSET_MAX], [-SHIFT_MAX, SHIFT_MAX]],
                   dtype=np.int64)


@nb.njit(cache=True)
def _search(v, mu, kb, cost, radius, resolution, moves, limits):
    """Pattern search from the identity: each parameter in turn (offset first,
    as a bias is the commonest mismatch), moves shrinking, twice round."""
    best = np.array([8, 0, 0], dtype=np.int64)
    base = _bits(v, mu, kb, best[0], best[1], best[2], cost, radius, resolution)
    best_bits = base
    trial = best.copy()
    for _ in range(2):
        for i in (1, 0, 2):
            for d in moves[i]:
                if d == 0:
                    continue
                improved = True
                while improved:
                    improved = False
                    for sign in (1, -1):
                        trial[:] = best
                        trial[i] = min(max(trial[i] + sign * d, limits[i, 0]), limits[i, 1])
                        bits = _bits(v, mu, kb, trial[0], trial[1], trial[2], cost, radius, resolution)
                        if bits < best_bits:
                            best[:] = trial
                            best_bits = bits
                            improved = True
    return best, base - best_bits


def bits(values, means, kbase, adjustment=IDENTITY, tables=None):
    """Bits the coder spends on integer `values` given float `means`,
    unclamped scale indices `kbase` and an adjustment (a, f, s)."""
    cost, radius, resolution = _symbol_costs(tables)
    a, f, s = adjustment
    return _bits(np.ascontiguousarray(values, dtype=np.int64).reshape(-1),
                 np.ascontiguousarray(means, dtype=np.float64).reshape(-1),
                 np.ascontiguousarray(kbase, dtype=np.int64).reshape(-1), a, f, s, cost, radius,
                 resolution)


def fit(values, means, kbase, min_gain_bits=24.0, tables=None):
    """Adjustment (a, f, s) that minimises the bits of integer `values` whose
    model gives float `means` and unclamped scale indices `kbase`
    (floor(6 log2 sigma + 1/2) + ZERO_INDEX), searched on an evenly spaced
    sample. The identity is kept unless the change saves more than
    `min_gain_bits` on the whole group (the integers cost a few bits)."""
    n = values.size
    if n == 0:
        return IDENTITY
    stride = max(1, n // FIT_SAMPLES)
    v = np.ascontiguousarray(values.reshape(-1)[::stride], dtype=np.int64)
    mu = np.ascontiguousarray(means.reshape(-1)[::stride], dtype=np.float64)
    kb = np.ascontiguousarray(kbase.reshape(-1)[::stride], dtype=np.int64)
    cost, radius, resolution = _symbol_costs(tables)
    best, gain = _search(v, mu, kb, cost, radius, resolution, _MOVES, _LIMITS)
    if gain * (n / v.size) < min_gain_bits:
        return IDENTITY
    return tuple(int(x) for x in best)


def write(encoder, adjustments):
    """Queue a list of (a, f, s) on a ValueEncoder, before the values they govern."""
    flat = np.array([(a - 8, f, s) for a, f, s in adjustments], dtype=np.int64).reshape(-1)
    encoder.add(flat, np.zeros_like(flat), np.full_like(flat, SIGNAL_SCALE))


def read(decoder, count):
    """The `count` adjustments `write` queued, checked to be in range."""
    zeros = np.zeros(3 * count, dtype=np.int64)
    flat = decoder.decode(zeros, zeros + SIGNAL_SCALE).reshape(count, 3)
    out = []
    for a, f, s in flat.tolist():
        a += 8
        if not (0 <= a <= SLOPE_MAX and abs(f) <= OFFSET_MAX and abs(s) <= SHIFT_MAX):
            raise EntropyError("coding adjustment out of range")
        out.append((a, f, s))
    return out
