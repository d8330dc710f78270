"""A least-squares predictor fitted afresh around every sample (file format
21 on): the last predictor of iwave.pixel_prediction's blend.

Why: the blend's fixed predictors follow edges in a few directions only;
weights fitted to the coded samples just around a pixel follow whatever
structure is there (GLICBAWLS, MRP and TMW predict this way). On 20
held-out images it took 1.7% off the pixel coder's bits, and format 22
(the earlier planes' samples among its taps, and NEE) 1.7% more
(docs/effort.md "A local least-squares predictor").

Taps, each minus N, predicting v - N (so the weights need no intercept and
a flat area predicts N):
* format 21: W, NW, NE, WW, NN, NNE and NNW;
* format 22, a group's first plane: those and NEE; each later plane: W, NW,
  NE and NN, and of the one or two planes before it (the nearest first) the
  sample at this pixel minus its N and minus its W (what a colour
  transform leaves of the planes' likeness differs from place to place).
The window is the samples of the RADIUS rows above within RADIUS columns
either side, and the RADIUS samples to the left. Its sums (each tap times
each tap, and times v - N) are integers, kept by sliding: one sum per
column over the rows above (updated once a row), and the row sums moved
one column per sample, so a sample costs the same whatever the window's
size.

The solve (LDL^T of the sums plus RIDGE on the diagonal, positive definite
so always solvable) is in float64, written out here in a fixed order of
single IEEE-754 operations (no library solver, no fused multiply-add,
which numba does not emit without fastmath): the same bits on every
machine. The prediction is clamped to the range of 0 and the spatial taps
widened by its own width (iwave.pixel_prediction rounds it to 1/16 of a
sample, the blend's precision)."""
import numba as nb
import numpy as np

TAPS = 8                       # at most
EARLIER = 2                    # earlier planes whose samples are taps (format 22), at most
RADIUS, RADIUS_21 = 5, 4        # the window's, and format 21's
RIDGE = 8.0


@nb.njit(cache=True, inline="always")
def sums(taps):
    """How many sums the window keeps: each tap times each tap (the upper
    triangle), then each times v - N."""
    return taps * (taps + 1) // 2 + taps


def ops_per_sample(taps):
    """Operations per sample with `taps` taps: the products, the column,
    window and row sums moved (six adds or subtracts each), half a solve
    (filling the matrix, its LDL^T, the two substitutions; one every other
    column) and the prediction; counted as multiply-accumulates by
    iwave.complexity (7 taps: about 400)."""
    n = sums(taps)
    ldl = sum(2 * k + 2 + (taps - k - 1) * (2 * k + 1) for k in range(taps))
    solve = n + ldl + 2 * taps * (taps - 1) + taps
    return 7 * n + solve // 2 + 2 * taps


@nb.njit(cache=True)
def state(width, radius):
    """(ring, columns, window, row, matrix, weights): a plane's sliding sums
    and the solve's scratch; ring holds the products of the last radius + 1
    rows."""
    n = sums(TAPS)
    return (np.zeros((radius + 1, width, n), np.int64), np.zeros((width, n), np.int64),
            np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros((TAPS, TAPS + 4), np.float64),
            np.zeros(TAPS, np.float64))


@nb.njit(cache=True)
def start_row(ring, columns, window, row, i):
    """Before row i: the columns' sums become those of rows i - radius to
    i - 1, the window those of columns 0 to radius, the row's sums 0 (the
    radius: the ring's rows less one)."""
    width, radius = columns.shape[0], ring.shape[0] - 1
    if i >= 1:
        columns += ring[(i - 1) % (radius + 1)]
    if i >= radius + 1:
        columns -= ring[i % (radius + 1)]     # row i - radius - 1, whose slot row i takes
    window[:] = 0
    for c in range(min(radius + 1, width)):
        window += columns[c]
    row[:] = 0


@nb.njit(cache=True, inline="always")
def slide(ring, columns, window, row, i, j, n):
    """Before sample (i, j), j >= 1: the window and row sums (the first n)
    one column on."""
    width, radius = columns.shape[0], ring.shape[0] - 1
    slot, enter, leave = i % (radius + 1), j + radius, j - radius - 1
    if enter < width:
        for s in range(n):
            window[s] += columns[enter, s]
    if leave >= 0:
        for s in range(n):
            window[s] -= columns[leave, s]
            row[s] += ring[slot, j - 1, s] - ring[slot, leave, s]
    else:
        for s in range(n):
            row[s] += ring[slot, j - 1, s]


