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

The encoder (iwave.ycbcr_fit) finds the planes and keeps this form only
where it codes smaller."""
from typing import NamedTuple

import numpy as np

from iwave.entropy import EntropyError
from iwave.entropy.tables import ZERO_INDEX

COUNT_SCALE, SCALE_SCALE = 60, 24      # scale indices (6 per octave) above ZERO_INDEX
SCALE_MAX = 96


class Fixes(NamedTuple):
    """The pixels where RGB is not to_rgb of the planes: raster positions
    (sorted, int64) and (n, 3) RGB differences."""
    positions: np.ndarray
    values: np.ndarray


def to_rgb(planes):
    """(3, ...) int64 Y, Cb - 128, Cr - 128 -> (3, ...) RGB, as libjpeg's
    YCbCr -> RGB (16-bit fixed point, rounded, clamped to 0..255)."""
    y, cb, cr = (p.astype(np.int64) for p in planes)
    r = y + ((91881 * cr + 32768) >> 16)
    g = y + ((-22554 * cb - 46802 * cr + 32768) >> 16)
    b = y + ((116130 * cb + 32768) >> 16)
    return np.clip(np.stack([r, g, b]), 0, 255)


def apply(rgb, fixes):
    """RGB planes (3, H, W) with `fixes` added (a new array)."""
    out = rgb.reshape(3, -1).copy()
    out[:, fixes.positions] += fixes.values.T
    return out.reshape(rgb.shape)


def _scale(values):
    """Scale index (6 per octave) of a Laplace that codes these values well."""
    mean = float(np.mean(np.abs(values))) if len(values) else 0.0
    return int(np.clip(round(6 * np.log2(mean + 1)), 0, SCALE_MAX))


def write(encoder, fixes):
    """Queue the flag and, for the YCbCr form (`fixes` not None), its fixes."""
    encoder.add(np.array([int(fixes is not None)]), np.zeros(1, np.int64), np.full(1, ZERO_INDEX))
    if fixes is None:
        return
    n = len(fixes.positions)
    encoder.add(np.array([n]), np.zeros(1, np.int64), np.full(1, ZERO_INDEX + COUNT_SCALE))
    if not n:
        return
    for v in (np.diff(fixes.positions, prepend=-1) - 1, fixes.values.reshape(-1)):
        v = v.astype(np.int64)
        s = _scale(v)
        encoder.add(np.array([s]), np.zeros(1, np.int64), np.full(1, ZERO_INDEX + SCALE_SCALE))
        encoder.add(v, np.zeros_like(v), np.full_like(v, ZERO_INDEX + s))


def read(decoder, pixels):
    """None (YCoCg-R) or the Fixes of a group of `pixels` pixels;
    EntropyError if malformed (a flag, count, scale or position out of range)."""
    base, zero = np.full(1, ZERO_INDEX), np.zeros(1, np.int64)
    flag = int(decoder.decode(zero, base)[0])
    if flag not in (0, 1):
        raise EntropyError("bad colour form")
    if not flag:
        return None
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
