"""Pictures decoded from 8-bit YCbCr (file format 18 on).

Most photographs have been JPEGs: their RGB pixels were computed from 8-bit
Y, Cb and Cr planes, so they hold no more than those planes do, and about
one RGB triple in four is possible at all. YCoCg-R cannot see that (its
chroma planes show the 8-bit grid of Cb and Cr as steps of 1.4 and 1.8),
but the planes themselves can be recovered and coded instead: on held-out
photographs that were JPEGs, 15-23% smaller (docs/effort.md). A lossless
colour group of three components therefore starts its first stream with a
flag: 0, the planes are YCoCg-R; 1, they are Y, Cb - 128 and Cr - 128, and
RGB is what a JPEG decoder computes from them (libjpeg's integer
conversion, `to_rgb`), mended at the few pixels where the picture differs
from that (edited, or converted by other arithmetic): their count, then
their raster positions as gaps and their RGB differences, each kind at a
Laplace scale sent with it.

Most JPEGs also store Cb and Cr at half resolution, in both directions
(4:2:0, most cameras and phones) or across only (4:2:2), which the decoder
upsamples. From file format 19 the flag may be 2: the planes are Y at
full resolution and Cb, Cr at half (plane_shape), each coded as an 8-bit
grey image in its own stream, and RGB is to_rgb of Y and the chroma as
libjpeg upsamples it (`upsample`); the flag is followed by the sampling
and the alignment of the picture's first pixel in the JPEG's grid, then
the fixes as above. Held-out crops of BSDS300 photographs, which were
such JPEGs, code 11-21% smaller so (docs/effort.md).

The encoder (iwave.ycbcr_fit, iwave.ycbcr420_fit) finds the planes and
keeps a form only where it codes smaller."""
from typing import NamedTuple

import numpy as np

from iwave.entropy import EntropyError
from iwave.entropy.tables import ZERO_INDEX

COUNT_SCALE, SCALE_SCALE = 60, 24      # scale indices (6 per octave) above ZERO_INDEX
SCALE_MAX = 96


YCOCG, FULL, SUBSAMPLED = 0, 1, 2      # the colour form's flag


class Fixes(NamedTuple):
    """The pixels where RGB is not to_rgb of the planes: raster positions
    (sorted, int64) and (n, 3) RGB differences."""
    positions: np.ndarray
    values: np.ndarray


class Form(NamedTuple):
    """A colour group coded as YCbCr planes: `phase` (py, px) where Cb and
    Cr are at half resolution (SUBSAMPLED), None where at full (FULL); the
    pixels' Fixes; `vertical`: chroma halved down as well as across (4:2:0;
    else 4:2:2, py 0)."""
    phase: object
    fixes: Fixes
    vertical: bool = True

    @property
    def name(self):
        """What `iwave info` and diagnose call it."""
        return "YCbCr" if self.phase is None else "YCbCr 4:2:0" if self.vertical else "YCbCr 4:2:2"


def to_rgb(planes):
    """(3, ...) int64 Y, Cb - 128, Cr - 128 -> (3, ...) RGB, as libjpeg's
    YCbCr -> RGB (16-bit fixed point, rounded, clamped to 0..255)."""
    y, cb, cr = (p.astype(np.int64) for p in planes)
    r = y + ((91881 * cr + 32768) >> 16)
    g = y + ((-22554 * cb - 46802 * cr + 32768) >> 16)
    b = y + ((116130 * cb + 32768) >> 16)
    return np.clip(np.stack([r, g, b]), 0, 255)


def plane_shape(height, width, py, px, vertical=True):
    """(rows, columns) of a half-resolution chroma plane for a picture of
    height x width whose first pixel has alignment (py, px) in the JPEG's
    grid: the samples the picture's pixels use, and a ring of one around
    them (what lay outside a crop, or the edge a decoder repeats); not
    `vertical` (4:2:2): a row for each row of pixels, and no ring above or
    below."""
    rows = ((height - 1 + py) >> 1) + 3 if vertical else height
    return rows, ((width - 1 + px) >> 1) + 3


def upsample(plane, height, width, py, px, vertical=True):
    """A half-resolution chroma plane (plane_shape, integers) -> height x
    width, as libjpeg's "fancy" upsampling (jdsample.c). 4:2:0 (h2v2): each
    pixel 9/16 of its own sample, 3/16 of the nearer row's and column's
    neighbours, 1/16 of the diagonal one, plus 8 (even columns) or 7 (odd)
    before the shift. 4:2:2 (h2v1, not `vertical`): 3/4 of its own, 1/4 of
    the nearer column's, plus 1 (even) or 2 (odd) quarters: the same sum
    with both rows its own and biases 4 and 8. The ring (plane_shape)
    stands for the rows and columns libjpeg repeats at the picture's edges."""
    yy, xx = np.arange(height) + py, np.arange(width) + px
    jp = (xx >> 1) + 1
    jh = np.where(xx & 1, jp + 1, jp - 1)
    if vertical:
        ip = (yy >> 1) + 1
        iv, bias = np.where(yy & 1, ip + 1, ip - 1), np.where(xx & 1, 7, 8)
    else:
        ip = iv = yy
        bias = np.where(xx & 1, 8, 4)
    p = plane.astype(np.int64)
    return (9 * p[ip][:, jp] + 3 * p[iv][:, jp] + 3 * p[ip][:, jh] + p[iv][:, jh] + bias) >> 4


