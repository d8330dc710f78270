"""The local least-squares predictor (file format 21, with the earlier
planes' samples among its taps from 22): its sliding sums are the window's
sums, its solve is the ridge least-squares solution, its taps are the
neighbours and earlier planes the format names, and planes that make its
window singular or huge still round-trip."""
import numba as nb
import numpy as np
import pytest

from iwave import lifting_paths
from iwave import local_least_squares as lls
from iwave import pixel_prediction
from iwave.codec import Codec
from tests.conftest import force_lossless_path


@nb.njit
def _sliding_sums(taps):
    """The window's and row's sums before each sample, as the walk keeps them."""
    h, w, n = taps.shape[0], taps.shape[1], taps.shape[2] - 1
    ring, columns, window, row, _, _ = lls.state(w, lls.RADIUS)
    out = np.zeros((h, w, lls.sums(n)), np.int64)
    f = np.zeros(lls.TAPS, np.int64)
    for i in range(h):
        lls.start_row(ring, columns, window, row, i)
        for j in range(w):
            if j > 0:
                lls.slide(ring, columns, window, row, i, j, lls.sums(n))
            out[i, j] = (window + row)[:lls.sums(n)]
            f[:n] = taps[i, j, :n]
            lls.record(ring, i, j, f, taps[i, j, n], n)
    return out


def products(f, y):
    n = len(f)
    pairs = [f[p] * f[q] for p in range(n) for q in range(p, n)]
    return np.array(pairs + [f[p] * y for p in range(n)], np.int64)


def padded(a):
    return np.pad(a, (0, lls.sums(lls.TAPS) - len(a)))


@pytest.mark.parametrize("n", [6, 7, 8])
def test_sliding_sums_are_the_windows_sums(n):
    """Any taps and targets (here random) recorded sample by sample: the
    sums before each sample are those of its window."""
    taps = np.random.default_rng(n).integers(-255, 256, (13, 17, n + 1))
    got = _sliding_sums(taps)
    r = lls.RADIUS
    for i, j in [(0, 0), (0, 5), (1, 0), (3, 8), (6, 16), (12, 0), (12, 9), (12, 16)]:
        window = [(a, c) for a in range(max(0, i - r), i) for c in range(max(0, j - r), min(17, j + r + 1))]
        window += [(i, c) for c in range(max(0, j - r), j)]
        want = sum((products(taps[a, c, :n], taps[a, c, n]) for a, c in window),
                   np.zeros(lls.sums(n), np.int64))
        assert np.array_equal(got[i, j], want), (i, j)


@pytest.mark.parametrize("seed, n, spatial", [(0, 7, 7), (1, 7, 7), (2, 8, 8), (3, 6, 4), (4, 8, 4)])
def test_the_solve_is_the_ridge_least_squares_solution(seed, n, spatial):
    rng = np.random.default_rng(seed)
    f = rng.integers(-40, 40, (30, n))
    y = f @ rng.normal(0, 0.5, n) + rng.normal(0, 3, 30)
    y = np.round(y).astype(np.int64)
    sums = padded(sum(products(a, b) for a, b in zip(f, y)))
    zero = np.zeros_like(sums)
    here = np.zeros(lls.TAPS, np.int64)
    here[:n] = rng.integers(-40, 40, n)
    m, wt = np.zeros((lls.TAPS, lls.TAPS + 4)), np.zeros(lls.TAPS)
    got = lls.predict(sums, zero, here, m, wt, 0, n, spatial)
    a = f.T.astype(float) @ f + lls.RIDGE * np.eye(n)
    weights = np.linalg.solve(a, f.T.astype(float) @ y)
    assert got == pytest.approx(clamped(float(weights @ here[:n]), here[:spatial]), rel=1e-9, abs=1e-9)
    # an odd column keeps the even one's weights
    other = np.zeros(lls.TAPS, np.int64)
    other[:n] = rng.integers(-40, 40, n)
    assert lls.predict(zero, zero, other, m, wt, 1, n, spatial) == \
        pytest.approx(clamped(float(weights @ other[:n]), other[:spatial]), rel=1e-9, abs=1e-9)


