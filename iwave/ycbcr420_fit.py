"""The encoder's side of iwave.ycbcr's half-resolution chroma: the
full-resolution Y plane and the Cb and Cr planes, halved down and across
(4:2:0) or across only (4:2:2), that a JPEG decoder turned into an RGB
picture with libjpeg's "fancy" upsampling (ycbcr.upsample) and its integer
colour conversion (ycbcr.to_rgb).

No closed form undoes the rounding, and one RGB triple may come from
several (Y, Cb, Cr). The search starts from least squares on JFIF's forward
conversion at each sampling and alignment (SAMPLINGS) and keeps the one
that explains most pixels; then, in turn, it chooses each row of both
chroma planes anew by dynamic programming along the row (each sample
within a radius of its value, the pixels no Y can give as the cost, the
rest of the planes fixed), then each column (4:2:0), until nothing
improves (a pixel's Y follows from its chroma). Pixels still unexplained
are sent as fixes: Pillow-made 4:2:0 JPEGs and held-out crops of BSDS300
photographs leave 0.6-1.2% of their pixels, 4:2:2 ones 0.2-0.4%
(docs/effort.md)."""
import numba as nb
import numpy as np

from iwave import ycbcr, ycbcr_fit

START_MAX = 0.3        # more pixels unexplained at the start: not subsampled (4:2:0 JPEGs 13-22%)
MAX_UNMATCHED = 0.15   # more left after the search: not worth coding this way
CLEAR = 0.02           # at most so many left: the full-resolution planes would code larger (encoder)
ROUNDS = ((1, 4), (2, 2))   # (search radius, at most so many rounds of rows and columns), in turn


@nb.njit(cache=True, inline="always")
def _taps(yy, xx, transposed, vertical):
    """(near row, far row, near column, far column, bias) of ycbcr.upsample
    at shifted coordinates (yy, xx) (4:2:2: both rows the pixel's own); with
    `transposed` the plane is stored transposed (the bias follows yy)."""
    jp = (xx >> 1) + 1
    jh = jp - 1 if (xx & 1) == 0 else jp + 1
    if not vertical:
        return yy, yy, jp, jh, 8 if xx & 1 else 4
    ip = (yy >> 1) + 1
    iv = ip - 1 if (yy & 1) == 0 else ip + 1
    odd = (yy & 1) if transposed else (xx & 1)
    return ip, iv, jp, jh, 7 if odd else 8


@nb.njit(cache=True, inline="always")
def _up(p, yy, xx, transposed, vertical):
    """ycbcr.upsample's value at shifted coordinates (yy, xx)."""
    ip, iv, jp, jh, bias = _taps(yy, xx, transposed, vertical)
    return (9 * p[ip, jp] + 3 * p[iv, jp] + 3 * p[ip, jh] + p[iv, jh] + bias) >> 4


@nb.njit(cache=True, inline="always")
def _y_range(r, g, b, cb, cr):
    """The Y (lo, hi) that with chroma cb, cr (0..255) give R, G, B under
    ycbcr.to_rgb (empty: lo > hi)."""
    cbp, crp = cb - 128, cr - 128
    lo, hi = 0, 255
    for v, o in ((r, (91881 * crp + 32768) >> 16),
                 (g, (-22554 * cbp - 46802 * crp + 32768) >> 16),
                 (b, (116130 * cbp + 32768) >> 16)):
        if v == 0:
            hi = min(hi, -o)
        elif v == 255:
            lo = max(lo, 255 - o)
        else:
            lo, hi = max(lo, v - o), min(hi, v - o)
    return lo, hi


@nb.njit(cache=True, inline="always")
def _y_range_at(rgb, pb, pr, y, x, py, px, transposed, vertical):
    """_y_range of pixel (y, x) under the chroma these planes upsample to."""
    cb, cr = _up(pb, y + py, x + px, transposed, vertical), _up(pr, y + py, x + px, transposed, vertical)
    return _y_range(rgb[0, y, x], rgb[1, y, x], rgb[2, y, x], cb, cr)


@nb.njit(cache=True, inline="always")
def _explained(rgb, pb, pr, y, x, py, px, transposed, vertical):
    lo, hi = _y_range_at(rgb, pb, pr, y, x, py, px, transposed, vertical)
    return lo <= hi


@nb.njit(cache=True)
def unexplained(rgb, pb, pr, py, px, vertical):
    """How many pixels of rgb (3, H, W) no Y gives under these planes."""
    n = 0
    for y in range(rgb.shape[1]):
        for x in range(rgb.shape[2]):
            n += not _explained(rgb, pb, pr, y, x, py, px, False, vertical)
    return n


