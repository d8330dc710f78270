import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from iwave.entropy import EntropyError, ValueDecoder, ValueEncoder
from iwave.entropy.tables import MAX_SCALE_INDEX, NUM_TABLES


def roundtrip(values, means, scales, batches=1):
    enc = ValueEncoder()
    parts = np.array_split(np.arange(len(values)), batches)
    for idx in parts:
        enc.add(values[idx], means[idx], scales[idx])
    data = enc.finish()
    dec = ValueDecoder(data)
    out = np.concatenate([dec.decode(means[idx], scales[idx]) for idx in parts])
    dec.check_end()
    np.testing.assert_array_equal(out, values)
    return data


def test_all_mass_on_one_symbol():
    n = 100_000
    v = np.zeros(n, np.int64)
    data = roundtrip(v, v, np.zeros(n, np.int64))
    assert len(data) < n * 0.01 / 8 + 64          # ~0.0005 bits per value


def test_uniform_and_large_scales():
    rng = np.random.default_rng(1)
    v = rng.integers(-2**20, 2**20, 50_000)
    scales = np.full(v.size, MAX_SCALE_INDEX)
    roundtrip(v, np.zeros_like(v), scales)
    roundtrip(v, np.zeros_like(v), np.full(v.size, NUM_TABLES + 70), batches=3)


def test_extremely_peaked_with_far_outliers():
    rng = np.random.default_rng(2)
    v = np.zeros(20_000, np.int64)
    v[rng.integers(0, v.size, 50)] = rng.choice([-1, 1], 50) * rng.integers(1, 2**45, 50)
    roundtrip(v, np.zeros_like(v), np.zeros_like(v), batches=4)


def test_means_far_from_values_and_out_of_range_scale_indices():
    rng = np.random.default_rng(3)
    v = rng.integers(-1000, 1000, 10_000)
    means = rng.integers(-10**6, 10**6, v.size)
    scales = rng.integers(-50, MAX_SCALE_INDEX + 100, v.size)   # clamped identically on both sides
    roundtrip(v, means, scales)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-2**40, 2**40), st.integers(-2**20, 2**20),
                          st.integers(-5, MAX_SCALE_INDEX + 5)), min_size=0, max_size=300),
       st.integers(1, 4))
def test_random_streams_roundtrip(triples, batches):
    a = np.array(triples, dtype=np.int64).reshape(-1, 3)
    roundtrip(a[:, 0], a[:, 1], a[:, 2], batches=batches)


def test_empty_stream():
    data = ValueEncoder().finish()
    dec = ValueDecoder(data)
    assert dec.decode(np.zeros(0), np.zeros(0)).size == 0
    dec.check_end()


def test_corrupt_stream_is_detected_not_hung():
    rng = np.random.default_rng(4)
    v = np.round(rng.laplace(0, 4, 5_000)).astype(np.int64)
    s = np.full(v.size, 30)
    enc = ValueEncoder()
    enc.add(v, np.zeros_like(v), s)
    data = bytearray(enc.finish())
    detected = 0
    for i in range(0, len(data), max(1, len(data) // 40)):
        bad = bytearray(data)
        bad[i] ^= 0x5A
        try:
            dec = ValueDecoder(bytes(bad))
            out = dec.decode(np.zeros_like(v), s)
            dec.check_end()
            detected += int(not np.array_equal(out, v))
        except EntropyError:
            detected += 1
    assert detected > 0
    with pytest.raises(EntropyError):
        ValueDecoder(b"\x01\x02")


def test_residual_too_large_is_refused():
    with pytest.raises(ValueError):
        ValueEncoder().add(np.array([2**50]), np.array([0]), np.array([0]))


def test_symbol_counts_and_fitted_tables_round_trip_and_save_bits():
    """Residuals that are not Laplace (always 0 or +3): tables fitted to their
    counts code them exactly, and in fewer bytes than the Laplace tables."""
    from iwave.entropy.laplace_coder import symbol_counts
    from iwave.entropy.tables import fit_tables
    rng = np.random.default_rng(5)
    n = 50000
    means = rng.integers(-40, 40, n)
    values = means + 3 * rng.integers(0, 2, n)
    scales = np.full(n, 33)
    big = np.array([10 ** 6, -10 ** 6])          # through the escape path too
    counts = symbol_counts(values, means, scales)
    counts = symbol_counts(big, [0, 0], [33, 33], counts)
    assert counts.sum() == n + 2
    tables = fit_tables(counts)
    sizes = {}
    for name, t in (("laplace", None), ("fitted", tables)):
        enc = ValueEncoder(t)
        enc.add(values, means, scales)
        enc.add(big, [0, 0], [33, 33])
        data = enc.finish()
        dec = ValueDecoder(data, t)
        assert np.array_equal(dec.decode(means, scales), values)
        assert np.array_equal(dec.decode([0, 0], [33, 33]), big)
        dec.check_end()
        sizes[name] = len(data)
    assert sizes["fitted"] < 0.8 * sizes["laplace"]


def test_quarter_means_round_trip_at_every_scale_and_fraction():
    """Means in quarters: every fraction (3/4 mirrors 1/4), every scale
    including the raw-bits range, escapes; fitted tables of that layout too."""
    from iwave.entropy.laplace_coder import symbol_counts
    from iwave.entropy.tables import fit_tables, load_tables
    rng = np.random.default_rng(7)
    n = 60_000
    means = rng.integers(-400, 400, n)                 # quarters: every fraction
    scales = rng.integers(0, MAX_SCALE_INDEX + 1, n)
    spread = np.minimum(2.0 ** ((scales - 24) / 6), 2.0 ** 40)
    values = np.floor(means / 4 + rng.laplace(0, spread) + 0.5).astype(np.int64)
    values[rng.integers(0, n, 30)] = rng.choice([-1, 1], 30) * rng.integers(1, 2**45, 30)
    for tables in (load_tables(4), fit_tables(symbol_counts(values, means, scales, tables=load_tables(4)))):
        enc = ValueEncoder(tables)
        enc.add(values, means, scales)
        dec = ValueDecoder(enc.finish(), tables)
        np.testing.assert_array_equal(dec.decode(means, scales), values)
        dec.check_end()


def test_quarter_means_cost_less_when_the_truth_lies_between_integers():
    from iwave.entropy.plan_fit import value_bits
    from iwave.entropy.tables import load_tables
    rng = np.random.default_rng(8)
    centre = rng.normal(0, 4, 50_000)
    values = np.floor(centre + rng.laplace(0, 1.0, centre.size) + 0.5).astype(np.int64)
    scales = np.full(centre.size, 24)
    whole = value_bits(values, np.floor(centre + 0.5), scales, load_tables(1)).mean()
    quarter = value_bits(values, np.floor(4 * centre + 0.5), scales, load_tables(4)).mean()
    assert quarter < whole - 0.02
