"""The exact layers' arithmetic (entropy.exact) as numba building blocks, for
the compiled kernels that run whole networks a row of pixels at a time
(entropy.phase_kernel, iwave.denoiser_kernel).

Every product and partial sum is a multiple of 2**-(A_FRAC + W_FRAC) below
2**53, so float64 gives torch's numbers without rounding in any order, and
each requantisation is the same clamp, scale by a power of two and
floor(x + 0.5) as entropy.exact.act."""
import numba as nb
import numpy as np

from iwave.entropy.exact import A_FRAC, A_MAX

_SCALE = float(1 << A_FRAC)


@nb.njit(inline="always")
def act(v):
    v = min(max(v, -A_MAX), A_MAX)
    return np.floor(v * _SCALE + 0.5) / _SCALE


@nb.njit(inline="always")
def depthwise_rows(padded, sw, sb, i, acc, out, coded=4):
    """Row i of every input's depthwise 3x3 (`padded`: the inputs with a
    zero border of one) plus bias, requantised into out (inputs, row
    length); inputs k with k % 4 >= coded are known to be zero: their bias
    alone."""
    for k in range(out.shape[0]):
        acc[:] = sb[k]
        if k % 4 < coded:
            for di in range(3):
                for dj in range(3):
                    wk = sw[k, di, dj]
                    row = padded[k, i + di]
                    for j in range(out.shape[1]):
                        acc[j] += wk * row[j + dj]
        for j in range(out.shape[1]):
            out[k, j] = act(acc[j])


@nb.njit(inline="always")
def mix_row(w, k, rows, acc):
    """acc += sum over m of w[k, m] * rows[m] (a 1x1 layer's output k on a row)."""
    for m in range(rows.shape[0]):
        wk = w[k, m]
        for j in range(acc.shape[0]):
            acc[j] += wk * rows[m, j]