@nb.njit(cache=True)
def _start(c, h2, w2, py, px, iterations, vertical):
    """Real-valued half-resolution plane (h2, w2) whose linear upsampling is
    nearest to c (H, W) in least squares (Jacobi-preconditioned steps),
    twice: the second time without the pixels the first left far off
    (edited ones, which would pull their neighbours)."""
    height, width = c.shape
    p = np.full((h2, w2), c.mean())
    use = np.ones((height, width))
    for _ in range(2):
        weight = np.zeros((h2, w2))
        for it in range(iterations + 1):
            grad = np.zeros((h2, w2))
            for y in range(height):
                for x in range(width):
                    ip, iv, jp, jh, _ = _taps(y + py, x + px, False, vertical)
                    u = use[y, x]
                    if it == 0:     # the weights (the adjoint of the used pixels), once
                        weight[ip, jp] += 9.0 * u
                        weight[iv, jp] += 3.0 * u
                        weight[ip, jh] += 3.0 * u
                        weight[iv, jh] += u
                        continue
                    r = u * (16.0 * c[y, x] - (9 * p[ip, jp] + 3 * p[iv, jp] + 3 * p[ip, jh] + p[iv, jh]))
                    grad[ip, jp] += 9.0 * r
                    grad[iv, jp] += 3.0 * r
                    grad[ip, jh] += 3.0 * r
                    grad[iv, jh] += r
            for i in range(h2):
                for j in range(w2):
                    if it and weight[i, j] > 0:
                        p[i, j] += 0.7 * grad[i, j] / (9.0 * weight[i, j])
        for y in range(height):
            for x in range(width):
                ip, iv, jp, jh, _ = _taps(y + py, x + px, False, vertical)
                lin = (9 * p[ip, jp] + 3 * p[iv, jp] + 3 * p[ip, jh] + p[iv, jh]) / 16.0
                use[y, x] = 1.0 if abs(lin - c[y, x]) < 3.0 else 0.0
    return p


def _repeat_edges(p, vertical):
    """p with its ring the edge repeated, as libjpeg has it for a whole picture."""
    if not vertical:        # 4:2:2: a ring at the sides only
        return np.pad(p[:, 1:-1], ((0, 0), (1, 1)), mode="edge")
    return np.pad(p[1:-1, 1:-1], 1, mode="edge")


@nb.njit(cache=True)
def _pair_tables(rgb, pb, pr, rows, i, c, py, px, transposed, vertical, nums, weights, table):
    """For the pixels of `rows` whose taps in row i are columns c - 1 and c:
    their numerators (before the shift) under today's planes, the weights of
    samples (i, c - 1) and (i, c) in them, and whether each (Cb, Cr) within
    the search's radius of today's explains the pixel (filled in: the two
    samples' weights add up to at most 16, so moving each by at most the
    radius moves the pixel's chroma by at most as much); returns how many
    pixels."""
    span = table.shape[1] // 2
    height, width = rgb.shape[1], rgb.shape[2]
    count = 0
    for y in rows:
        if not 0 <= y < height:
            continue
        for x in (2 * c - 3 - px, 2 * c - 2 - px):
            if not 0 <= x < width:
                continue
            ip, iv, jp, jh, bias = _taps(y + py, x + px, transposed, vertical)
            for q, p in enumerate((pb, pr)):
                nums[count, q] = 9 * p[ip, jp] + 3 * p[iv, jp] + 3 * p[ip, jh] + p[iv, jh] + bias
            for q, col in enumerate((c - 1, c)):
                weights[count, q] = ((9 if ip == i and col == jp else 0) + (3 if ip == i and col == jh else 0)
                                     + (3 if iv == i and col == jp else 0)
                                     + (1 if iv == i and col == jh else 0))
            cb0, cr0 = nums[count, 0] >> 4, nums[count, 1] >> 4
            for u in range(2 * span + 1):
                for v in range(2 * span + 1):
                    lo, hi = _y_range(rgb[0, y, x], rgb[1, y, x], rgb[2, y, x],
                                      cb0 + u - span, cr0 + v - span)
                    table[count, u, v] = lo <= hi
            count += 1
    return count


@nb.njit(cache=True, inline="always")
def _pair_cost(nums, weights, table, count, db0, dr0, db1, dr1):
    """Pixels of a pair (_pair_tables) left unexplained when samples c - 1
    and c move by (db0, dr0) and (db1, dr1)."""
    total, span = 0, table.shape[1] // 2
    for q in range(count):
        u = ((nums[q, 0] + weights[q, 0] * db0 + weights[q, 1] * db1) >> 4) - (nums[q, 0] >> 4) + span
        v = ((nums[q, 1] + weights[q, 0] * dr0 + weights[q, 1] * dr1) >> 4) - (nums[q, 1] >> 4) + span
        total += not table[q, u, v]
    return total


