"""The coarsest subband coded sequentially (file format 16): each value of a
component's LL band predicted from its already coded neighbours, in raster
order, as JPEG predicts its DC terms, instead of by the context model.

Why: the context model codes a subband in four phases, and the first phase
of LL sees no neighbour at all; at coarse steps the LL band is a fifth to
two fifths of a photo's file (docs/effort.md), and a plain predictor with a
scale from the neighbours' errors codes it 1-1.5 bits per value smaller.
The model still reads the band (its state carries it to the later
subbands); only how LL's values are sent changes, and the encoder keeps
whichever of the two is smaller (iwave.coarse_band_fit).

For the value at (i, j) with neighbours a (left), b (above), c (above left)
and d (above right), where missing ones are replaced (a by b, b by a, c and
d by b; the first value has mean 0 and scale index FIRST_SCALE):

    predictor 0: p4 = 2a + 2b            (the mean in quarters)
    predictor 1: p4 = 2a + 2b - c + d
    mean m = floor((p4 * resolution + 2) / 4)   (the coder's units, 1/resolution)
    residual r = v - floor((p4 + 2) / 4)
    scale index k = floor(6 log2(1 + A)) + shift,  A = 2|r_a| + 2|r_b| + |r_c| + |r_d|

where r_a ... are the neighbours' residuals under the same replacements
(the first value's is the value itself, its prediction being 0: its
neighbours start with wide scales, which suits the few values of a small
image's band better than narrow ones would). One function computes (m, k) for the
encoder and decodes for the decoder, so the two cannot differ."""
from typing import NamedTuple

import numba as nb
import numpy as np

from iwave.entropy import EntropyError
from iwave.entropy.laplace_coder import decode_value
from iwave.entropy.plan_format import ACTIVITY_MAX, LOG6
from iwave.entropy.tables import MAX_SCALE_INDEX, ZERO_INDEX

PREDICTORS = 2
# a value's prediction and scale: at most 4 multiplies and adds for p4, 7
# for A (the table lookup counted as one): counted as MACs by iwave.complexity
OPS_PER_VALUE = 12
SHIFT_MAX = 60                      # |shift| <= 60, as a plan's scale shift
FIRST_SCALE = ZERO_INDEX + 6 * 12   # the first value: sigma 2^12 (any sample depth codes)
# how the choice is sent, each as a scale index offset from ZERO_INDEX: the
# flag (0: the context model codes LL, cheap), the predictor, the shift
FLAG_SCALE, PREDICTOR_SCALE, SHIFT_SCALE = -8, -8, 12


class Sequential(NamedTuple):
    """A component's LL band coded sequentially with this predictor and shift."""
    predictor: int
    shift: int


@nb.njit(cache=True)
def _walk(plane, predictor, shift, resolution, log6, decode, buf, pos, x, cum, radius, quarters):
    """Encode (decode=False: plane given; returns each value's (m, k)) or
    decode (plane filled) one band in raster order."""
    h, w = plane.shape
    means = np.zeros(h * w if not decode else 0, np.int64)
    scales = np.zeros(h * w if not decode else 0, np.int64)
    res = np.zeros((h, w), np.int64)
    ok = True
    for i in range(h):
        for j in range(w):
            if i == 0 and j == 0:
                p4, act = 0, 0
            else:
                a = plane[i, j - 1] if j else plane[i - 1, j]
                ra = res[i, j - 1] if j else res[i - 1, j]
                b = plane[i - 1, j] if i else a
                rb = res[i - 1, j] if i else ra
                c, rc = (plane[i - 1, j - 1], res[i - 1, j - 1]) if i and j else (b, rb)
                d, rd = (plane[i - 1, j + 1], res[i - 1, j + 1]) if i and j + 1 < w else (b, rb)
                p4 = 2 * a + 2 * b + (d - c if predictor == 1 else 0)
                act = min(2 * abs(ra) + 2 * abs(rb) + abs(rc) + abs(rd), ACTIVITY_MAX)
            m = (p4 * resolution + 2) >> 2
            k = FIRST_SCALE if i == 0 and j == 0 else min(max(log6[act + 1] + shift, 0), MAX_SCALE_INDEX)
            if decode:
                v, x, pos, ok = decode_value(buf, pos, x, m, k, cum, radius, quarters)
                if not ok:
                    return means, scales, x, pos, False
                plane[i, j] = v
            else:
                means[i * w + j] = m
                scales[i * w + j] = k
            res[i, j] = plane[i, j] - ((p4 + 2) >> 2)
    return means, scales, x, pos, ok


def parameters(plane, choice, resolution):
    """The coder's (integer means, scale indices) of an (h, w) LL band's
    values in raster order under a Sequential choice."""
    none = np.zeros(0, np.int64)
    m, k, _, _, _ = _walk(np.ascontiguousarray(plane, dtype=np.int64), choice.predictor, choice.shift,
                          resolution, LOG6, False, np.zeros(0, np.uint8), 0, np.uint64(0),
                          none.reshape(0, 0), none, False)
    return m, k


def choice_side(choice):
    """The integers that say how a stream's LL band is coded, None (by the
    context model, after its plan) or a Sequential (then it has no plan),
    and the scale index each is coded with (around 0)."""
    values = [0] if choice is None else [1, choice.predictor, choice.shift]
    scales = [FLAG_SCALE, PREDICTOR_SCALE, SHIFT_SCALE][:len(values)]
    return np.array(values, np.int64), ZERO_INDEX + np.array(scales, np.int64)


def write_choice(encoder, choice):
    """Queue choice_side's integers on a ValueEncoder."""
    values, scales = choice_side(choice)
    encoder.add(values, np.zeros_like(values), scales)


def read_choice(decoder):
    """What write_choice queued; EntropyError if out of range."""
    zero = np.zeros(1, np.int64)
    if int(decoder.decode(zero, zero + ZERO_INDEX + FLAG_SCALE)[0]) == 0:
        return None
    values = decoder.decode(np.zeros(2, np.int64), ZERO_INDEX + np.array([PREDICTOR_SCALE, SHIFT_SCALE]))
    predictor, shift = (int(v) for v in values)
    if not 0 <= predictor < PREDICTORS or abs(shift) > SHIFT_MAX:
        raise EntropyError("sequential LL coding out of range")
    return Sequential(predictor, shift)


def _decode(buf, pos, x, plane, choice, resolution, cum, radius, quarters):
    _, _, x, pos, ok = _walk(plane, choice.predictor, choice.shift, resolution, LOG6, True,
                             buf, pos, x, cum, radius, quarters)
    return x, pos, plane, ok


def read(decoder, shape, choice, resolution):
    """The (h, w) int64 LL band a stream continues with."""
    plane = np.zeros(shape, np.int64)
    return decoder.decode_with(_decode, plane, choice, resolution, *decoder.coder_tables)
