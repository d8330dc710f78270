"""The local least-squares predictor (file format 21): its sliding sums are
the window's sums, its solve is the ridge least-squares solution, and
planes that make its window singular or huge still round-trip."""
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
    h, w = taps.shape[:2]
    ring, columns, window, row, _, _ = lls.state(w)
    out = np.zeros((h, w, lls.SUMS), np.int64)
    f = np.zeros(lls.TAPS, np.int64)
    for i in range(h):
        lls.start_row(ring, columns, window, row, i)
        for j in range(w):
            if j > 0:
                lls.slide(ring, columns, window, row, i, j)
            out[i, j] = window + row
            f[:] = taps[i, j, :lls.TAPS]
            lls.record(ring, i, j, f, taps[i, j, lls.TAPS])
    return out


def products(f, y):
    pairs = [f[p] * f[q] for p in range(lls.TAPS) for q in range(p, lls.TAPS)]
    return np.array(pairs + [f[p] * y for p in range(lls.TAPS)], np.int64)


def test_sliding_sums_are_the_windows_sums():
    """Any taps and targets (here random) recorded sample by sample: the
    sums before each sample are those of its window."""
    taps = np.random.default_rng(0).integers(-255, 256, (13, 17, lls.TAPS + 1))
    got = _sliding_sums(taps)
    r = lls.RADIUS
    for i, j in [(0, 0), (0, 5), (1, 0), (3, 8), (6, 16), (12, 0), (12, 9), (12, 16)]:
        window = [(a, c) for a in range(max(0, i - r), i) for c in range(max(0, j - r), min(17, j + r + 1))]
        window += [(i, c) for c in range(max(0, j - r), j)]
        want = sum((products(taps[a, c, :lls.TAPS], taps[a, c, lls.TAPS]) for a, c in window),
                   np.zeros(lls.SUMS, np.int64))
        assert np.array_equal(got[i, j], want), (i, j)


@pytest.mark.parametrize("seed", range(4))
def test_the_solve_is_the_ridge_least_squares_solution(seed):
    rng = np.random.default_rng(seed)
    f = rng.integers(-40, 40, (30, lls.TAPS))
    y = f @ rng.normal(0, 0.5, lls.TAPS) + rng.normal(0, 3, 30)
    y = np.round(y).astype(np.int64)
    sums = sum(products(a, b) for a, b in zip(f, y))
    here = rng.integers(-40, 40, lls.TAPS).astype(np.int64)
    m, wt = np.zeros((lls.TAPS, lls.TAPS + 4)), np.zeros(lls.TAPS)
    got = lls.predict(sums, np.zeros(lls.SUMS, np.int64), here, m, wt, 0)
    a = f.T.astype(float) @ f + lls.RIDGE * np.eye(lls.TAPS)
    weights = np.linalg.solve(a, f.T.astype(float) @ y)
    assert got == pytest.approx(clamped(float(weights @ here), here), rel=1e-9, abs=1e-9)
    # an odd column keeps the even one's weights
    other = rng.integers(-40, 40, lls.TAPS).astype(np.int64)
    assert lls.predict(np.zeros(lls.SUMS, np.int64), np.zeros(lls.SUMS, np.int64), other, m, wt, 1) == \
        pytest.approx(clamped(float(weights @ other), other), rel=1e-9, abs=1e-9)


def clamped(value, taps):
    """Within the neighbours' range (0, N itself, and the taps) widened by its width."""
    a, b = min(0, taps.min()), max(0, taps.max())
    return min(max(value, 2 * a - b), 2 * b - a)


def test_a_prediction_beyond_the_neighbours_is_clamped():
    """A window where v - N is ten times NW - N: a sample whose NW is 5 above
    N (the others at N) would predict 50 above; it gets twice the range, 10."""
    f = np.zeros((40, lls.TAPS), np.int64)
    f[:, 1] = np.arange(-20, 20)
    sums = sum(products(t, 10 * t[1]) for t in f)
    here = np.zeros(lls.TAPS, np.int64)
    here[1] = 5
    m, wt = np.zeros((lls.TAPS, lls.TAPS + 4)), np.zeros(lls.TAPS)
    assert lls.predict(sums, np.zeros(lls.SUMS, np.int64), here, m, wt, 0) == 10.0
    assert wt[1] > 9.9


def test_an_empty_window_predicts_the_sample_above():
    m, wt = np.zeros((lls.TAPS, lls.TAPS + 4)), np.zeros(lls.TAPS)
    zero = np.zeros(lls.SUMS, np.int64)
    assert lls.predict(zero, zero, np.arange(lls.TAPS, dtype=np.int64), m, wt, 0) == 0.0


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


def test_format_21_blends_eleven_predictors_and_format_20_ten():
    """The same plane analysed with and without the local predictor differs
    (so a format-20 reader's blend is not the new one)."""
    rng = np.random.default_rng(3)
    plane = np.cumsum(rng.integers(-3, 4, (24, 30)), axis=1)
    extra = np.zeros(plane.shape, np.int64)
    with_local = pixel_prediction.analyse(plane, extra, 4, local=True)[0]
    without = pixel_prediction.analyse(plane, extra, 4, local=False)[0]
    assert not np.array_equal(with_local, without)


def test_the_solve_compiles_to_single_roundings():
    """Encoder and decoder must compute the same float bits: no fused
    multiply-add (one rounding where the source has two), which numba emits
    only with fastmath. Checked on this machine's compiled code."""
    fresh = nb.njit(lls.predict.py_func)        # uncached, so its assembly can be read
    m, wt = np.zeros((lls.TAPS, lls.TAPS + 4)), np.zeros(lls.TAPS)
    zero = np.zeros(lls.SUMS, np.int64)
    fresh(zero, zero, np.zeros(lls.TAPS, np.int64), m, wt, 0)
    asm = "\n".join(fresh.inspect_asm().values()).lower()
    assert "fmadd" not in asm and "fmsub" not in asm and "fnmadd" not in asm
