"""The context model's per-phase arithmetic in exact mode, compiled with numba.

Decoding calls a phase net once per phase of each subband and component
(hundreds of calls per image) on grids from a few pixels to a few tens of
thousands: in torch each layer is five or six small tensor operations
(convolution, clamp, scale, round, ...), and their per-call cost, not the
arithmetic, took most of a decode. Here one loop over the pixels runs every
layer in registers.

The numbers are the very ones torch computes (entropy.exact_kernel says
why); tests/entropy/test_exact.py compares both forms.
"""
import numba as nb
import numpy as np

from iwave.entropy.exact_kernel import act, depthwise_rows, mix_row


@nb.njit(cache=True)
def phase_outputs(own, constant, sw, sb, mw, cond, hw, hb, ow, ob, ph, pw, coded=4):
    """A phase net's two outputs (B, 2, ph, pw) from its own inputs `own`
    (B, n, H, W), the constant part of its mixing layer `constant`
    (B, width, H, W; PhaseNet.constant_part) and its exact parameters: depthwise
    3x3 weights `sw` (n, 3, 3) and biases `sb` (n,) of its own inputs, mixing
    weights `mw` (width, n), the conditioning vector `cond` (width,), hidden
    and output weights and biases. Zero padding outside H x W. Own inputs
    k with k % 4 >= `coded` are known to be zero (the phases not coded yet):
    their spatial layer gives its bias alone.

    A row at a time, each layer's inner loop over the row's pixels, which
    the compiler turns into vector instructions."""
    nb_, n, H, W = own.shape
    width = mw.shape[0]
    out = np.empty((nb_, 2, ph, pw))
    padded = np.zeros((n, H + 2, W + 2))
    s = np.empty((n, pw))
    h = np.empty((width, pw))
    y = np.empty((width, pw))
    acc = np.empty(pw)
    for bi in range(nb_):
        padded[:, 1:H + 1, 1:W + 1] = own[bi]
        for i in range(ph):
            depthwise_rows(padded, sw, sb, i, acc, s, coded)
            for k in range(width):
                acc[:] = constant[bi, k, i, :pw]
                mix_row(mw, k, s, acc)
                for j in range(pw):
                    h[k, j] = act(max(act(acc[j]) + cond[k], 0.0))
            for k in range(width):
                acc[:] = hb[k]
                mix_row(hw, k, h, acc)
                for j in range(pw):
                    y[k, j] = act(max(act(acc[j]), 0.0))
            for k in range(2):
                acc[:] = ob[k]
                mix_row(ow, k, y, acc)
                for j in range(pw):
                    out[bi, k, i, j] = act(acc[j])
    return out


@nb.njit(cache=True)
def mixed_constant(x, sw, sb, mw, mb):
    """The mixing layer's sum over a phase net's fixed inputs x (B, m, H, W),
    (B, width, H, W), not requantised (PhaseNet.constant_part): depthwise 3x3
    (`sw` (m, 3, 3), `sb` (m,)) and requantised, then mixed (`mw` (width, m),
    `mb` (width,))."""
    nb_, m, H, W = x.shape
    width = mw.shape[0]
    out = np.empty((nb_, width, H, W))
    padded = np.zeros((m, H + 2, W + 2))
    s = np.empty((m, W))
    acc = np.empty(W)
    for bi in range(nb_):
        padded[:, 1:H + 1, 1:W + 1] = x[bi]
        for i in range(H):
            depthwise_rows(padded, sw, sb, i, acc, s)
            for k in range(width):
                acc[:] = mb[k]
                mix_row(mw, k, s, acc)
                out[bi, k, i] = acc
    return out


@nb.njit(inline="always")
def _hard_sigmoid(v):
    return min(max(0.25 * v + 0.5, 0.0), 1.0)


@nb.njit(cache=True)
def lstm_step(xh, c, sw, sb, gw, gb, cond):
    """The context LSTM's step (ConvLSTM.forward) on its input and hidden
    state `xh` (B, m, H, W) and cell state `c` (B, hidden, H, W): depthwise
    3x3 (`sw`, `sb`), gates (`gw` (4 hidden, m), `gb`) plus the conditioning
    vector `cond`; returns the new (h, c)."""
    nb_, m, H, W = xh.shape
    hidden = c.shape[1]
    h_out = np.empty((nb_, hidden, H, W))
    c_out = np.empty((nb_, hidden, H, W))
    padded = np.zeros((m, H + 2, W + 2))
    s = np.empty((m, W))
    g = np.empty((4 * hidden, W))
    acc = np.empty(W)
    for bi in range(nb_):
        padded[:, 1:H + 1, 1:W + 1] = xh[bi]
        for i in range(H):
            depthwise_rows(padded, sw, sb, i, acc, s)
            for k in range(4 * hidden):
                acc[:] = gb[k]
                mix_row(gw, k, s, acc)
                for j in range(W):
                    g[k, j] = act(acc[j]) + cond[k]
            for k in range(hidden):
                for j in range(W):
                    keep = act(_hard_sigmoid(g[hidden + k, j]) * c[bi, k, i, j])
                    add = act(_hard_sigmoid(g[k, j]) * min(max(g[3 * hidden + k, j], -1.0), 1.0))
                    cj = act(keep + add)
                    c_out[bi, k, i, j] = cj
                    h_out[bi, k, i, j] = act(_hard_sigmoid(g[2 * hidden + k, j]) * min(max(cj, -1.0), 1.0))
    return h_out, c_out
