"""The encoder's side of iwave.ycbcr: the 8-bit Y, Cb, Cr planes an RGB
picture was decoded from, if it was.

Each pixel's planes are first JPEG's RGB -> YCbCr (JFIF, rounded); where
libjpeg's conversion back (iwave.ycbcr.to_rgb) does not give the pixel,
each triple one step away in Y, Cb and Cr is tried in turn. What no such
triple gives is sent as fixes. A picture whose RGB came from other
arithmetic (most of its pixels unmatched) is not a candidate: on held-out
photographs the pictures that were JPEGs leave under 1% of their pixels
unmatched, the others more than 60%."""
import itertools

import numpy as np

from iwave import ycbcr

MAX_UNMATCHED = 0.02   # more unmatched pixels than this: not a picture decoded from YCbCr
NEVER = 0.5            # more unmatched at the first guess: never YCbCr (held out: JPEGs 0-7%, others 63-76%)
LOW, HIGH = np.array([0, -128, -128])[:, None], np.array([255, 127, 127])[:, None]   # of Y, Cb', Cr'


def jfif(rgb):
    """JFIF's RGB -> (Y, Cb - 128, Cr - 128), real-valued, each (H, W)."""
    r, g, b = (p.astype(np.float64) for p in rgb)
    return (0.299 * r + 0.587 * g + 0.114 * b,
            -0.168736 * r - 0.331264 * g + 0.5 * b,
            0.5 * r - 0.418688 * g - 0.081312 * b)


def _forward(rgb):
    return np.clip(np.floor(np.stack(jfif(rgb)) + 0.5), LOW[..., None], HIGH[..., None]).astype(np.int64)


def planes(rgb):
    """(planes (3, H, W) int64 Y, Cb - 128, Cr - 128, ycbcr.Fixes) for
    RGB planes (3, H, W) of 8 bits, or None if too many pixels match no
    planes (MAX_UNMATCHED)."""
    rgb = rgb.astype(np.int64)
    best = _forward(rgb)
    bad = (ycbcr.to_rgb(best) != rgb).any(0)
    if bad.mean() > NEVER:
        return None
    at = np.flatnonzero(bad)                     # only the unmatched pixels are searched
    first, target = best.reshape(3, -1)[:, at], rgb.reshape(3, -1)[:, at]
    chosen, left = first.copy(), np.ones(len(at), bool)
    for step in itertools.product((-1, 0, 1), repeat=3):
        near = np.clip(first + np.array(step)[:, None], LOW, HIGH)
        fits = left & (ycbcr.to_rgb(near) == target).all(0)
        chosen[:, fits] = near[:, fits]
        left &= ~fits
        if not left.any():
            break
    if left.sum() > MAX_UNMATCHED * bad.size:
        return None
    best.reshape(3, -1)[:, at] = chosen
    positions = at[left]
    values = (rgb - ycbcr.to_rgb(best)).reshape(3, -1)[:, positions].T
    return best, ycbcr.Fixes(positions, values)
