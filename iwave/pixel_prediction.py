"""Lossless planes coded pixel by pixel (file format 20): no wavelet, each
sample predicted in raster order from its coded neighbours, as JPEG-LS,
CALIC and JPEG XL's modular mode do, and coded under the coder's Laplace
tables with a scale from the neighbours' errors.

Why: a wavelet's detail bands code textured photographs well, but on
smooth ones a blend of pixel predictors leaves less to send; the encoder
codes a lossless group both ways and keeps the smaller (on held-out photos
the pixel coder alone is smaller on four of five; docs/effort.md).

For the sample v at (i, j) of a plane, with neighbours W, N, NW, NE, WW, NN,
NNE (replaced at the edges: W by N, N by W, WW by W, NW, NE and NN by N, NNE
by NE; the first sample's all 0), in units of 1/16 (docs/bitstream.md step 2 has
the exact rules):

* fixed predictors p_k: W, N, W + N - NW, W + NE - N, (W + NE)/2, 2N - NN,
  2W - WW, (W + N)/2, and before format 22 N + NE - NNE and
  (3W + 3N - 2NW + NE - NW)/4; from format 21 one more, least squares
  fitted to the samples around (iwave.local_least_squares; from format 22
  with the earlier planes' samples among its taps);
* each predictor's error sum e_k over the coded neighbours (|error| at W, N,
  NW, NE, plus half that at WW and NN; the least-squares one's halved; from
  format 22, in a group's later planes, plus its |error| at this pixel in
  the plane before, weighted), capped at 2^24, weights
  w_k = floor(4096 (e_min + c)^2 / (e_k + c)^2) (c = 32), and the blend
  p = floor((sum w_k p_k + sum w_k / 2) / sum w_k);
* a bias: the mean error so far (sum and count halved at 128) of the
  context (activity octave a, which of W, N, NW, NE lie above p), added to p;
* the coder's mean m = floor((p resolution + 8) / 16), the activity
  A = (a + e_min) / 16 + X, where a is the neighbours' residual
  magnitudes (W, N, and half NW + NE) and X the earlier components' residual
  magnitudes at this pixel (X = 0 for the first), and the scale index
  k = floor(slope L(A) / 8) + shift, L(A) = floor(6 log2(1 + A)).

All integer (but for the least-squares solve, whose float operations are
in a fixed order), so the encoder and decoder compute the same (m, k); one
function walks a plane for both. Per component the stream says (slope,
shift) and from format 22 a variant of the blend (VARIANTS: the local
predictor's shift, the earlier plane's weight, c); the encoder fits them
(iwave.pixel_prediction_fit)."""
from typing import NamedTuple

import numba as nb
import numpy as np

from iwave import local_least_squares as lls
from iwave.entropy import EntropyError
from iwave.entropy.laplace_coder import decode_value
from iwave.entropy.plan_format import ACTIVITY_MAX, LOG6
from iwave.entropy.tables import MAX_SCALE_INDEX, ZERO_INDEX

P = 16                        # the predictions' precision, 1/16 of a sample
# how a plane is predicted, by file format: 20 (ten fixed predictors), 21 (and
# a local least-squares one), 22 (eight fixed, the local one with the earlier
# planes' samples, and their errors in the error sums)
FIXED_ONLY, LOCAL, CROSS = 0, 1, 2
# format 22's settings of a plane's blend, one named per stream: (the local
# predictor's error sum shifted right by, the weight of the plane before's
# errors at this pixel, the weights' offset); before 22 (1, -, 32). The
# encoder uses DEFAULT_VARIANTS, and at effort 9 codes each plane with each
# and keeps the smallest (on the 20 held-out images each variant pays for
# some planes; docs/effort.md)
VARIANTS = ((1, 2, 32), (0, 2, 32), (1, 1, 32), (1, 4, 32), (1, 2, 16))
DEFAULT_VARIANTS = (0, 2, 0)  # a group's first, second, and later planes
VARIANT_SCALE = 6
SLOPES = range(4, 13)         # slope in eighths, 0.5 to 1.5
SHIFT_MAX = 96
ERROR_CAP = 1 << 24
BIAS_CONTEXTS = 64 * 16
BIAS_HALVE = 128
SLOPE_SCALE, SHIFT_SCALE = 6, 18     # how the parameters are coded, as scale index offsets
# per sample, besides the local predictor's own (iwave.local_least_squares):
# the fixed predictors (about 20 adds), eleven error sums at most (7 each),
# their weights (a divide each), the blend (11), bias and activity (about
# 15); counted as multiply-accumulates by iwave.complexity
OPS_PER_SAMPLE = 160