def clamped(value, taps):
    """Within the neighbours' range (0, N itself, and the spatial taps) widened by its width."""
    a, b = min(0, taps.min()), max(0, taps.max())
    return min(max(value, 2 * a - b), 2 * b - a)


def test_a_prediction_beyond_the_neighbours_is_clamped():
    """A window where v - N is ten times NW - N: a sample whose NW is 5 above
    N (the others at N) would predict 50 above; it gets twice the range, 10."""
    f = np.zeros((40, 7), np.int64)
    f[:, 1] = np.arange(-20, 20)
    sums = padded(sum(products(t, 10 * t[1]) for t in f))
    here = np.zeros(lls.TAPS, np.int64)
    here[1] = 5
    m, wt = np.zeros((lls.TAPS, lls.TAPS + 4)), np.zeros(lls.TAPS)
    assert lls.predict(sums, np.zeros_like(sums), here, m, wt, 0, 7, 7) == 10.0
    assert wt[1] > 9.9


def test_an_empty_window_predicts_the_sample_above():
    m, wt = np.zeros((lls.TAPS, lls.TAPS + 4)), np.zeros(lls.TAPS)
    zero = np.zeros(lls.sums(lls.TAPS), np.int64)
    assert lls.predict(zero, zero, np.arange(lls.TAPS, dtype=np.int64), m, wt, 0, lls.TAPS, lls.TAPS) == 0.0


@nb.njit
def _taps(planes, later, nee, i, j):
    """The taps of sample (i, j) of the last of `planes` (the spatial ones, then the earlier planes')."""
    p, f = planes[-1], np.zeros(lls.TAPS, np.int64)
    at = lambda a, b: p[a, b]  # noqa: E731
    n = lls.spatial_taps(f, later, nee, at(i, j - 1), at(i - 1, j), at(i - 1, j - 1), at(i - 1, j + 1),
                         at(i, j - 2), at(i - 2, j), at(i - 2, j + 1), at(i - 2, j - 1), at(i - 1, j + 2))
    return f, n, lls.earlier_taps(f, n, planes[:-1], i, j) if later else n


def test_the_taps_are_the_formats_neighbours_and_earlier_planes():
    """Format 21: seven neighbours; 22's first plane: and NEE; a later
    plane: four neighbours, then the nearest earlier plane's sample minus
    its N and its W, then the one before's (at most two planes)."""
    rng = np.random.default_rng(5)
    planes = rng.integers(0, 256, (4, 9, 11))
    i, j = 4, 5
    p = planes[-1]
    N = p[i - 1, j]
    nine = [p[i, j - 1], p[i - 1, j - 1], p[i - 1, j + 1], p[i, j - 2], p[i - 2, j], p[i - 2, j + 1],
            p[i - 2, j - 1], p[i - 1, j + 2]]
    f, spatial, n = _taps(planes, False, False, i, j)
    assert (spatial, n) == (7, 7) and list(f[:7]) == [v - N for v in nine[:7]]
    f, spatial, n = _taps(planes, False, True, i, j)
    assert (spatial, n) == (8, 8) and list(f) == [v - N for v in nine]
    f, spatial, n = _taps(planes, True, True, i, j)
    e1, e2 = planes[2], planes[1]
    assert (spatial, n) == (4, 8)
    assert list(f) == [v - N for v in (nine[0], nine[1], nine[2], nine[4])] + [
        e1[i, j] - e1[i - 1, j], e1[i, j] - e1[i, j - 1], e2[i, j] - e2[i - 1, j], e2[i, j] - e2[i, j - 1]]
    f, spatial, n = _taps(planes[:2], True, True, i, j)
    assert (spatial, n) == (4, 6)


def test_an_earlier_planes_taps_at_the_edges_follow_the_blends_rules():
    """At the first row N is W; at the first column W is N; the first sample's are 0."""
    e = np.arange(1, 21).reshape(4, 5) ** 2
    f = np.zeros(lls.TAPS, np.int64)
    got = {}
    for i, j in [(0, 0), (0, 3), (2, 0)]:
        lls.earlier_taps(f, 0, e[None], i, j)
        got[i, j] = list(f[:2])
    assert got[0, 0] == [e[0, 0], e[0, 0]]
    assert got[0, 3] == [e[0, 3] - e[0, 2]] * 2
    assert got[2, 0] == [e[2, 0] - e[1, 0], e[2, 0] - e[1, 0]]


