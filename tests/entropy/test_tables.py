import numpy as np

from iwave.entropy.tables import PROB_SCALE, build_tables, load_tables


def test_shipped_tables_match_generator():
    cum, radius = build_tables()
    shipped_cum, shipped_radius = load_tables()
    np.testing.assert_array_equal(radius, shipped_radius)
    np.testing.assert_array_equal(cum, shipped_cum)


def test_every_symbol_has_nonzero_frequency_and_tables_sum_to_scale():
    cum, radius = load_tables()
    for k, r in enumerate(radius):
        row = cum[k, :2 * r + 3]
        assert row[0] == 0 and row[-1] == PROB_SCALE
        assert (np.diff(row) >= 1).all()


def test_fitted_tables_follow_the_counts_and_stay_valid():
    from iwave.entropy.tables import check_tables, fit_tables
    cum, radius = load_tables()
    assert np.array_equal(fit_tables(np.zeros_like(cum)).cum, cum)     # no data: Laplace
    counts = np.zeros_like(cum)
    k = 30
    counts[k, radius[k] + 1] = 10 ** 6          # every value one above the mean
    fitted = fit_tables(counts)
    check_tables(*fitted)
    freq = np.diff(fitted.cum[k, :2 * radius[k] + 3])
    assert freq.argmax() == radius[k] + 1 and freq.min() >= 1
    assert np.array_equal(fitted.cum[k + 1], cum[k + 1])               # other tables untouched


def test_invalid_tables_are_refused():
    import pytest
    from iwave.entropy.tables import check_tables
    cum, radius = load_tables()
    bad = cum.copy()
    bad[3, 2] = bad[3, 1]                       # a symbol with frequency 0
    with pytest.raises(ValueError, match="table 3"):
        check_tables(bad, radius)
    with pytest.raises(ValueError, match="layout"):
        check_tables(cum[:, :-1], radius)
    with pytest.raises(ValueError, match="layout"):
        check_tables(cum, radius + 1)


def test_fitted_tables_keep_the_fewest_bits_a_value_can_cost():
    """A table fitted to values that are always the mean is held at the
    Laplace tables' largest frequency, so a reader's size check holds for
    every model."""
    from iwave.entropy.tables import check_tables, fit_tables, max_frequency
    cum, radius = load_tables()
    counts = np.zeros_like(cum)
    counts[np.arange(len(radius)), radius] = 10 ** 9
    fitted = fit_tables(counts)
    check_tables(*fitted)
    assert np.diff(fitted.cum, axis=1).max() == max_frequency()


def test_shipped_quarter_mean_tables_match_generator():
    """Models with quarter means use three sets (mean fraction 0, 1/4, 1/2);
    the integer set is the one every older model uses, unchanged."""
    from iwave.entropy.tables import NUM_TABLES, resolution_of
    tables = load_tables(4)
    assert resolution_of(tables.cum) == 4 and resolution_of(load_tables().cum) == 1
    for s, offset in enumerate((0.0, 0.25, 0.5)):
        cum, radius = build_tables(offset)
        np.testing.assert_array_equal(tables.cum[s * NUM_TABLES:(s + 1) * NUM_TABLES], cum)
        np.testing.assert_array_equal(tables.radius[s * NUM_TABLES:(s + 1) * NUM_TABLES], radius)
