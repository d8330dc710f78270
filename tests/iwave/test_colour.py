import numpy as np
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays

from iwave.colour import rgb_to_ycocg, ycocg_to_rgb


@given(arrays(np.int64, (7, 5, 3), elements=st.integers(0, 65535)))
def test_ycocg_r_is_exactly_reversible(rgb):
    np.testing.assert_array_equal(ycocg_to_rgb(rgb_to_ycocg(rgb)), rgb)


def test_grey_maps_to_zero_chroma():
    g = np.full((2, 2, 3), 77)
    ycc = rgb_to_ycocg(g)
    assert (ycc[..., 0] == 77).all() and (ycc[..., 1:] == 0).all()
