"""Code integer arrays under discretised Laplace models given per value as
(mean, scale index): the constriction-style batch API the codec uses.

Per value, residual r = v - mean:
* scale index k below NUM_TABLES: r is a symbol of table k (of the set for
  the mean's fraction, when means are in quarters: see `residual`);
* above: the low `b` bits of r are sent raw and r >> b goes through table
  k - 6b, so tables stay small even for 16-bit data;
* |symbol| beyond the table's radius: the escape symbol, then an
  Elias-gamma-like payload of raw bits, so no input can break coding.
"""
from typing import NamedTuple

import numba as nb
import numpy as np

from iwave.entropy.range_coder import rans_advance, rans_encode, rans_init, rans_peek
from iwave.entropy.tables import (MAX_SCALE_INDEX, NUM_TABLES, PROB_BITS,
                            SCALE_STEPS_PER_OCTAVE, load_tables, resolution_of)

MAX_RESIDUAL_BITS = 48    # |residual| < 2**47 covers any 32-bit image coefficient


class EntropyError(ValueError):
    """The stream cannot be decoded (truncated or corrupt)."""


@nb.njit(cache=True, inline="always")
def _split(k):
    if k < NUM_TABLES:
        return k, 0
    b = (k - (NUM_TABLES - 1) + SCALE_STEPS_PER_OCTAVE - 1) // SCALE_STEPS_PER_OCTAVE
    return k - SCALE_STEPS_PER_OCTAVE * b, b


def _in_quarters(tables):
    """Whether the coder takes means in quarters with these tables."""
    return resolution_of(tables.cum) == 4


@nb.njit(cache=True, inline="always")
def table_set(m, k, quarters):
    """The table set for mean m: 0 for integer means; with `quarters` (m/4)
    the mean's fraction picks it (0, 1/4, 1/2; a mean 3/4 above an integer is
    1/4 below the next, so set 1 mirrored). Scales split into raw low bits
    ignore the fraction (set 0, the mean rounded)."""
    if not quarters or k >= NUM_TABLES:
        return 0
    fraction = m & 3
    return 1 if fraction == 3 else fraction


@nb.njit(cache=True, inline="always")
def residual(v, m, k, quarters):
    """(table set, residual) of integer v under mean m (see table_set)."""
    tset = table_set(m, k, quarters)
    if not quarters:
        return tset, v - m
    if k >= NUM_TABLES:
        return tset, v - ((m + 2) >> 2)
    if (m & 3) == 3:
        return tset, (m >> 2) + 1 - v
    return tset, v - (m >> 2)


@nb.njit(cache=True, inline="always")
def value_of(r, m, k, quarters):
    """The inverse of `residual`: the value whose residual is r."""
    if not quarters:
        return m + r
    if k >= NUM_TABLES:
        return ((m + 2) >> 2) + r
    base = m >> 2
    return base + 1 - r if (m & 3) == 3 else base + r


@nb.njit(cache=True, inline="always")
def coded_value(v, m, k, radius, quarters):
    """coded_symbol of value v under mean m, with the table's row in its set."""
    k = min(max(k, 0), MAX_SCALE_INDEX)
    tset, r = residual(v, m, k, quarters)
    t, s, b, z, nbits = coded_symbol(r, k, radius)
    return t + tset * NUM_TABLES, s, b, z, nbits, r


@nb.njit(cache=True, inline="always")
def coded_symbol(r, k, radius):
    """How the coder sends residual r at scale index k: (table t, symbol s,
    b raw low bits, escape payload z, its length nbits). s = 2 * radius[t] + 1
    is the escape, followed by nbits (6 raw bits) and z's nbits bits; nbits
    is -1 when there is no escape. The one statement of the mapping: coding,
    symbol counts and bit estimates all use it."""
    t, b = _split(min(max(k, 0), MAX_SCALE_INDEX))
    q = r >> b
    rad = radius[t]
    if -rad <= q <= rad:
        return t, q + rad, b, np.int64(0), -1
    z = 2 * q if q >= 0 else -2 * q - 1          # zigzag
    nbits = 0
    while (z >> nbits) > 0:
        nbits += 1
    return t, 2 * rad + 1, b, z, nbits