def ops_per_pixel(components=3):
    """Operations per pixel of a group of `components` planes coded pixel by
    pixel in the current file format."""
    return sum(OPS_PER_SAMPLE + lls.ops_per_sample(4 + 2 * min(c, lls.EARLIER) if c else lls.TAPS)
               for c in range(components))


class Parameters(NamedTuple):
    """How one component's scale indices follow its activity, and (format
    22) which of VARIANTS its blend used."""
    slope: int
    shift: int
    variant: int = 0


def default_variant(c):
    """The variant of the group's plane c the encoder uses below effort 9."""
    return DEFAULT_VARIANTS[min(c, len(DEFAULT_VARIANTS) - 1)]


def tried_variants(c):
    """The variants worth coding plane c with: all but, in a first plane
    (which has no plane before), those that differ only in the weight of
    the plane before's errors."""
    return [v for v in range(len(VARIANTS)) if c > 0 or VARIANTS[v][1] == VARIANTS[0][1]]


@nb.njit(cache=True, inline="always")
def _log6(a):
    """floor(6 log2(1 + a)) for 0 <= a <= ACTIVITY_MAX (LOG6); above, a is
    halved until it is not and 6 added per halving (close, and exact integers)."""
    t = 0
    while a > ACTIVITY_MAX:
        a >>= 1
        t += 6
    return LOG6[a + 1] + t


