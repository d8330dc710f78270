"""The lifting steps' linear path, compiled with numba.

When a transform's learned corrections are exactly zero (every shipped
model's) a lifting step is the linear filter alone,
    dst[k] += sign * floor(near * (src[a] + src[b]) + far * (src[c] + src[d]) + 1/2)
with mirrored neighbours (lossless; lossy steps leave out the floor and
the half). Torch evaluated it as a gather, a few additions, a floor and a
subtraction over whole planes; one loop here does the same float64
operations in the same order per sample, so the result is the very same
(tests/iwave/test_lifting.py compares both). Lossless, every product and
sum is exact besides (taps on the 2**-12 grid, integer samples)."""
import numba as nb
import numpy as np


@nb.njit(inline="always")
def _mirror(p, n):
    """Whole-sample symmetric extension of position p in a length-n signal."""
    if 0 <= p < n:
        return p
    period = 2 * (n - 1)
    p = p % period
    if p < 0:
        p += period
    return period - p if p > n - 1 else p


@nb.njit(cache=True)
def lift(dst, src, n, predict, near, far, sign, rounding):
    """One lifting step on the rows of (rows, len) halves of signals of
    length n, in place on dst: the odd half from the even one (`predict`)
    or the even half from the odd one, rounded (lossless) or not, added
    (sign 1) or taken away (-1)."""
    parity = 0 if predict else 1
    o1, o2, f1, f2 = (0, 2, -2, 4) if predict else (-1, 1, -3, 3)
    for r in range(dst.shape[0]):
        row, other = dst[r], src[r]
        for k in range(dst.shape[1]):
            x = 2 * k
            v = near * (other[(_mirror(x + o1, n) - parity) // 2] + other[(_mirror(x + o2, n) - parity) // 2])
            if far != 0.0:
                v = v + far * (other[(_mirror(x + f1, n) - parity) // 2]
                               + other[(_mirror(x + f2, n) - parity) // 2])
            if rounding:
                v = np.floor(v + 0.5)
            if sign > 0:
                row[k] = row[k] + v
            else:
                row[k] = row[k] - v
