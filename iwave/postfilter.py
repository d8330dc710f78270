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
from its edge. Decoding costs at most MACS_PER_SAMPLE multiplies per sample.
Since format 15 a component may instead have up to one such filter per
class of samples (iwave.filter_classes: by local activity and direction,
as an adaptive loop filter's): after its shape symbol CLASSIFIED, the
number of filters, the filters, and for each class the number of its
filter (0: none), classes that the encoder merged sharing one.

This module is the filter's format (and all a decoder needs);
iwave.postfilter_fit is the encoder's fit."""
from typing import NamedTuple

import numba as nb
import numpy as np
import torch

from iwave import filter_classes
from iwave.entropy import EntropyError
from iwave.entropy.tables import ZERO_INDEX


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


CLASSIFIED = len(SHAPES) + 1    # the shape symbol of per-class filters (format 15 on)


class Filter(NamedTuple):
    shape: int               # index into SHAPES
    weights: tuple           # one per tap of the shape, then the offset, in 1/PRECISION


class Classified(NamedTuple):
    filters: tuple           # Filters (1 to filter_classes.NUM_CLASSES)
    classes: tuple           # for each class, 1 + the index of its filter, or 0 (none)

    def of_class(self, k):
        return self.filters[self.classes[k] - 1] if self.classes[k] else None


FILTERS_SCALE = 12      # Laplace scale indices (offsets from ZERO_INDEX) of the number of
CLASS_SCALE = 6         # filters, and of each class's filter number less the class before's


@nb.njit(cache=True)
def _weighted_differences(x, taps, weights):
    """weights[t] * (x[+d] + x[-d] - 2x) for each tap d = taps[t] of an
    (H, W) plane, samples beyond it repeated from its edge: (taps, H, W)."""
    h, w = x.shape
    p = np.empty((h + 2 * RADIUS, w + 2 * RADIUS))
    for i in range(h + 2 * RADIUS):
        row = x[min(max(i - RADIUS, 0), h - 1)]
        for j in range(w + 2 * RADIUS):
            p[i, j] = row[min(max(j - RADIUS, 0), w - 1)]
    out = np.empty((len(taps), h, w))
    for t in range(len(taps)):
        dy, dx, wt = taps[t, 0], taps[t, 1], weights[t]
        for i in range(h):
            a, b, o = p[RADIUS + i + dy, RADIUS + dx:], p[RADIUS + i - dy, RADIUS - dx:], out[t, i]
            for j in range(w):
                o[j] = wt * ((a[j] + b[j]) - 2.0 * x[i, j])
    return out


def differences(x, taps, weights=None):
    """(taps, H, W): x[+d] + x[-d] - 2x for each tap d of an (H, W) float64
    plane, each times its weight if `weights` are given (the very numbers
    of torch's elementwise operations, in one compiled pass)."""
    weights = np.ones(len(taps)) if weights is None else np.asarray(weights, dtype=np.float64)
    plane = x.double().contiguous().numpy()
    return torch.from_numpy(_weighted_differences(plane, np.array(taps, dtype=np.int64), weights))


@nb.njit(cache=True)
def _apply_classified(x, cls, taps, weights, offsets):
    """x + weights[c] . (x[+d] + x[-d] - 2x) + offsets[c] for each sample of
    class c, the taps summed in order: (H, W)."""
    h, w = x.shape
    out = np.empty((h, w))
    for i in range(h):
        for j in range(w):
            c, centre = cls[i, j], 2.0 * x[i, j]
            acc = 0.0
            for t in range(taps.shape[0]):
                dy, dx = taps[t, 0], taps[t, 1]
                a = x[min(max(i + dy, 0), h - 1), min(max(j + dx, 0), w - 1)]
                b = x[min(max(i - dy, 0), h - 1), min(max(j - dx, 0), w - 1)]
                acc += weights[c, t] * ((a + b) - centre)
            out[i, j] = x[i, j] + acc + offsets[c]
    return out


def _class_weights(f):
    """A Classified filter's (classes, ALL_TAPS) weights and per-class offsets,
    zero for the taps a class's shape lacks and for classes without a filter."""
    weights = np.zeros((len(f.classes), len(ALL_TAPS)))
    offsets = np.zeros(len(f.classes))
    for k in range(len(f.classes)):
        if (g := f.of_class(k)) is not None:
            for tap, v in zip(SHAPES[g.shape], g.weights):
                weights[k, ALL_TAPS.index(tap)] = v / PRECISION
            offsets[k] = g.weights[-1] / PRECISION
    return weights, offsets


def apply(planes, filters, step=None):
    """planes (n, 1, H, W) float64 tensor, one Filter, Classified or None
    (unfiltered) per component -> filtered planes; `step` (the file's) for
    classified ones, classed on the first plane. (A single filter's sum over
    taps is torch's, whose order of additions files since format 7 decode
    with.)"""
    out = planes.clone()
    cls = None
    for c, f in enumerate(filters):
        x = planes[c, 0]
        if isinstance(f, Classified):
            if cls is None:
                cls = filter_classes.classes(planes[0, 0], step)
            weights, offsets = _class_weights(f)
            out[c, 0] = torch.from_numpy(_apply_classified(
                x.contiguous().numpy(), cls, np.array(ALL_TAPS, dtype=np.int64), weights, offsets))
        elif f is not None:
            w = np.array(f.weights[:-1], dtype=np.float64) / PRECISION
            out[c, 0] = x + differences(x, SHAPES[f.shape], w).sum(0) + f.weights[-1] / PRECISION
    return out


def side_of(filters):
    """The integers the side code sends for these filters, and their scales."""
    values, scales = [], []
    for f in filters:
        if isinstance(f, Classified):
            v, k = side_of(f.filters)
            steps = np.diff(f.classes, prepend=0).tolist()
            values += [CLASSIFIED, len(f.filters)] + list(v) + steps
            scales += [FLAG_SCALE, FILTERS_SCALE] + list(k - ZERO_INDEX) + [CLASS_SCALE] * len(f.classes)
            continue
        values.append(0 if f is None else f.shape + 1)
        scales.append(FLAG_SCALE)
        if f is not None:
            values += f.weights
            scales += [COEFF_SCALE] * len(f.weights)
    return np.array(values, dtype=np.int64), np.array(scales, dtype=np.int64) + ZERO_INDEX


def write(encoder, filters):
    """Queue the filters (one per component, None: off) on a ValueEncoder."""
    values, scales = side_of(filters)
    encoder.add(values, np.zeros_like(values), scales)


def read(decoder, count, classified=False):
    """`count` filters as write queued them, Classified ones only if
    `classified` (format 15 on); EntropyError if malformed."""
    filters = []
    for _ in range(count):
        zero = np.zeros(1, dtype=np.int64)
        shape = int(decoder.decode(zero, zero + ZERO_INDEX + FLAG_SCALE)[0])
        if classified and shape == CLASSIFIED:
            filters.append(_read_classified(decoder))
            continue
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


def _read_classified(decoder):
    """Per-class filters after their CLASSIFIED symbol (format 15)."""
    one = np.zeros(1, dtype=np.int64)
    count = int(decoder.decode(one, one + ZERO_INDEX + FILTERS_SCALE)[0])
    if not 1 <= count <= filter_classes.NUM_CLASSES:
        raise EntropyError("post filter count out of range")
    filters = read(decoder, count)
    if None in filters:
        raise EntropyError("post filter shape out of range")
    zeros = np.zeros(filter_classes.NUM_CLASSES, dtype=np.int64)
    classes = np.cumsum(decoder.decode(zeros, zeros + ZERO_INDEX + CLASS_SCALE))
    if classes.min() < 0 or classes.max() > count:
        raise EntropyError("post filter class out of range")
    return Classified(tuple(filters), tuple(int(c) for c in classes))
