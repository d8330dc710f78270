"""A least-squares predictor fitted afresh around every sample (file format
21): the 11th predictor of iwave.pixel_prediction's blend.

Why: the blend's ten fixed predictors follow edges in a few directions
only; weights fitted to the coded samples just around a pixel follow
whatever structure is there (GLICBAWLS, MRP and TMW predict this way). On
20 held-out images it took 1.7% off the pixel coder's bits
(docs/effort.md "A local least-squares predictor").

Taps: W, NW, NE, WW, NN, NNE and NNW, each minus N, predicting v - N (so
the weights need no intercept and a flat area predicts N). The window is
the samples of the RADIUS rows above within RADIUS columns either side,
and the RADIUS samples to the left. Its sums (each tap times each tap, and
times v - N) are integers, kept by sliding: one sum per column over the
rows above (updated once a row), and the row sums moved one column per
sample, so a sample costs the same whatever the window's size.

The solve (LDL^T of the sums plus RIDGE on the diagonal, positive definite
so always solvable) is in float64, written out here in a fixed order of
single IEEE-754 operations (no library solver, no fused multiply-add,
which numba does not emit without fastmath): the same bits on every
machine. The prediction is clamped to the neighbours' range widened by
its own width (iwave.pixel_prediction rounds it to 1/16 of a sample, the
blend's precision)."""
import numba as nb
import numpy as np

TAPS = 7
RADIUS = 4
PAIRS = TAPS * (TAPS + 1) // 2
SUMS = PAIRS + TAPS            # each tap times each tap (upper triangle), then times v - N
RIDGE = 8.0
# per sample: its products (35), the column, window and row sums moved
# (six adds or subtracts of 35), half a solve (about 260: the matrix, its
# LDL^T, two substitutions) and the prediction
OPS_PER_SAMPLE = 400


@nb.njit(cache=True)
def state(width):
    """(ring, columns, window, row, matrix, weights): a plane's sliding sums
    and the solve's scratch; ring holds the products of the last RADIUS + 1
    rows."""
    return (np.zeros((RADIUS + 1, width, SUMS), np.int64), np.zeros((width, SUMS), np.int64),
            np.zeros(SUMS, np.int64), np.zeros(SUMS, np.int64), np.zeros((TAPS, TAPS + 4), np.float64),
            np.zeros(TAPS, np.float64))


@nb.njit(cache=True)
def start_row(ring, columns, window, row, i):
    """Before row i: the columns' sums become those of rows i - RADIUS to
    i - 1, the window those of columns 0 to RADIUS, the row's sums 0."""
    width = columns.shape[0]
    if i >= 1:
        columns += ring[(i - 1) % (RADIUS + 1)]
    if i >= RADIUS + 1:
        columns -= ring[i % (RADIUS + 1)]     # row i - RADIUS - 1, whose slot row i takes
    window[:] = 0
    for c in range(min(RADIUS + 1, width)):
        window += columns[c]
    row[:] = 0


@nb.njit(cache=True, inline="always")
def slide(ring, columns, window, row, i, j):
    """Before sample (i, j), j >= 1: the window and row sums one column on."""
    width, slot = columns.shape[0], i % (RADIUS + 1)
    enter, leave = j + RADIUS, j - RADIUS - 1
    if enter < width:
        for s in range(SUMS):
            window[s] += columns[enter, s]
    if leave >= 0:
        for s in range(SUMS):
            window[s] -= columns[leave, s]
            row[s] += ring[slot, j - 1, s] - ring[slot, leave, s]
    else:
        for s in range(SUMS):
            row[s] += ring[slot, j - 1, s]


@nb.njit(cache=True, inline="always")
def features(f, W, N, NW, NE, WW, NN, NNE, NNW):
    f[0], f[1], f[2], f[3] = W - N, NW - N, NE - N, WW - N
    f[4], f[5], f[6] = NN - N, NNE - N, NNW - N


@nb.njit(cache=True, inline="always")
def record(ring, i, j, f, y):
    """The products of sample (i, j)'s taps f and its v - N = y."""
    g, s = ring[i % (RADIUS + 1), j], 0
    for p in range(TAPS):
        for q in range(p, TAPS):
            g[s] = f[p] * f[q]
            s += 1
    for p in range(TAPS):
        g[PAIRS + p] = f[p] * y


@nb.njit(cache=True, inline="always")
def predict(window, row, f, m, wt, j):
    """The prediction of v - N: sum_t w_t f_t (float) for the weights wt
    that minimise the window's squared error plus RIDGE |w|^2, solved at
    even columns j and kept for the next (half the solves, 0.02% larger
    files on held-out photos), clamped to [2a - b, 2b - a] where a, b are
    the least and greatest of 0 and the taps f (the neighbours minus N);
    m (TAPS, TAPS + 4) is scratch."""
    if j % 2 == 1:
        return _apply(wt, f)
    s = 0
    for p in range(TAPS):
        for q in range(p, TAPS):
            m[p, q] = m[q, p] = float(window[s] + row[s])
            s += 1
        m[p, p] += RIDGE
        m[p, TAPS] = float(window[PAIRS + p] + row[PAIRS + p])
    # LDL^T in place: m[p, q] (q < p) holds L; D, 1/D and L[k, t] D[t] in
    # the columns after the right-hand side
    D, INV, LD = TAPS + 1, TAPS + 2, TAPS + 3
    for k in range(TAPS):
        d = m[k, k]
        for t in range(k):
            m[t, LD] = m[k, t] * m[t, D]
            d -= m[k, t] * m[t, LD]
        if not d > 0.0:
            wt[:] = 0.0
            return 0.0
        m[k, D], m[k, INV] = d, 1.0 / d
        for r in range(k + 1, TAPS):
            e = m[r, k]
            for t in range(k):
                e -= m[r, t] * m[t, LD]
            m[r, k] = e * m[k, INV]
    for k in range(TAPS):
        z = m[k, TAPS]
        for t in range(k):
            z -= m[k, t] * wt[t]
        wt[k] = z
    for k in range(TAPS):
        wt[k] *= m[k, INV]
    for k in range(TAPS - 1, -1, -1):
        z = wt[k]
        for t in range(k + 1, TAPS):
            z -= m[t, k] * wt[t]
        wt[k] = z
    return _apply(wt, f)


@nb.njit(cache=True, inline="always")
def _apply(wt, f):
    out, a, b = 0.0, 0, 0
    for p in range(TAPS):
        out += wt[p] * f[p]
        a, b = min(a, f[p]), max(b, f[p])
    if not abs(out) < 1e12:        # (weights from a near-singular window)
        return 0.0
    return min(max(out, float(2 * a - b)), float(2 * b - a))
