"""The lifting steps' linear path, compiled with numba.

When a transform's learned corrections are exactly zero (every shipped
model's) a lifting step is the linear filter alone,
    dst[k] += sign * floor(near * (src[a] + src[b]) + far * (src[c] + src[d]) + 1/2)
with mirrored neighbours (lossless; lossy steps leave out the floor and
the half). Torch evaluated it as a gather, a few additions, a floor and a
subtraction over whole planes; one loop here does the same float64
operations in the same order per sample, on the same gather
(LiftingTransform._gather), so the result is the very same
(tests/iwave/test_lifting.py compares both). Lossless, every product and
sum is exact besides (taps on the 2**-12 grid, integer samples)."""
import numba as nb
import numpy as np


@nb.njit(cache=True)
def lift(dst, src, index, starts, near, far, sign, rounding):
    """One lifting step on the rows of (rows, len) halves, in place on dst:
    `src[index]` are the other half's mirror-extended samples and `starts`
    where each of the four taps' slices begins in them (near pair, far
    pair); the rounded (lossless) or real value added (sign 1) or taken
    away (-1)."""
    a, b, c, d = starts[0], starts[1], starts[2], starts[3]
    for r in range(dst.shape[0]):
        row, other = dst[r], src[r]
        for k in range(dst.shape[1]):
            v = near * (other[index[a + k]] + other[index[b + k]])
            if far != 0.0:
                v = v + far * (other[index[c + k]] + other[index[d + k]])
            if rounding:
                v = np.floor(v + 0.5)
            if sign > 0:
                row[k] = row[k] + v
            else:
                row[k] = row[k] - v