@nb.njit(cache=True)
def _ops_for_values(values, means, scales, cum, radius, quarters, start, freq, bits, n_ops):
    """Append the coder operations for a batch of values; returns the new count."""
    for i in range(values.shape[0]):
        t, s, b, z, nbits, r = coded_value(values[i], means[i], scales[i], radius, quarters)
        start[n_ops] = cum[t, s]
        freq[n_ops] = cum[t, s + 1] - cum[t, s]
        bits[n_ops] = PROB_BITS
        n_ops += 1
        if nbits >= 0:
            start[n_ops] = nbits                        # 6 raw bits: payload length
            freq[n_ops] = 1
            bits[n_ops] = 6
            n_ops += 1
            n_ops = _raw(z, nbits, start, freq, bits, n_ops)
        n_ops = _raw(r - ((r >> b) << b), b, start, freq, bits, n_ops)
    return n_ops


@nb.njit(cache=True, inline="always")
def _raw(v, nbits, start, freq, bits, n_ops):
    done = 0
    while done < nbits:
        take = min(16, nbits - done)
        start[n_ops] = (v >> done) & ((1 << take) - 1)
        freq[n_ops] = 1
        bits[n_ops] = take
        n_ops += 1
        done += take
    return n_ops


@nb.njit(cache=True)
def _decode_raw(buf, pos, x, nbits):
    v = np.int64(0)
    done = 0
    while done < nbits:
        take = min(16, nbits - done)
        piece = rans_peek(x, take)
        x, pos = rans_advance(buf, pos, x, piece, 1, take)
        v |= piece << done
        done += take
    return v, x, pos


@nb.njit(cache=True, inline="always")
def decode_value(buf, pos, x, m, k, cum, radius, quarters):
    """Decode one value under integer mean m and scale index k, continuing a
    stream (a caller's sequential decoder, ValueDecoder.decode_with, uses it
    too). Returns (value, state, position, ok)."""
    k = min(max(k, 0), MAX_SCALE_INDEX)
    t, b = _split(k)
    t += table_set(m, k, quarters) * NUM_TABLES
    rad = radius[t]
    c = rans_peek(x, PROB_BITS)
    lo, hi = 0, 2 * rad + 2                      # find s with cum[s] <= c < cum[s+1]
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if cum[t, mid] <= c:
            lo = mid
        else:
            hi = mid
    s = lo
    x, pos = rans_advance(buf, pos, x, cum[t, s], cum[t, s + 1] - cum[t, s], PROB_BITS)
    if s <= 2 * rad:
        q = np.int64(s - rad)
    else:
        nbits = rans_peek(x, 6)
        x, pos = rans_advance(buf, pos, x, nbits, 1, 6)
        if nbits > MAX_RESIDUAL_BITS:
            return np.int64(0), x, pos, False
        z, x, pos = _decode_raw(buf, pos, x, nbits)
        q = z >> 1 if (z & 1) == 0 else -(z >> 1) - 1
    low, x, pos = _decode_raw(buf, pos, x, b)
    return value_of((q << b) + low, m, k, quarters), x, pos, pos <= buf.shape[0] + 4


@nb.njit(cache=True)
def _decode_values(buf, pos, x, means, scales, cum, radius, quarters, out):
    """Decode len(out) values. Returns (state, position, ok)."""
    for i in range(out.shape[0]):
        out[i], x, pos, ok = decode_value(buf, pos, x, means[i], scales[i], cum, radius, quarters)
        if not ok:
            return x, pos, False
    return x, pos, True


@nb.njit(cache=True)
def _count_symbols(values, means, scales, radius, quarters, counts):
    for i in range(values.shape[0]):
        t, s, _, _, _, _ = coded_value(values[i], means[i], scales[i], radius, quarters)
        counts[t, s] += 1


def symbol_counts(values, means, scales, counts=None, tables=None):
    """How often each symbol of each table is coded for these (values, means,
    scale indices), exactly as the coder maps them with `tables` (default the
    Laplace tables; their layout says whether means are in quarters): low
    bits split off, the escape symbol for the tails. Accumulates into
    `counts` if given. What entropy.tables.fit_tables fits tables to."""
    tables = tables or load_tables()
    if counts is None:
        counts = np.zeros(tables.cum.shape, np.int64)
    _count_symbols(_as_i64(values), _as_i64(means), _as_i64(scales), tables.radius,
                   _in_quarters(tables), counts)
    return counts


