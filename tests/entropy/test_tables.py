import numpy as np

from entropy.tables import PROB_SCALE, build_tables, load_tables


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
