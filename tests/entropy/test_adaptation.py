import numpy as np
import pytest

from entropy import EntropyError, ValueDecoder, ValueEncoder, adaptation
from entropy.tables import ZERO_INDEX


def _laplace_ints(rng, centre, sigma, n):
    return np.floor(rng.laplace(centre, sigma, n) + 0.5).astype(np.int64)


def test_fit_finds_a_bias_the_model_missed():
    """Values centred at 2 under a model that predicts 0: the fit moves the
    mean by about 2 (f counts eighths) and the stream gets smaller."""
    rng = np.random.default_rng(0)
    v = _laplace_ints(rng, 2.0, 1.0, 20000)
    mu = np.zeros(v.size)
    kb = np.full(v.size, ZERO_INDEX, np.int64)
    a, f, s = adaptation.fit(v, mu, kb)
    assert abs(f / 8 - 2.0) <= 0.5
    assert adaptation.bits(v, mu, kb, (a, f, s)) < 0.8 * adaptation.bits(v, mu, kb)


def test_fit_shrinks_noisy_means_and_widens_a_too_narrow_scale():
    rng = np.random.default_rng(1)
    v = _laplace_ints(rng, 0.0, 2.0, 20000)
    mu = rng.normal(0.0, 3.0, v.size)                      # means that carry no information
    kb = np.full(v.size, ZERO_INDEX - 12, np.int64)        # sigma 1/4: four times too small
    a, f, s = adaptation.fit(v, mu, kb)
    assert a <= 2 and s >= 9


def test_fit_keeps_the_identity_when_the_model_is_right():
    rng = np.random.default_rng(2)
    mu = np.round(rng.normal(0.0, 5.0, 20000) * 8) / 8
    v = _laplace_ints(rng, 0.0, 1.0, mu.size) + np.floor(mu + 0.5).astype(np.int64)
    assert adaptation.fit(v, mu, np.full(v.size, ZERO_INDEX, np.int64)) == adaptation.IDENTITY
    assert adaptation.fit(v[:0], mu[:0], np.zeros(0, np.int64)) == adaptation.IDENTITY


def test_adjustments_round_trip_and_out_of_range_is_corrupt():
    adjust = [(8, 0, 0), (0, -1024, 60), (16, 1024, -60), (5, 3, -2)]
    enc = ValueEncoder()
    adaptation.write(enc, adjust)
    enc.add([7, -3], [0, 0], [ZERO_INDEX, ZERO_INDEX])
    dec = ValueDecoder(enc.finish())
    assert adaptation.read(dec, len(adjust)) == adjust
    assert dec.decode([0, 0], [ZERO_INDEX, ZERO_INDEX]).tolist() == [7, -3]
    dec.check_end()

    enc = ValueEncoder()
    enc.add([0, 2000, 0], [0, 0, 0], [ZERO_INDEX] * 3)     # offset beyond OFFSET_MAX
    with pytest.raises(EntropyError, match="adjustment"):
        adaptation.read(ValueDecoder(enc.finish()), 1)
