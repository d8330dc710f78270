"""The exact layers (entropy.exact) compiled with numba: whole networks run
a row of pixels at a time, each layer's inner loop over the row vectorised.

Decoding calls a context-model phase net once per phase of each subband and
component (hundreds of calls per image) on grids from a few pixels to a few
tens of thousands, and the denoiser once per image on a whole plane: in
torch each layer is five or six small tensor operations (convolution,
clamp, scale, round, ...), and their per-call cost and passes over memory,
not the arithmetic, took most of a decode.

The numbers are the very ones torch computes: every product and partial sum
is a multiple of 2**-(A_FRAC + W_FRAC) below 2**53, so float64 gives them
without rounding in any order, and each requantisation is the same clamp,
scale by a power of two and floor(x + 0.5) as entropy.exact.act.
tests/entropy/test_exact.py and tests/iwave/test_denoiser.py compare both
forms.

Every kernel is in this one file on purpose: numba's on-disk cache notices
only changes to a kernel's own file, so kernels sharing the helpers below
from another module would keep running their old compiled code after the
helpers changed. (entropy.exact's constants are compiled in too; changing
them changes the file format, and the frozen vectors would fail.)"""
import numba as nb
import numpy as np

from iwave.entropy.exact import A_FRAC, A_MAX

_SCALE = float(1 << A_FRAC)


@nb.njit(inline="always")
def _act(v):
    v = min(max(v, -A_MAX), A_MAX)
    return np.floor(v * _SCALE + 0.5) / _SCALE


@nb.njit(inline="always")
def _depthwise_rows(padded, sw, sb, i, acc, out, coded=4):
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
            out[k, j] = _act(acc[j])


@nb.njit(inline="always")
def _mix_row(w, k, rows, acc):
    """acc += sum over m of w[k, m] * rows[m] (a 1x1 layer's output k on a row)."""
    for m in range(rows.shape[0]):
        wk = w[k, m]
        for j in range(acc.shape[0]):
            acc[j] += wk * rows[m, j]


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
            _depthwise_rows(padded, sw, sb, i, acc, s, coded)
            for k in range(width):
                acc[:] = constant[bi, k, i, :pw]
                _mix_row(mw, k, s, acc)
                for j in range(pw):
                    h[k, j] = _act(max(_act(acc[j]) + cond[k], 0.0))
            for k in range(width):
                acc[:] = hb[k]
                _mix_row(hw, k, h, acc)
                for j in range(pw):
                    y[k, j] = _act(max(_act(acc[j]), 0.0))
            for k in range(2):
                acc[:] = ob[k]
                _mix_row(ow, k, y, acc)
                for j in range(pw):
                    out[bi, k, i, j] = _act(acc[j])
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
            _depthwise_rows(padded, sw, sb, i, acc, s)
            for k in range(width):
                acc[:] = mb[k]
                _mix_row(mw, k, s, acc)
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
            _depthwise_rows(padded, sw, sb, i, acc, s)
            for k in range(4 * hidden):
                acc[:] = gb[k]
                _mix_row(gw, k, s, acc)
                for j in range(W):
                    g[k, j] = _act(acc[j]) + cond[k]
            for k in range(hidden):
                for j in range(W):
                    keep = _act(_hard_sigmoid(g[hidden + k, j]) * c[bi, k, i, j])
                    add = _act(_hard_sigmoid(g[k, j]) * min(max(g[3 * hidden + k, j], -1.0), 1.0))
                    cj = _act(keep + add)
                    c_out[bi, k, i, j] = cj
                    h_out[bi, k, i, j] = _act(_hard_sigmoid(g[2 * hidden + k, j]) * min(max(cj, -1.0), 1.0))
    return h_out, c_out


@nb.njit(inline="always")
def _pointwise_row(w, b, rows, acc, out, padded, i, relu):
    """Row i of a 1x1 layer (`w` (outputs, inputs), bias `b`) over `rows`,
    requantised (then ReLU and requantised again if `relu`), into `out`
    (outputs, H, W) or, if `padded`, into the interior of a zero-bordered
    out (outputs, H + 2, W + 2)."""
    o = 1 if padded else 0
    for k in range(w.shape[0]):
        acc[:] = b[k]
        _mix_row(w, k, rows, acc)
        for j in range(acc.shape[0]):
            v = _act(acc[j])
            out[k, i + o, j + o] = _act(max(v, 0.0)) if relu else v


@nb.njit(cache=True)
def separable_stack(x, cond, s1w, s1b, mw, mb, bdw, bdb, bpw, bpb, s2w, s2b, ow, ob):
    """A stack of depthwise-separable layers on inputs x (c, H, W), as
    iwave.denoiser runs it: depthwise 3x3 (`s1w` (c, 3, 3), `s1b`), 1x1 to
    `hidden` channels (`mw`, `mb`) plus the conditioning vector `cond`
    (hidden,) and ReLU; for each block d a depthwise 3x3 (`bdw[d]`,
    `bdb[d]`) and a 1x1 with ReLU (`bpw[d]`, `bpb[d]`); then depthwise 3x3
    (`s2w`, `s2b`) and 1x1 to the outputs (`ow`, `ob`): (outputs, H, W).
    Zero padding outside H x W, as torch's convolutions."""
    c, H, W = x.shape
    hidden = mw.shape[0]
    padded = np.zeros((c, H + 2, W + 2))
    padded[:, 1:H + 1, 1:W + 1] = x
    y = np.zeros((hidden, H + 2, W + 2))
    rows = np.empty((max(c, hidden), W))
    acc = np.empty(W)
    for i in range(H):
        _depthwise_rows(padded, s1w, s1b, i, acc, rows[:c])
        for k in range(hidden):
            acc[:] = mb[k]
            _mix_row(mw, k, rows[:c], acc)
            for j in range(W):
                y[k, i + 1, j + 1] = _act(max(_act(acc[j]) + cond[k], 0.0))
    for d in range(bdw.shape[0]):
        z = np.zeros((hidden, H + 2, W + 2))
        for i in range(H):
            _depthwise_rows(y, bdw[d], bdb[d], i, acc, rows[:hidden])
            _pointwise_row(bpw[d], bpb[d], rows[:hidden], acc, z, True, i, True)
        y = z
    out = np.empty((ow.shape[0], H, W))
    for i in range(H):
        _depthwise_rows(y, s2w, s2b, i, acc, rows[:hidden])
        _pointwise_row(ow, ob, rows[:hidden], acc, out, False, i, False)
    return out