@nb.njit(cache=True)
def _row_pass(rgb, pb, pr, py, px, transposed, radius, vertical):
    """Choose each row of pb, pr anew (in place) where pixels it touches are
    unexplained: a Viterbi search along the row over both planes' values
    within `radius` of today's, the pixels no Y gives as the cost (ties:
    the smaller change), the other rows fixed. Returns how many rows moved."""
    height, width = rgb.shape[1], rgb.shape[2]
    h2, w2 = pb.shape
    side = 2 * radius + 1
    states = side * side
    near = np.zeros(w2, np.bool_)
    rows = np.empty(4, np.int64)
    bad = np.zeros((height, width), np.bool_)      # kept up to date as rows move
    for y in range(height):
        for x in range(width):
            bad[y, x] = not _explained(rgb, pb, pr, y, x, py, px, transposed, vertical)
    moved = 0
    for i in range(h2):
        for q in range(4):      # the output rows whose taps include row i (4:2:2: row i alone)
            rows[q] = 2 * i - 3 + q - py if vertical else (i if q == 0 else -1)
        near[:] = False
        for y in rows:
            if 0 <= y < height:
                for x in range(width):
                    if bad[y, x]:
                        jp = ((x + px) >> 1) + 1
                        near[max(jp - 2, 0):min(jp + 3, w2)] = True
        row_moved = False
        j = 0
        while j < w2:
            if not near[j]:
                j += 1
                continue
            j0 = j
            while j < w2 and near[j]:
                j += 1
            n = j - j0
            # each pair (c - 1, c) of the segment and the one after it: its pixels' tables
            nums, weights = np.zeros((n + 1, 8, 2), np.int64), np.zeros((n + 1, 8, 2), np.int64)
            table = np.zeros((n + 1, 8, side, side), np.bool_)
            counts = np.zeros(n + 1, np.int64)
            for k in range(n + 1 if j < w2 else n):
                counts[k] = _pair_tables(rgb, pb, pr, rows, i, j0 + k, py, px, transposed, vertical,
                                         nums[k], weights[k], table[k])
            old_b, old_r = pb[i, j0:j].copy(), pr[i, j0:j].copy()
            cost = np.full((n, states), np.inf)
            back = np.zeros((n, states), np.int64)
            for k in range(n):
                for s in range(states):
                    db, dr = s // side - radius, s % side - radius
                    if not (0 <= old_b[k] + db <= 255 and 0 <= old_r[k] + dr <= 255):
                        continue
                    unary = 1e-3 * (abs(db) + abs(dr))
                    if k == 0:
                        cost[0, s] = unary + _pair_cost(nums[0], weights[0], table[0], counts[0],
                                                        0, 0, db, dr)
                        continue
                    for s0 in range(states):
                        if cost[k - 1, s0] == np.inf:
                            continue
                        total = cost[k - 1, s0] + unary + _pair_cost(
                            nums[k], weights[k], table[k], counts[k], s0 // side - radius, s0 % side - radius,
                            db, dr)
                        if total < cost[k, s]:
                            cost[k, s], back[k, s] = total, s0
            if j < w2:          # the pair (j - 1, j), j fixed
                for s in range(states):
                    if cost[n - 1, s] < np.inf:
                        cost[n - 1, s] += _pair_cost(nums[n], weights[n], table[n], counts[n],
                                                     s // side - radius, s % side - radius, 0, 0)
            s = int(np.argmin(cost[n - 1]))
            changed = False
            for k in range(n - 1, -1, -1):
                vb, vr = old_b[k] + s // side - radius, old_r[k] + s % side - radius
                changed |= vb != old_b[k] or vr != old_r[k]
                pb[i, j0 + k], pr[i, j0 + k] = vb, vr
                s = back[k, s]
            row_moved |= changed
        if row_moved:
            moved += 1
            for y in rows:
                if 0 <= y < height:
                    for x in range(width):
                        bad[y, x] = not _explained(rgb, pb, pr, y, x, py, px, transposed, vertical)
    return moved


@nb.njit(cache=True)
def _luma(rgb, pb, pr, py, px, guess, vertical):
    """Each pixel's Y (the one nearest `guess` that gives its RGB) and
    whether there is one."""
    height, width = rgb.shape[1], rgb.shape[2]
    y_plane = guess.copy()
    ok = np.ones((height, width), np.bool_)
    for y in range(height):
        for x in range(width):
            lo, hi = _y_range_at(rgb, pb, pr, y, x, py, px, False, vertical)
            if lo <= hi:
                y_plane[y, x] = min(max(guess[y, x], lo), hi)
            else:
                ok[y, x] = False
    return y_plane, ok


SAMPLINGS = [((py, px), True) for py in (0, 1) for px in (0, 1)] + [((0, px), False) for px in (0, 1)]
WINDOW = 128


def _start_planes(rgb, cb, cr, phase, vertical):
    """(pixels unexplained, Cb, Cr) of the least-squares start (_start) from
    real-valued chroma cb, cr (0..255) at this sampling and alignment, with
    the ring as a crop's (fitted) or as a whole picture's (the edge
    repeated), whichever explains more."""
    shape = ycbcr.plane_shape(*cb.shape, *phase, vertical)
    pb, pr = (np.clip(np.floor(_start(np.ascontiguousarray(c), *shape, *phase, 20, vertical) + 0.5),
                      0, 255).astype(np.int64) for c in (cb, cr))
    tries = ((pb, pr), (_repeat_edges(pb, vertical), _repeat_edges(pr, vertical)))
    return min(((unexplained(rgb, b, r, *phase, vertical), b, r) for b, r in tries), key=lambda t: t[0])


def planes(rgb):
    """(Y (H, W), Cb, Cr (ycbcr.plane_shape), phase (py, px), ycbcr.Fixes,
    vertical: 4:2:0, else 4:2:2), all int64, the planes 0..255, for RGB
    planes (3, H, W) of 8 bits; None if the picture does not look decoded
    from subsampled chroma (START_MAX, MAX_UNMATCHED)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.int64)
    h, w = rgb.shape[1:]
    # the sampling: tried on a middle window at even offsets (the same alignment), WINDOW a side
    y0, x0 = max(0, (h - WINDOW) // 2) & ~1, max(0, (w - WINDOW) // 2) & ~1
    luma, cb, cr = ycbcr_fit.jfif(rgb)
    cb, cr = cb + 128, cr + 128
    part = np.s_[y0:y0 + WINDOW, x0:x0 + WINDOW]
    window = np.ascontiguousarray(rgb[(slice(None), *part)])
    scores = [(_start_planes(window, cb[part], cr[part], *sampling)[0], i)
              for i, sampling in enumerate(SAMPLINGS)]
    # the best alignment of 4:2:0 and of 4:2:2 on the window; the whole picture decides between them
    # (a 4:2:0 crop's window looked 4:2:2 by 0.3% of its pixels; over the whole crop 4:2:0 by 2%)
    best = [min(t for t in scores if SAMPLINGS[t[1]][1] == vertical) for vertical in (True, False)]
    tries = [i for count, i in best if count <= START_MAX * window[0].size]
    if not tries:
        return None
    _, pb, pr, i = min(((*_start_planes(rgb, cb, cr, *SAMPLINGS[i]), i) for i in tries),
                       key=lambda t: (t[0], t[3]))
    (py, px), vertical = SAMPLINGS[i]
    transposed = np.ascontiguousarray(rgb.transpose(0, 2, 1))
    for radius, rounds in ROUNDS:
        for _ in range(rounds):
            moved = _row_pass(rgb, pb, pr, py, px, False, radius, vertical)
            if vertical:        # (4:2:2: the rows are independent, each chosen at its best)
                pbt, prt = np.ascontiguousarray(pb.T), np.ascontiguousarray(pr.T)
                moved += _row_pass(transposed, pbt, prt, px, py, True, radius, vertical)
                pb, pr = np.ascontiguousarray(pbt.T), np.ascontiguousarray(prt.T)
            if not moved or not vertical:
                break
    guess = np.clip(np.floor(luma + 0.5), 0, 255).astype(np.int64)
    y_plane, ok = _luma(rgb, pb, pr, py, px, guess, vertical)
    if (~ok).sum() > MAX_UNMATCHED * ok.size:
        return None
    made = ycbcr.to_rgb(np.stack([y_plane] + [ycbcr.upsample(p, *ok.shape, py, px, vertical) - 128
                                              for p in (pb, pr)]))
    positions = np.flatnonzero(~ok)
    values = (rgb - made).reshape(3, -1)[:, positions].T
    return y_plane, pb, pr, (py, px), ycbcr.Fixes(positions, values), vertical


def settled(found):
    """Whether `planes` found so few pixels to mend (CLEAR) that the encoder
    need not code the full-resolution planes as well (below effort 9)."""
    return found is not None and len(found[4].positions) <= CLEAR * found[0].size


def smaller(found, streams, code_grey):
    """A colour group's `streams` or, where smaller, its streams as the Y and
    half-resolution Cb, Cr that `planes` found, each plane coded by
    code_grey(plane, head) as an 8-bit grey image, the first after the
    colour form."""
    y, cb, cr, phase, fixes, vertical = found
    heads = (lambda e: ycbcr.write(e, ycbcr.Form(phase, fixes, vertical)), None, None)
    mine = [code_grey(p, head) for p, head in zip((y, cb, cr), heads)]
    return mine if sum(map(len, mine)) < sum(map(len, streams)) else streams