@nb.njit(cache=True, inline="always")
def spatial_taps(f, later, NEE_too, W, N, NW, NE, WW, NN, NNE, NNW, NEE):
    """Fills f with the taps from this plane's neighbours (a later plane's
    of format 22 when `later`; NEE too in a first plane's of format 22);
    returns how many."""
    f[0], f[1], f[2] = W - N, NW - N, NE - N
    if later:
        f[3] = NN - N
        return 4
    f[3], f[4], f[5], f[6] = WW - N, NN - N, NNE - N, NNW - N
    if NEE_too:
        f[7] = NEE - N
        return 8
    return 7


@nb.njit(cache=True, inline="always")
def earlier_taps(f, n, earlier, i, j):
    """Appends to f's n taps those of the (up to EARLIER) planes before this
    one, the nearest first: the sample at (i, j) minus its N and minus its W
    (the edges as for the blend's W and N); returns the taps' count."""
    for e in range(min(earlier.shape[0], EARLIER)):
        E = earlier[earlier.shape[0] - 1 - e]
        EW = E[i, j - 1] if j > 0 else (E[i - 1, j] if i > 0 else 0)
        EN = E[i - 1, j] if i > 0 else EW
        f[n], f[n + 1] = E[i, j] - EN, E[i, j] - EW
        n += 2
    return n


@nb.njit(cache=True, inline="always")
def record(ring, i, j, f, y, n):
    """The products of sample (i, j)'s n taps f and its v - N = y."""
    g, s = ring[i % ring.shape[0], j], 0
    for p in range(n):
        for q in range(p, n):
            g[s] = f[p] * f[q]
            s += 1
    for p in range(n):
        g[s + p] = f[p] * y


@nb.njit(cache=True, inline="always")
def predict(window, row, f, m, wt, j, n, spatial):
    """The prediction of v - N: sum_t w_t f_t (float) over the n taps f,
    for the weights wt that minimise the window's squared error plus RIDGE
    |w|^2, solved at even columns j and kept for the next (half the solves,
    0.02% larger files on held-out photos), clamped to [2a - b, 2b - a]
    where a, b are the least and greatest of 0 and the first `spatial`
    taps (the neighbours minus N); m (TAPS, TAPS + 4) is scratch."""
    if j % 2 == 1:
        return _apply(wt, f, n, spatial)
    s, pairs = 0, n * (n + 1) // 2
    for p in range(n):
        for q in range(p, n):
            m[p, q] = m[q, p] = float(window[s] + row[s])
            s += 1
        m[p, p] += RIDGE
        m[p, n] = float(window[pairs + p] + row[pairs + p])
    # LDL^T in place: m[p, q] (q < p) holds L; D, 1/D and L[k, t] D[t] in
    # the columns after the right-hand side
    D, INV, LD = n + 1, n + 2, n + 3
    for k in range(n):
        d = m[k, k]
        for t in range(k):
            m[t, LD] = m[k, t] * m[t, D]
            d -= m[k, t] * m[t, LD]
        if not d > 0.0:
            wt[:] = 0.0
            return 0.0
        m[k, D], m[k, INV] = d, 1.0 / d
        for r in range(k + 1, n):
            e = m[r, k]
            for t in range(k):
                e -= m[r, t] * m[t, LD]
            m[r, k] = e * m[k, INV]
    for k in range(n):
        z = m[k, n]
        for t in range(k):
            z -= m[k, t] * wt[t]
        wt[k] = z
    for k in range(n):
        wt[k] *= m[k, INV]
    for k in range(n - 1, -1, -1):
        z = wt[k]
        for t in range(k + 1, n):
            z -= m[t, k] * wt[t]
        wt[k] = z
    return _apply(wt, f, n, spatial)


@nb.njit(cache=True, inline="always")
def _apply(wt, f, n, spatial):
    out, a, b = 0.0, 0, 0
    for p in range(n):
        out += wt[p] * f[p]
    for p in range(spatial):
        a, b = min(a, f[p]), max(b, f[p])
    if not abs(out) < 1e12:        # (weights from a near-singular window)
        return 0.0
    return min(max(out, float(2 * a - b)), float(2 * b - a))