@nb.njit(cache=True, inline="always")
def _blend(p, err, row0, J, count, e_min, offset):
    """The blend of the predictions p by their error sums err[row0, J]."""
    num, den, top = 0, 0, (e_min + offset) ** 2 * 4096
    for k in range(count):
        wk = top // (err[row0, J, k] + offset) ** 2
        num += wk * p[k]
        den += wk
    return (num + den // 2) // den


@nb.njit(cache=True)
def _walk(plane, extra, earlier, earlier_errors, keep_errors, scheme, variant, slope, shift, resolution,
          limit, decode, buf, pos, x, cum, radius, quarters):
    """Encode (decode=False: `plane` given; returns each sample's (m, L(A)))
    or decode (`plane` filled; |v| < limit, else not ok) one plane in raster
    order, predicted as `scheme` and (CROSS) VARIANTS[variant] say;
    `earlier`: the group's planes before it, `earlier_errors`: the plane
    before's |v - p_k| (CROSS). Also
    returns the plane's residual magnitudes (the next plane's X) and its
    own |v - p_k| (CROSS and `keep_errors`, for a plane after it; else
    empty)."""
    h, w = plane.shape
    n = h * w if not decode else 0
    means, logs = np.zeros(n, np.int64), np.zeros(n, np.int64)
    fixed = 8 if scheme == CROSS else 10
    count = fixed + (scheme != FIXED_ONLY)
    later = scheme == CROSS and earlier.shape[0] > 0
    keep_errors = keep_errors and scheme == CROSS
    errors = np.zeros((h, w, count) if keep_errors else (0, 0, count), np.int32)
    err = np.zeros((3, w + 4, count), np.int64)      # rows i - 2, i - 1, i (mod 3)
    res = np.zeros((3, w + 4), np.int64)
    out = np.zeros((h, w), np.int64)
    bias_sum, bias_n = np.zeros(BIAS_CONTEXTS, np.int64), np.zeros(BIAS_CONTEXTS, np.int64)
    p = np.zeros(count, np.int64)
    local_shift, cross_weight, offset = VARIANTS[variant] if scheme == CROSS else VARIANTS[0]
    ring, columns, window, row, matrix, weights = lls.state(w if scheme != FIXED_ONLY else 0,
                                                            lls.RADIUS if scheme == CROSS else lls.RADIUS_21)
    f = np.zeros(lls.TAPS, np.int64)
    taps = 0
    for i in range(h):
        row0, row1, row2 = i % 3, (i + 2) % 3, (i + 1) % 3       # this row, the one above, two above
        err[row0] = 0
        res[row0, :] = 0
        if scheme != FIXED_ONLY:
            lls.start_row(ring, columns, window, row, i)
        for j in range(w):
            J = j + 2
            W = plane[i, j - 1] if j > 0 else (plane[i - 1, j] if i > 0 else 0)
            N = plane[i - 1, j] if i > 0 else W
            NW = plane[i - 1, j - 1] if i > 0 and j > 0 else N
            NE = plane[i - 1, j + 1] if i > 0 and j + 1 < w else N
            WW = plane[i, j - 2] if j > 1 else W
            NN = plane[i - 2, j] if i > 1 else N
            NNE = plane[i - 2, j + 1] if i > 1 and j + 1 < w else NE
            p[0], p[1], p[2], p[3] = W * P, N * P, (W + N - NW) * P, (W + NE - N) * P
            p[4], p[5] = (W + NE) * (P // 2), (2 * N - NN) * P
            p[6], p[7] = (2 * W - WW) * P, (W + N) * (P // 2)
            if scheme != CROSS:
                p[8], p[9] = (N + NE - NNE) * P, (3 * W + 3 * N - 3 * NW + NE) * (P // 4)
            if scheme != FIXED_ONLY:
                NNW = plane[i - 2, j - 1] if i > 1 and j > 0 else NN
                NEE = plane[i - 1, j + 2] if i > 0 and j + 2 < w else NE
                spatial = lls.spatial_taps(f, later, scheme == CROSS, W, N, NW, NE, WW, NN, NNE, NNW, NEE)
                taps = lls.earlier_taps(f, spatial, earlier, i, j) if later else spatial
                # (each tap count its own inlined copy: loops of known length;
                # a first plane has 7 or 8 taps, a later one 6 or 8)
                if taps == 8:
                    if j > 0:
                        lls.slide(ring, columns, window, row, i, j, lls.sums(8))
                    q = N + lls.predict(window, row, f, matrix, weights, j, 8, spatial)
                elif taps == 6:
                    if j > 0:
                        lls.slide(ring, columns, window, row, i, j, lls.sums(6))
                    q = N + lls.predict(window, row, f, matrix, weights, j, 6, spatial)
                else:
                    if j > 0:
                        lls.slide(ring, columns, window, row, i, j, lls.sums(7))
                    q = N + lls.predict(window, row, f, matrix, weights, j, 7, spatial)
                p[fixed] = np.int64(np.floor(q * P + 0.5))
            e_min = ERROR_CAP
            for k in range(count):
                e = err[row0, J - 1, k] + err[row1, J, k] + err[row1, J - 1, k] + err[row1, J + 1, k] + \
                    (err[row0, J - 2, k] + err[row2, J, k]) // 2
                if k == fixed:
                    e >>= local_shift
                if later:
                    e += cross_weight * np.int64(earlier_errors[i, j, k])
                err[row0, J, k] = min(e, ERROR_CAP)          # (this sample's own error replaces it below)
                e_min = min(e_min, err[row0, J, k])
            # (each offset its own inlined copy: a constant there makes the
            # divisions markedly faster)
            if offset == 32:
                pred = _blend(p, err, row0, J, count, e_min, 32)
            elif offset == 16:
                pred = _blend(p, err, row0, J, count, e_min, 16)
            else:
                pred = _blend(p, err, row0, J, count, e_min, offset)
            a = res[row0, J - 1] + res[row1, J] + (res[row1, J - 1] + res[row1, J + 1]) // 2
            octave = min(_log6(a // P), 63)
            pattern = (W * P > pred) + 2 * (N * P > pred) + 4 * (NW * P > pred) + 8 * (NE * P > pred)
            cx = octave * 16 + pattern
            if bias_n[cx] > 0:
                pred += bias_sum[cx] // bias_n[cx]
            m = (pred * resolution + P // 2) // P
            log = _log6((a + e_min) // P + extra[i, j])
            if decode:
                k = min(max((slope * log >> 3) + shift, 0), MAX_SCALE_INDEX)
                v, x, pos, ok = decode_value(buf, pos, x, m, k, cum, radius, quarters)
                if not ok or not -limit < v < limit:
                    return means, logs, out, errors, x, pos, False
                plane[i, j] = v
            else:
                means[i * w + j], logs[i * w + j] = m, log
            v = plane[i, j] * P
            for k in range(count):
                err[row0, J, k] = abs(v - p[k])
            if keep_errors:
                for k in range(count):
                    errors[i, j, k] = min(err[row0, J, k], ERROR_CAP)
            if scheme != FIXED_ONLY:
                if taps == 8:
                    lls.record(ring, i, j, f, plane[i, j] - N, 8)
                elif taps == 6:
                    lls.record(ring, i, j, f, plane[i, j] - N, 6)
                else:
                    lls.record(ring, i, j, f, plane[i, j] - N, 7)
            res[row0, J] = abs(v - (m * P) // resolution)
            out[i, j] = abs(v - pred) // P
            bias_sum[cx] += v - pred
            bias_n[cx] += 1
            if bias_n[cx] >= BIAS_HALVE:
                bias_sum[cx] //= 2
                bias_n[cx] //= 2
    return means, logs, out, errors, x, pos, True


def scales(logs, parameters):
    """Scale indices of samples with activity logs L(A) under Parameters."""
    return np.clip((parameters.slope * logs >> 3) + parameters.shift, 0, MAX_SCALE_INDEX)


def _no_stream():
    none = np.zeros(0, np.int64)
    return np.zeros(0, np.uint8), 0, np.uint64(0), none.reshape(0, 0), none, False


def _earlier(plane, earlier, earlier_errors):
    """The arrays _walk takes for the planes before (none: empty ones)."""
    if earlier is None or len(earlier) == 0:
        return np.zeros((0,) + plane.shape, np.int64), np.zeros((0, 0, 0), np.int32)
    return np.ascontiguousarray(earlier, np.int64), earlier_errors


def analyse(plane, extra, resolution, earlier=None, earlier_errors=None, scheme=CROSS, variant=0,
            last=False):
    """(means, activity logs, residual magnitudes, errors) of an (h, w)
    plane's samples in raster order; `extra`: the earlier planes' residual
    magnitudes summed; `earlier`, `earlier_errors`: the group's planes
    before this one and the last one's errors (what analyse returned for
    it); `scheme`: how the file format predicts (FIXED_ONLY, LOCAL, CROSS),
    `variant`: which of VARIANTS (CROSS); `last`: no plane follows, which
    needs no errors."""
    m, logs, out, errors, _, _, _ = _walk(np.ascontiguousarray(plane, dtype=np.int64), extra,
                                          *_earlier(plane, earlier, earlier_errors), not last, scheme,
                                          variant, 8, 0, resolution, 0, False, *_no_stream())
    return m, logs, out, errors


_SCALES = ZERO_INDEX + np.array([SLOPE_SCALE, SHIFT_SCALE, VARIANT_SCALE])


def write_parameters(encoder, parameters):
    """The current format's: slope, shift and variant."""
    values = np.array([parameters.slope - 8, parameters.shift, parameters.variant], np.int64)
    encoder.add(values, np.zeros(3, np.int64), _SCALES)


def read_parameters(decoder, scheme=CROSS):
    """What write_parameters queued (before format 22, no variant);
    EntropyError if out of range."""
    n = 3 if scheme == CROSS else 2
    slope, shift, *variant = (int(v) for v in decoder.decode(np.zeros(n, np.int64), _SCALES[:n]))
    variant = variant[0] if variant else 0
    if slope + 8 not in SLOPES or abs(shift) > SHIFT_MAX or not 0 <= variant < len(VARIANTS):
        raise EntropyError("pixel prediction parameters out of range")
    return Parameters(slope + 8, shift, variant)


def _decode(buf, pos, x, plane, extra, earlier, earlier_errors, keep_errors, scheme, parameters, resolution,
            limit, cum, radius, quarters):
    _, _, out, errors, x, pos, ok = _walk(plane, extra, earlier, earlier_errors, keep_errors, scheme,
                                          parameters.variant, parameters.slope, parameters.shift, resolution,
                                          limit, True, buf, pos, x, cum, radius, quarters)
    return x, pos, (out, errors), ok


def read(decoders, shape, depth, resolution, scheme=CROSS):
    """The (n, h, w) int64 planes of a group coded pixel by pixel, one per
    stream (each after its parameters); samples beyond what depth-bit
    planes (or their YCoCg-R chroma) can hold are corrupt. `scheme`: how
    the file format predicts (FIXED_ONLY, LOCAL, CROSS)."""
    planes = np.zeros((len(decoders),) + tuple(shape), np.int64)
    extra, errors = np.zeros(shape, np.int64), None
    for c, d in enumerate(decoders):
        parameters = read_parameters(d, scheme)
        before = _earlier(planes[c], planes[:c], errors)
        out, errors = d.decode_with(_decode, planes[c], extra, *before, c + 1 < len(decoders), scheme,
                                    parameters, resolution, 1 << depth, *d.coder_tables)
        extra = extra + out
    return planes
