"""The dequantisation denoiser's layers (iwave.denoiser) in exact mode,
compiled with numba: every layer of a whole plane of 2x2 blocks in one call,
a row at a time so each layer's inner loop over the row vectorises. In torch
each layer is a convolution plus a clamp, scale and round over the whole
plane, and those passes, not the multiplies, took most of the time.

The numbers are torch's (entropy.exact_kernel says why);
tests/iwave/test_denoiser.py compares both forms."""
import numba as nb
import numpy as np

from iwave.entropy.exact_kernel import act, depthwise_rows, mix_row


@nb.njit(inline="always")
def _pointwise_row(w, b, rows, acc, out, padded, i, relu):
    """Row i of a 1x1 layer (`w` (outputs, inputs), bias `b`) over `rows`,
    requantised (then ReLU and requantised again if `relu`), into `out`
    (outputs, H, W) or, if `padded`, into the interior of a zero-bordered
    out (outputs, H + 2, W + 2)."""
    o = 1 if padded else 0
    for k in range(w.shape[0]):
        acc[:] = b[k]
        mix_row(w, k, rows, acc)
        for j in range(acc.shape[0]):
            v = act(acc[j])
            out[k, i + o, j + o] = act(max(v, 0.0)) if relu else v


@nb.njit(cache=True)
def correction(x, cond, s1w, s1b, mw, mb, bdw, bdb, bpw, bpb, s2w, s2b, ow, ob):
    """The denoiser's output r (12, H, W) from its requantised block inputs
    x (12, H, W) and the step's conditioning vector `cond` (hidden,):
    depthwise 3x3 (`s1w` (12, 3, 3), `s1b`), 1x1 to hidden (`mw`, `mb`)
    plus `cond` and ReLU; for each block d a depthwise 3x3 (`bdw[d]`,
    `bdb[d]`) and a 1x1 with ReLU (`bpw[d]`, `bpb[d]`); then depthwise 3x3
    (`s2w`, `s2b`) and 1x1 back to 12 (`ow`, `ob`). Zero padding outside
    H x W, as torch's convolutions."""
    c, H, W = x.shape
    hidden = mw.shape[0]
    padded = np.zeros((c, H + 2, W + 2))
    padded[:, 1:H + 1, 1:W + 1] = x
    y = np.zeros((hidden, H + 2, W + 2))
    rows = np.empty((max(c, hidden), W))
    acc = np.empty(W)
    for i in range(H):
        depthwise_rows(padded, s1w, s1b, i, acc, rows[:c])
        for k in range(hidden):
            acc[:] = mb[k]
            mix_row(mw, k, rows[:c], acc)
            for j in range(W):
                y[k, i + 1, j + 1] = act(max(act(acc[j]) + cond[k], 0.0))
    for d in range(bdw.shape[0]):
        z = np.zeros((hidden, H + 2, W + 2))
        for i in range(H):
            depthwise_rows(y, bdw[d], bdb[d], i, acc, rows[:hidden])
            _pointwise_row(bpw[d], bpb[d], rows[:hidden], acc, z, True, i, True)
        y = z
    out = np.empty((ow.shape[0], H, W))
    for i in range(H):
        depthwise_rows(y, s2w, s2b, i, acc, rows[:hidden])
        _pointwise_row(ow, ob, rows[:hidden], acc, out, False, i, False)
    return out
