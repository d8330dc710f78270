"""Sample maps (histogram packing, since file format 9): a losslessly coded
single component (grey, or alpha) that uses few of its possible values, as
medical and scientific scans do (a few hundred of 65,536, spread ~100
apart), is coded as indices into the sorted list of the values it uses, the
list sent at the start of its stream. The transform and the context model
then see a dense image of small steps instead of a sparse one of large
steps, at the fewest bits that hold the indices (since format 13; before,
8 bits for up to 256 values, else the header's depth). The context model
scales what it sees by the depth, so 300 indices coded as 16-bit samples
looked almost flat to it; for the same reason a component of fewer levels
than its container holds (12-bit data in 16-bit samples) is mapped too.

The list is sent as its length, its first value, and the gaps between
successive values less one, each kind at its own Laplace scale (the gaps at
a scale sent with them)."""
import numpy as np

from iwave.entropy import EntropyError
from iwave.entropy.tables import ZERO_INDEX

MAX_VALUES = 1 << 15              # more used values than this: no map
COUNT_SCALE, FIRST_SCALE, GAP_SCALE_SCALE = 60, 90, 24   # scale indices (6 per octave) above ZERO_INDEX
GAP_SCALE_MAX = 96


def coded_depth(values, bit_depth, tight):
    """The bit depth a component is coded at: its own, or, through a map of
    `values`, the fewest bits (at least 8) that hold an index if `tight`
    (format 13 on), else 8 bits for up to 256 values and the header's for
    more."""
    if values is None:
        return bit_depth
    if tight:
        return min(bit_depth, max(8, (len(values) - 1).bit_length()))
    return 8 if len(values) <= 256 else bit_depth


def _gap_scale(gaps):
    """Scale index (6 per octave) of the Laplace that codes these gaps well."""
    mean = float(np.mean(np.abs(gaps))) if len(gaps) else 0.0
    return int(np.clip(round(6 * np.log2(mean + 1)), 0, GAP_SCALE_MAX))


def write(encoder, values, direct=False):
    """Queue a map flag and, if `values` (sorted, distinct) is not None,
    the list, on a ValueEncoder; `direct` (format 11): flag 2, the indices
    follow context-coded (iwave.index_coder), not as a wavelet image."""
    if values is None:
        encoder.add(np.zeros(1, np.int64), np.zeros(1, np.int64), np.full(1, ZERO_INDEX))
        return
    values = np.asarray(values, dtype=np.int64)
    gaps = np.diff(values) - 1
    scale = _gap_scale(gaps)
    head = np.array([2 if direct else 1, len(values) - 1, values[0], scale], dtype=np.int64)
    head_scales = ZERO_INDEX + np.array([0, COUNT_SCALE, FIRST_SCALE, GAP_SCALE_SCALE])
    encoder.add(head, np.zeros_like(head), head_scales)
    if len(gaps):
        encoder.add(gaps, np.zeros_like(gaps), np.full_like(gaps, ZERO_INDEX + scale))


def read(decoder, bit_depth):
    """The map a stream starts with: the sorted values, or None (no map);
    EntropyError if malformed."""
    return read_flagged(decoder, bit_depth, False)[0]


def read_flagged(decoder, bit_depth, direct_allowed):
    """(values or None, direct): the map and whether its indices follow
    context-coded (flag 2, only where `direct_allowed`: format 11 on)."""
    zero = np.zeros(1, np.int64)
    flag = int(decoder.decode(zero, zero + ZERO_INDEX)[0])
    if flag == 0:
        return None, False
    if flag not in ((1, 2) if direct_allowed else (1,)):
        raise EntropyError("bad sample map flag")
    zeros = np.zeros(3, np.int64)
    count, first, scale = (int(v) for v in decoder.decode(
        zeros, ZERO_INDEX + np.array([COUNT_SCALE, FIRST_SCALE, GAP_SCALE_SCALE])))
    count += 1
    top = (1 << bit_depth) - 1
    if not 1 <= count <= MAX_VALUES or not 0 <= first <= top or not 0 <= scale <= GAP_SCALE_MAX:
        raise EntropyError("sample map out of range")
    gaps = decoder.decode(np.zeros(count - 1, np.int64), np.full(count - 1, ZERO_INDEX + scale, np.int64))
    if len(gaps) and gaps.min() < 0:
        raise EntropyError("sample map out of order")
    values = first + np.concatenate([[0], np.cumsum(gaps + 1)])
    if values[-1] > top:
        raise EntropyError("sample map out of range")
    return values.astype(np.int64), flag == 2


def candidate(x, bit_depth):
    """The values a component (int64 array) uses, if a map could pay: fewer
    than half its range between its extremes, or few enough to be coded at
    a lower depth than `bit_depth`; and not too many."""
    values = used_values(x)
    span = int(values[-1] - values[0]) + 1
    sparse = 2 * len(values) <= span
    if len(values) > MAX_VALUES or not (sparse or coded_depth(values, bit_depth, True) < bit_depth):
        return None
    return values


def used_values(x):
    """np.unique(x), by counting where x holds samples (much faster than a
    sort on a large image)."""
    flat = np.asarray(x).ravel()
    if flat.size and 0 <= flat.min() and flat.max() < 1 << 16:
        return np.flatnonzero(np.bincount(flat)).astype(np.int64)
    return np.unique(flat).astype(np.int64)


def to_indices(x, values):
    return np.searchsorted(values, x).astype(np.int64)


def from_indices(idx, values):
    """Values of decoded indices; EntropyError if one is outside the map."""
    if idx.size and (idx.min() < 0 or idx.max() >= len(values)):
        raise EntropyError("sample index outside the map")
    return values[idx]
