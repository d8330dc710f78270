"""Previews from the wavelet pyramid: what a scale 1/2^k means and where each
tile's low-pass band goes. A file decoded at scale 1/2^k is the low-pass
band of transform level k (see docs/preview.md): the decoder entropy-decodes
only the subbands of levels L .. k+1 (coding runs coarse to fine, so it can
stop there) and inverts only those levels. No torch here, so the CLI can
check a scale before it loads anything."""
from fractions import Fraction

from iwave.errors import IWaveError

SCALES = "1, 1/2, 1/4, 1/8, ... or 0.5, 0.25, 0.125, ..."


def scale_level(scale) -> int:
    """The k of a scale 1/2^k: 1 -> 0, 1/2 (or 0.5, "1/2", "0.5") -> 1, 1/4 -> 2, ...
    Anything else is refused with an IWaveError."""
    try:
        if isinstance(scale, bool):
            raise TypeError
        value = scale.strip() if isinstance(scale, str) else (
            scale if isinstance(scale, (int, Fraction)) else float(scale))
        f = Fraction(value)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        raise IWaveError(f"scale must be a number: {SCALES}, not {scale!r}") from None
    if f <= 0:
        raise IWaveError(f"scale must be above 0 ({SCALES}), not {scale!r}")
    if f > 1:
        raise IWaveError(f"scale must be at most 1 (a preview is smaller, never larger), not {scale!r}")
    if f.numerator != 1 or f.denominator & (f.denominator - 1):
        raise IWaveError(f"scale must be a power of two: {SCALES}, not {scale!r}")
    return f.denominator.bit_length() - 1


def scale_name(level: int) -> str:
    return "1" if level == 0 else f"1/{1 << level}"


def reduced(n: int, level: int) -> int:
    """Samples of the low-pass band of level `level` along n samples: ceil(n / 2^level)."""
    return -(-n >> level)


def dc_gain(taps) -> float:
    """DC gain of one 1-D lifting stage's low-pass output for the (near, far)
    tap pairs of P1, U1, P2, U2 (iwave.lifting): a constant signal c comes out
    of the even half as gain * c (5/3 and 9/7-M: exactly 1; the unscaled 9/7
    of the lossy models: about 1.23). The learned corrections are left out
    (zero in every shipped model)."""
    low = high = 1.0
    for i, (near, far) in enumerate(taps):
        if i % 2 == 0:
            high += 2 * (near + far) * low
        else:
            low += 2 * (near + far) * high
    return low


def tiles_align(header, level: int) -> bool:
    """Whether every tile of the file, and the area it is coded over (its own
    pixels and the overlap into its neighbours, clipped to the image), starts
    on a multiple of 2^level pixels. Only then are the samples of each tile's
    low-pass band of that level the image's samples on the 2^level grid, so
    that the tiles' bands make one preview. (One tile always aligns.)"""
    f = 1 << level
    starts = set(range(0, header.height, header.tile)) | set(range(0, header.width, header.tile))
    return all(s % f == 0 and max(s - header.overlap, 0) % f == 0 for s in starts)


def check_level(header, level: int):
    """Refuse a preview level the file cannot give exactly, naming the smallest scale it can."""
    if level > header.levels:
        raise IWaveError(f"scale {scale_name(level)} needs {level} wavelet levels; this file has "
                         f"{header.levels} (its smallest scale is {scale_name(header.levels)})")
    if not tiles_align(header, level):
        best = max(k for k in range(level) if tiles_align(header, k))
        raise IWaveError(f"this file's tiles ({header.tile} pixels, overlap {header.overlap}) do not "
                         f"start on multiples of {1 << level} pixels, so a preview at scale "
                         f"{scale_name(level)} would not be exact; its smallest exact scale is "
                         f"{scale_name(best)}")


def reduced_keep(keep, level):
    """The slices of a tile's own pixels (`keep`, from iwave.coding.tile_window)
    in the low-pass band of level `level` of its coded area (check_level first)."""
    return tuple(slice(s.start >> level, reduced(s.stop, level)) for s in keep)