def preview_chroma(plane, shape, level, py, px, vertical=True):
    """For a preview at scale 1/2^level (level >= 1) of `shape`: the chroma
    plane's own preview at level - 1, its nearest sample for each pixel."""
    rows = (((((np.arange(shape[0]) << level) + py) >> 1) + 1) if vertical
            else np.arange(shape[0]) << level) >> (level - 1)
    cols = ((((np.arange(shape[1]) << level) + px) >> 1) + 1) >> (level - 1)
    return plane[np.minimum(rows, plane.shape[0] - 1)][:, np.minimum(cols, plane.shape[1] - 1)]


def apply(rgb, fixes):
    """RGB planes (3, H, W) with `fixes` added (a new array)."""
    out = rgb.reshape(3, -1).copy()
    out[:, fixes.positions] += fixes.values.T
    return out.reshape(rgb.shape)


def _scale(values):
    """Scale index (6 per octave) of a Laplace that codes these values well."""
    mean = float(np.mean(np.abs(values))) if len(values) else 0.0
    return int(np.clip(round(6 * np.log2(mean + 1)), 0, SCALE_MAX))


def write(encoder, form):
    """Queue the flag and, for YCbCr planes (a Form; None: YCoCg-R), the
    alignment of subsampled chroma and the fixes."""
    flag = YCOCG if form is None else FULL if form.phase is None else SUBSAMPLED
    encoder.add(np.array([flag]), np.zeros(1, np.int64), np.full(1, ZERO_INDEX))
    if form is None:
        return
    if form.phase is not None:
        at = 2 * form.phase[0] + form.phase[1] if form.vertical else 4 + form.phase[1]
        encoder.add(np.array([at]), np.zeros(1, np.int64), np.full(1, ZERO_INDEX))
    fixes = form.fixes
    n = len(fixes.positions)
    encoder.add(np.array([n]), np.zeros(1, np.int64), np.full(1, ZERO_INDEX + COUNT_SCALE))
    if not n:
        return
    for v in (np.diff(fixes.positions, prepend=-1) - 1, fixes.values.reshape(-1)):
        v = v.astype(np.int64)
        s = _scale(v)
        encoder.add(np.array([s]), np.zeros(1, np.int64), np.full(1, ZERO_INDEX + SCALE_SCALE))
        encoder.add(v, np.zeros_like(v), np.full_like(v, ZERO_INDEX + s))


def read(decoder, pixels, subsampled=True):
    """None (YCoCg-R) or the Form of a group of `pixels` pixels (with
    `subsampled`, format 19 on, its chroma may be at half resolution);
    EntropyError if malformed (a flag, alignment, count, scale or position
    out of range)."""
    base, zero = np.full(1, ZERO_INDEX), np.zeros(1, np.int64)
    flag = int(decoder.decode(zero, base)[0])
    if flag not in ((YCOCG, FULL, SUBSAMPLED) if subsampled else (YCOCG, FULL)):
        raise EntropyError("bad colour form")
    if flag == YCOCG:
        return None
    phase, vertical = None, True
    if flag == SUBSAMPLED:
        at = int(decoder.decode(zero, base)[0])
        if not 0 <= at <= 5:
            raise EntropyError("bad chroma sampling")
        phase, vertical = ((at >> 1, at & 1), True) if at < 4 else ((0, at - 4), False)
    return Form(phase, _fixes(decoder, pixels), vertical)


def _fixes(decoder, pixels):
    """The Fixes that follow a YCbCr form's flag (and alignment)."""
    base, zero = np.full(1, ZERO_INDEX), np.zeros(1, np.int64)
    n = int(decoder.decode(zero, base + COUNT_SCALE)[0])
    if not 0 <= n <= pixels:
        raise EntropyError("count of mended pixels out of range")
    parts = []
    for size in (n, 3 * n) if n else ():
        s = int(decoder.decode(zero, base + SCALE_SCALE)[0])
        if not 0 <= s <= SCALE_MAX:
            raise EntropyError("mended pixels' scale out of range")
        parts.append(decoder.decode(np.zeros(size, np.int64), np.full(size, ZERO_INDEX + s, np.int64)))
    if not n:
        return Fixes(np.zeros(0, np.int64), np.zeros((0, 3), np.int64))
    gaps, values = parts
    if (gaps < 0).any() or (np.abs(values) > 255).any():
        raise EntropyError("mended pixel out of range")
    positions = np.cumsum(gaps + 1) - 1
    if positions[-1] >= pixels:
        raise EntropyError("mended pixel out of range")
    return Fixes(positions, values.reshape(n, 3))
