"""Per-class post filters (file format 15): the classes follow activity and
direction, a classified filter does what its classes' filters do, the
encoder finds one where it pays, and its side data round-trips or is
refused."""
import numpy as np
import pytest
import torch

from iwave import filter_classes, postfilter, postfilter_fit
from iwave.entropy import EntropyError, ValueDecoder, ValueEncoder
from iwave.entropy.tables import ZERO_INDEX
from iwave.filter_classes import DIRECTIONS, NUM_CLASSES
from iwave.postfilter import CLASSIFIED, Classified, Filter
from tests.iwave.test_postfilter import planes


def test_classes_follow_activity_and_direction():
    flat = np.full((12, 15), 90.0)
    assert (filter_classes.classes(flat, 10) == 0).all()
    cols = np.tile(np.array([0.0, 40.0] * 8)[:15], (12, 1))        # varies along rows
    rows = cols[:, :12].T.copy()                                     # varies down columns
    assert (filter_classes.classes(cols, 10)[2:-2, 2:-2] % DIRECTIONS == 1).all()
    assert (filter_classes.classes(rows, 10)[2:-2, 2:-2] % DIRECTIONS == 2).all()
    diagonal = np.add.outer(np.arange(14), np.arange(14)) % 2 * 40.0
    assert (filter_classes.classes(diagonal, 10)[2:-2, 2:-2] % DIRECTIONS == 0).all()   # no direction wins
    # the same stripes at a coarser step are less active (a lower activity class)
    fine, coarse = filter_classes.classes(cols, 2), filter_classes.classes(cols, 200)
    assert (fine // DIRECTIONS > coarse // DIRECTIONS).all()
    x = planes(1, 23, 31)[0, 0]
    cls = filter_classes.classes(x, 12.0)
    assert cls.shape == (23, 31) and 0 <= cls.min() and cls.max() < NUM_CLASSES
    assert len(np.unique(cls)) > 5


def test_a_classified_filter_filters_each_class_with_its_own():
    x = planes(2, 30, 41)
    one = Filter(1, (12, -5, 3, 0, 7, -9, 4, 2, -1, 6, 0, -3, 40))
    same = postfilter.apply(x, [Classified((one,), (1,) * NUM_CLASSES), None], 16.0)
    assert torch.allclose(same, postfilter.apply(x, [one, None]), rtol=0, atol=1e-9)
    assert torch.equal(postfilter.apply(x, [Classified((one,), (0,) * NUM_CLASSES), None], 16.0), x)
    other = Filter(0, (-20, 9, 0, 3, 5, -8, -64))
    per_class = tuple(2 if k % 2 else 1 for k in range(NUM_CLASSES))
    out = postfilter.apply(x, [None, Classified((other, one), per_class)], 16.0)
    cls = torch.from_numpy(filter_classes.classes(x[0, 0], 16.0) % 2 == 1)   # classes of the first plane
    assert torch.allclose(out[1, 0][cls], postfilter.apply(x, [None, one])[1, 0][cls], atol=1e-9)
    assert torch.allclose(out[1, 0][~cls], postfilter.apply(x, [None, other])[1, 0][~cls], atol=1e-9)


def test_the_encoder_sends_per_class_filters_where_they_pay():
    x = planes(1, 64, 80, seed=3)
    rng = np.random.default_rng(5)
    made = Classified(tuple(Filter(1, tuple(int(v) for v in rng.integers(-40, 40, 13)))
                            for _ in range(NUM_CLASSES)), tuple(range(1, NUM_CLASSES + 1)))
    target = postfilter.apply(x, [made], 8.0)
    core = (slice(None), slice(None))
    fitted = postfilter_fit.fit(x, target, core, (1.0,), 8.0)[0]
    assert isinstance(fitted, Classified)
    left = ((postfilter.apply(x, [fitted], 8.0) - target) ** 2).mean()
    single = postfilter_fit.fit(x, target, core, (1.0,))[0]          # no step: one filter
    assert isinstance(single, Filter)
    assert left < 0.1 * ((postfilter.apply(x, [single]) - target) ** 2).mean()
    # classes that want the same filter share it
    one = Filter(1, (12, -5, 3, 0, 7, -9, 4, 2, -1, 6, 0, -3, 40))
    other = Filter(0, (-20, 9, 0, 3, 5, -8, -64))
    two = Classified((one, other), tuple(1 + k % 2 for k in range(NUM_CLASSES)))
    fitted = postfilter_fit.fit(x, postfilter.apply(x, [two], 8.0), core, (1.0,), 8.0)[0]
    assert isinstance(fitted, Classified) and len(fitted.filters) <= 4
    # one filter for every class is cheaper sent once
    assert postfilter_fit.fit(x, postfilter.apply(x, [one]), core, (1.0,), 8.0) == [one]


def test_side_code_round_trip_and_refusals():
    shared = (Filter(0, tuple(range(-3, 4))), Filter(1, tuple(range(-3, 4)) + (1, 2, 3, 4, 5, 6)))
    per_class = tuple(0 if k % 3 else 1 + k % 2 for k in range(NUM_CLASSES))
    filters = [Classified(shared, per_class), None, Filter(0, (1, -2, 3, 0, 0, 5, -7))]
    enc = ValueEncoder()
    postfilter.write(enc, filters)
    dec = ValueDecoder(enc.finish())
    assert postfilter.read(dec, 3, classified=True) == filters
    dec.check_end()
    bits = postfilter_fit.side_bits
    assert bits(filters[0]) > bits(shared[0]) + bits(shared[1])
    enc = ValueEncoder()
    postfilter.write(enc, filters[:1])
    with pytest.raises(EntropyError, match="post filter shape"):     # before format 15
        postfilter.read(ValueDecoder(enc.finish()), 1)


GOOD = [1, 1, 2, 0, 0, 1, 0, 5]                     # a 5x5 filter: its shape, weights and offset


@pytest.mark.parametrize("values, match", [
    ([0], "count"), ([NUM_CLASSES + 1], "count"), ([1, CLASSIFIED], "shape"), ([1, 0], "shape"),
    ([1, 1] + [0] * 6 + [-1025], "weight"),
    ([1] + GOOD + [2] + [0] * (NUM_CLASSES - 1), "class"),      # filter 2 of 1
    ([1] + GOOD + [1, -2] + [0] * (NUM_CLASSES - 2), "class")])  # filter -1
def test_malformed_class_filters_are_refused(values, match):
    p = postfilter
    order = [p.FLAG_SCALE, p.FILTERS_SCALE, p.FLAG_SCALE] + [p.COEFF_SCALE] * 7 + [p.CLASS_SCALE] * 30
    values = [CLASSIFIED] + values
    enc = ValueEncoder()
    scales = np.array(order[:len(values)]) + ZERO_INDEX
    enc.add(np.array(values), np.zeros(len(values), dtype=np.int64), scales)
    with pytest.raises(EntropyError, match=f"post filter {match}"):
        postfilter.read(ValueDecoder(enc.finish()), 1, classified=True)
    # what the writer sends: the class numbers as steps from the class before's
    one = Classified((Filter(0, tuple(GOOD[1:])),), (1,) * NUM_CLASSES)
    assert p.side_of([one])[0].tolist() == [CLASSIFIED, 1] + GOOD + [1] + [0] * (NUM_CLASSES - 1)


def test_the_compiled_per_class_sum_is_numpys_elementwise_numbers():
    """A classified filter's sum has no library to fix its order: the file
    format does (taps in order, then x, then the offset). The compiled kernel
    must give exactly what those elementwise float64 operations give, with no
    fused or reordered arithmetic, or a pixel could round the other way."""
    rng = np.random.default_rng(11)
    x = planes(1, 37, 45, seed=8)
    classified = Classified(tuple(Filter(1, tuple(int(v) for v in rng.integers(-900, 900, 13)))
                                  for _ in range(6)), tuple(int(v) for v in rng.integers(0, 7, NUM_CLASSES)))
    out = postfilter.apply(x, [classified], 9.0)[0, 0].numpy()
    plane = x[0, 0].numpy()
    cls = filter_classes.classes(plane, 9.0)
    weights, offsets = postfilter._class_weights(classified)
    r = postfilter.RADIUS
    p = np.pad(plane, r, mode="edge")
    acc = np.zeros_like(plane)
    for t, (dy, dx) in enumerate(postfilter.ALL_TAPS):
        a = p[r + dy:r + dy + plane.shape[0], r + dx:r + dx + plane.shape[1]]
        b = p[r - dy:r - dy + plane.shape[0], r - dx:r - dx + plane.shape[1]]
        acc = acc + weights[cls, t] * ((a + b) - 2.0 * plane)
    assert np.array_equal(out, plane + acc + offsets[cls])


def test_classes_are_what_the_format_says():
    """docs/bitstream.md's definition, written again with numpy."""
    x = planes(1, 29, 34, seed=2)[0, 0].numpy() * 1.7
    step = 7.5
    r = np.floor(x + 0.5).astype(np.int64)
    p = np.pad(r, 1, mode="edge")
    h, w = r.shape
    at = lambda dy, dx: p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
    sums = []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        d = np.pad(np.abs(2 * r - at(-dy, -dx) - at(dy, dx)), 1, mode="edge")
        sums.append(sum(d[i:i + h, j:j + w] for i in range(3) for j in range(3)))
    hs, vs, d1, d2 = sums
    activity = sum((hs + vs >= t * 9 * step).astype(int) for t in filter_classes.ACTIVITY_EDGES)
    direction = np.select([hs > 2 * vs, vs > 2 * hs, d1 > 2 * d2, d2 > 2 * d1], [1, 2, 3, 4], 0)
    assert np.array_equal(filter_classes.classes(x, step), activity * 5 + direction)
