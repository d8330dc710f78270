"""Classes of samples for the post filter's per-class filters (file format
15 on), as the adaptive loop filter of VVC classifies: by the local activity
and direction of the decoded first component (luma, or the grey plane).

Per sample of the rounded plane r, the absolute second differences along
the four directions (horizontal, vertical and the two diagonals, samples
beyond the plane repeated from its edge) are summed over the 3x3 block
around it (the differences beyond the plane again repeated): H, V, D1, D2.
Its activity class is how many of ACTIVITY_EDGES x 9 x step the sum H + V
reaches (0-5); its direction is 1 where H > 2V, else 2 where V > 2H, else 3
where D1 > 2 D2, else 4 where D2 > 2 D1, else 0; its class is
activity x 5 + direction. Integer sums, one comparison against a float64
product each: every decoder finds the same classes."""
import numba as nb
import numpy as np

ACTIVITY_EDGES = (0.25, 0.5, 1.0, 2.0, 4.0)   # mean |second difference| per sample, in steps
DIRECTIONS = 5
DIRECTION_RATIO = 2
NUM_CLASSES = (len(ACTIVITY_EDGES) + 1) * DIRECTIONS
OPS_PER_SAMPLE = 24      # 4 second differences (2 each), 4 box sums (separable: 4 each)


@nb.njit(cache=True)
def _classes(r, limits):
    h, w = r.shape
    diffs = np.empty((4, h + 2, w + 2), np.int64)      # |second differences|, edge repeated
    steps = ((0, 1), (1, 0), (1, 1), (1, -1))
    for i in range(h + 2):
        y = min(max(i - 1, 0), h - 1)
        for j in range(w + 2):
            x = min(max(j - 1, 0), w - 1)
            for d in range(4):
                dy, dx = steps[d]
                a = r[min(max(y - dy, 0), h - 1), min(max(x - dx, 0), w - 1)]
                b = r[min(max(y + dy, 0), h - 1), min(max(x + dx, 0), w - 1)]
                diffs[d, i, j] = abs(2 * r[y, x] - a - b)
    rows = np.empty((4, h + 2, w), np.int64)        # 3x3 sums, separably: along rows first
    for d in range(4):
        for i in range(h + 2):
            for j in range(w):
                rows[d, i, j] = diffs[d, i, j] + diffs[d, i, j + 1] + diffs[d, i, j + 2]
    out = np.empty((h, w), np.int64)
    sums = np.zeros(4, np.int64)
    for i in range(h):
        for j in range(w):
            for d in range(4):
                sums[d] = rows[d, i, j] + rows[d, i + 1, j] + rows[d, i + 2, j]
            hs, vs, d1, d2 = sums[0], sums[1], sums[2], sums[3]
            activity = 0
            for limit in limits:
                if hs + vs >= limit:
                    activity += 1
            if hs > DIRECTION_RATIO * vs:
                direction = 1
            elif vs > DIRECTION_RATIO * hs:
                direction = 2
            elif d1 > DIRECTION_RATIO * d2:
                direction = 3
            elif d2 > DIRECTION_RATIO * d1:
                direction = 4
            else:
                direction = 0
            out[i, j] = activity * DIRECTIONS + direction
    return out


def classes(plane, step):
    """Class (0 .. NUM_CLASSES - 1) of every sample of a decoded plane
    ((H, W) float64 tensor or array, before rounding) at the file's step."""
    r = np.floor(np.asarray(plane, dtype=np.float64) + 0.5).astype(np.int64)
    limits = np.array([e * 9.0 * float(step) for e in ACTIVITY_EDGES])
    return _classes(r, limits)