def _as_i64(a):
    return np.ascontiguousarray(np.asarray(a).reshape(-1), dtype=np.int64)


class _Values(NamedTuple):
    """A batch that ValueEncoder.add queued, coded under the tables."""
    values: np.ndarray
    means: np.ndarray
    scales: np.ndarray


class _Ops(NamedTuple):
    """A batch that ValueEncoder.add_ops queued: symbols the caller modelled."""
    start: np.ndarray
    freq: np.ndarray
    bits: np.ndarray


class ValueEncoder:
    """Collects (values, means, scale indices) batches; `finish()` returns bytes.

    Batches are decoded in the same order they were added. `tables`: the
    frequency tables (entropy.tables.Tables; default the Laplace tables);
    with three sets of them, means are in quarters (entropy.tables)."""

    def __init__(self, tables=None):
        self._batches = []
        self._tables = tables or load_tables()
        self._quarters = _in_quarters(self._tables)

    def add(self, values, means, scales):
        v, m, s = _as_i64(values), _as_i64(means), _as_i64(scales)
        if not (v.shape == m.shape == s.shape):
            raise ValueError("values, means and scales must have the same size")
        whole = m >> 2 if self._quarters else m
        if v.size and np.abs(v - whole).max() >= (1 << (MAX_RESIDUAL_BITS - 1)) - 1:
            raise ValueError("residual too large to code")
        self._batches.append(_Values(v, m, s))

    def add_ops(self, start, freq, bits):
        """Queue symbols already modelled by the caller (an adaptive model):
        each a (start, frequency) in a range of 2**bits."""
        self._batches.append(_Ops(_as_i64(start), _as_i64(freq), _as_i64(bits)))

    def finish(self) -> bytes:
        cum, radius = self._tables
        n = sum(b[0].size for b in self._batches)
        cap = n * (2 + 3 + 3 + 3) + 1        # symbol, length, payload, low bits (ops: one each)
        start = np.empty(cap, np.int64)
        freq = np.empty(cap, np.int64)
        bits = np.empty(cap, np.int64)
        n_ops = 0
        for batch in self._batches:
            if isinstance(batch, _Ops):
                k = batch.start.size
                start[n_ops:n_ops + k], freq[n_ops:n_ops + k], bits[n_ops:n_ops + k] = batch
                n_ops += k
            else:
                n_ops = _ops_for_values(*batch, cum, radius, self._quarters, start, freq, bits, n_ops)
        return rans_encode(start[:n_ops], freq[:n_ops], bits[:n_ops]).tobytes()


class ValueDecoder:
    """Decodes batches from bytes made by ValueEncoder, given the same means and
    scale indices (and tables) the encoder used for each batch."""

    def __init__(self, data: bytes, tables=None):
        self._buf = np.frombuffer(data, dtype=np.uint8)
        self._x, self._pos = rans_init(self._buf)
        if self._pos < 0:
            raise EntropyError("entropy-coded data is truncated")
        tables = tables or load_tables()
        self._cum, self._radius = tables
        self._quarters = _in_quarters(tables)

    @property
    def coder_tables(self):
        """(cum, radius, quarters): what decode_value needs, for a caller's
        sequential decoder (decode_with)."""
        return self._cum, self._radius, self._quarters

    def decode(self, means, scales):
        m, s = _as_i64(means), _as_i64(scales)
        out = np.empty(m.shape[0], np.int64)
        self._x, self._pos, ok = _decode_values(self._buf, self._pos, self._x, m, s,
                                                self._cum, self._radius, self._quarters, out)
        if not ok:
            raise EntropyError("entropy-coded data is truncated or corrupt")
        return out

    def decode_with(self, fn, *args):
        """fn(buf, pos, state, *args) -> (state, pos, result, ok): a caller's
        numba decoder (an adaptive model) continues the stream here."""
        self._x, self._pos, result, ok = fn(self._buf, self._pos, self._x, *args)
        if not ok:
            raise EntropyError("entropy-coded data is truncated or corrupt")
        return result

    def check_end(self):
        """After the last batch the decoder must be back at the encoder's initial
        state with every byte consumed; anything else means corruption."""
        from iwave.entropy.range_coder import RANS_L
        if self._pos != self._buf.shape[0] or int(self._x) != RANS_L:
            raise EntropyError("entropy-coded data is corrupt (stream does not end cleanly)")