def test_the_count_follows_the_taps():
    """Seven taps cost what format 21 counted (about 400 a sample); format
    22's colour group stays within the decoder's budget."""
    assert 380 <= lls.ops_per_sample(7) <= 420
    assert lls.ops_per_sample(6) < lls.ops_per_sample(7) < lls.ops_per_sample(8)
    assert pixel_prediction.ops_per_pixel(3) == sum(pixel_prediction.OPS_PER_SAMPLE + lls.ops_per_sample(t)
                                                    for t in (8, 6, 8))
    assert pixel_prediction.ops_per_pixel(3) <= 2000


@pytest.mark.parametrize("kind", ["steps16", "stripes16", "constant", "checker8"])
def test_planes_that_strain_the_solve_round_trip(monkeypatch, kind):
    """Extremes of 16-bit range next to each other (sums near 2^39), a plane
    where every window is singular but for the ridge, and a checkerboard."""
    force_lossless_path(monkeypatch, lifting_paths.PIXELS)
    yy, xx = np.mgrid[0:37, 0:41]
    a = {"steps16": np.where((yy // 3 + xx // 5) % 2, 65535, 0),
         "stripes16": np.where(xx % 2, 65535, 1) * (yy % 7 != 3),
         "constant": np.full(yy.shape, 200),
         "checker8": np.where((yy + xx) % 2, 255, 0)}[kind]
    dtype = np.uint16 if kind.endswith("16") else np.uint8
    a = np.stack([a, a[::-1], a[:, ::-1]], -1).astype(dtype)
    codec = Codec()
    assert np.array_equal(codec.decompress(codec.compress(a)), a)


def test_each_formats_blend_is_its_own():
    """The same plane analysed as formats 20, 21 and 22 predict it differs
    (so an older reader's blend is not the new one), and a later plane's
    predictions follow the planes before it (format 22 only)."""
    rng = np.random.default_rng(3)
    plane = np.cumsum(rng.integers(-3, 4, (24, 30)), axis=1)
    extra = np.zeros(plane.shape, np.int64)
    means = [pixel_prediction.analyse(plane, extra, 4, scheme=s)[0] for s in
             (pixel_prediction.FIXED_ONLY, pixel_prediction.LOCAL, pixel_prediction.CROSS)]
    assert not any(np.array_equal(a, b) for a, b in [(means[0], means[1]), (means[1], means[2])])
    before = plane + rng.integers(-2, 3, plane.shape)
    _, _, _, errors = pixel_prediction.analyse(before, extra, 4)
    later = pixel_prediction.analyse(plane, extra, 4, before[None], errors)[0]
    assert not np.array_equal(later, means[2])
    for scheme in (pixel_prediction.FIXED_ONLY, pixel_prediction.LOCAL):
        alone = pixel_prediction.analyse(plane, extra, 4, scheme=scheme)[0]
        with_before = pixel_prediction.analyse(plane, extra, 4, before[None], errors, scheme)[0]
        assert np.array_equal(with_before, alone)


def test_the_solve_compiles_to_single_roundings():
    """Encoder and decoder must compute the same float bits: no fused
    multiply-add (one rounding where the source has two), which numba emits
    only with fastmath. Checked on this machine's compiled code."""
    fresh = nb.njit(lls.predict.py_func)        # uncached, so its assembly can be read
    m, wt = np.zeros((lls.TAPS, lls.TAPS + 4)), np.zeros(lls.TAPS)
    zero = np.zeros(lls.sums(lls.TAPS), np.int64)
    fresh(zero, zero, np.zeros(lls.TAPS, np.int64), m, wt, 0, lls.TAPS, lls.TAPS)
    asm = "\n".join(fresh.inspect_asm().values()).lower()
    assert "fmadd" not in asm and "fmsub" not in asm and "fnmadd" not in asm
