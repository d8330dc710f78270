import numpy as np
import pytest

from iwave.entropy import EntropyError, ValueDecoder, ValueEncoder, plan_fit, plan_format
from iwave.entropy.tables import ZERO_INDEX


def _laplace_ints(rng, centre, sigma, n):
    return np.floor(rng.laplace(centre, sigma, n) + 0.5).astype(np.int64)


def test_fit_finds_a_bias_the_model_missed():
    """Values centred at 2 under a model that predicts 0: the fit moves the
    mean by about 2 (f counts eighths) and the stream gets smaller."""
    rng = np.random.default_rng(0)
    v = _laplace_ints(rng, 2.0, 1.0, 20000)
    mu = np.zeros(v.size)
    kb = np.full(v.size, ZERO_INDEX, np.int64)
    a, f, s = plan_fit.fit(v, mu, kb)
    assert abs(f / 8 - 2.0) <= 0.5
    assert plan_fit.bits(v, mu, kb, (a, f, s)) < 0.8 * plan_fit.bits(v, mu, kb)


def test_fit_shrinks_noisy_means_and_widens_a_too_narrow_scale():
    rng = np.random.default_rng(1)
    v = _laplace_ints(rng, 0.0, 2.0, 20000)
    mu = rng.normal(0.0, 3.0, v.size)                      # means that carry no information
    kb = np.full(v.size, ZERO_INDEX - 12, np.int64)        # sigma 1/4: four times too small
    a, f, s = plan_fit.fit(v, mu, kb)
    assert a <= 2 and s >= 9


def test_fit_keeps_the_identity_when_the_model_is_right():
    rng = np.random.default_rng(2)
    mu = np.round(rng.normal(0.0, 5.0, 20000) * 8) / 8
    v = _laplace_ints(rng, 0.0, 1.0, mu.size) + np.floor(mu + 0.5).astype(np.int64)
    assert plan_fit.fit(v, mu, np.full(v.size, ZERO_INDEX, np.int64)) == plan_format.IDENTITY
    assert plan_fit.fit(v[:0], mu[:0], np.zeros(0, np.int64)) == plan_format.IDENTITY


def test_adjustments_round_trip_and_out_of_range_is_corrupt():
    adjust = [(8, 0, 0), (0, -1024, 60), (16, 1024, -60), (5, 3, -2)]
    enc = ValueEncoder()
    plan_format.write(enc, adjust)
    enc.add([7, -3], [0, 0], [ZERO_INDEX, ZERO_INDEX])
    dec = ValueDecoder(enc.finish())
    assert plan_format.read(dec, len(adjust)) == adjust
    assert dec.decode([0, 0], [ZERO_INDEX, ZERO_INDEX]).tolist() == [7, -3]
    dec.check_end()

    enc = ValueEncoder()
    enc.add([0, 2000, 0], [0, 0, 0], [ZERO_INDEX] * 3)     # offset beyond OFFSET_MAX
    with pytest.raises(EntropyError, match="adjustment"):
        plan_format.read(ValueDecoder(enc.finish()), 1)


def test_plan_adjusts_each_part_when_the_parts_are_off_differently():
    """Two parts (as a subband's phases) whose values sit at +3 and -3 under
    a model that predicts 0: one shared adjustment cannot serve both, one per
    part can."""
    rng = np.random.default_rng(4)
    parts = [(_laplace_ints(rng, c, 1.0, 6000), np.zeros(6000), np.full(6000, ZERO_INDEX, np.int64))
             for c in (3.0, -3.0)]
    plan = plan_fit.plan(parts)
    assert plan.per_part and len(plan.adjustments) == 2 * (len(plan.thresholds) + 1)
    whole = [np.concatenate([p[i] for p in parts]) for i in range(3)]
    shared = plan_fit.fit(*whole)
    planned = sum(plan_fit.plan_bits(plan, parts))
    assert planned < 0.8 * plan_fit.bits(*whole, shared)


def test_plan_splits_scales_when_the_model_is_off_differently_by_scale():
    """Small predicted scales four times too small, large ones four times too
    large: the plan sets a threshold between them and shifts each class its
    own way."""
    rng = np.random.default_rng(5)
    n = 8000
    low = (_laplace_ints(rng, 0.0, 4.0, n), np.zeros(n), np.full(n, ZERO_INDEX, np.int64))
    high = (_laplace_ints(rng, 0.0, 4.0, n), np.zeros(n), np.full(n, ZERO_INDEX + 24, np.int64))
    parts = [tuple(np.concatenate([x, y]) for x, y in zip(low, high))]
    plan = plan_fit.plan(parts)
    assert ZERO_INDEX < plan.thresholds[0] <= ZERO_INDEX + 24
    a, f, s = plan.arrays(0, parts[0][2])
    assert np.all(s[:n] >= 9) and np.all(s[n:] <= -9)


def test_plan_keeps_one_identity_adjustment_for_a_calibrated_model():
    rng = np.random.default_rng(6)
    k = rng.integers(ZERO_INDEX - 6, ZERO_INDEX + 18, 20000)
    v = np.floor(rng.laplace(0.0, 2.0 ** ((k - ZERO_INDEX) / 6)) + 0.5).astype(np.int64)
    parts = [(v[i::4], np.zeros(v[i::4].size), k[i::4]) for i in range(4)]
    assert plan_fit.plan(parts) == plan_format.IDENTITY_PLAN
    assert plan_fit.plan([(v[:0], np.zeros(0), k[:0])] * 4) == plan_format.IDENTITY_PLAN


def test_plan_arrays_give_each_value_its_class_adjustment():
    plan = plan_format.Plan(True, (20, 30), tuple((8, i, -i) for i in range(6)))
    a, f, s = plan.arrays(1, np.array([5, 19, 20, 29, 30, 99]))
    assert a.tolist() == [8] * 6
    assert f.tolist() == [3, 3, 4, 4, 5, 5] and s.tolist() == [-3, -3, -4, -4, -5, -5]
    shared = plan_format.Plan(False, (), ((4, 1, 2),))
    assert [x.tolist() for x in shared.arrays(3, np.array([0, 50]))] == [[4, 4], [1, 1], [2, 2]]


def test_plans_round_trip_and_malformed_plans_are_corrupt():
    plans = [plan_format.IDENTITY_PLAN._replace(mix=(0, 0)),
             plan_format.Plan(True, (18, 30, 31), tuple((i % 17, 3 * i - 40, 60 - 5 * i)
                                                       for i in range(16)), (64, -3)),
             plan_format.Plan(False, (-400,), ((0, -1024, 60), (16, 1024, -60)), (-64, 0))]
    enc = ValueEncoder()
    plan_format.write_plans(enc, plans)
    enc.add([7, -3], [0, 0], [ZERO_INDEX, ZERO_INDEX])
    dec = ValueDecoder(enc.finish())
    assert plan_format.read_plans(dec, len(plans), 4, references=2) == plans
    assert dec.decode([0, 0], [ZERO_INDEX, ZERO_INDEX]).tolist() == [7, -3]
    dec.check_end()

    def stream(values, scales):
        enc = ValueEncoder()
        enc.add(values, np.zeros(len(values), np.int64), scales)
        return ValueDecoder(enc.finish())
    S, T, M = (ZERO_INDEX + getattr(plan_format.SIDE, k) for k in ("flags", "thresholds", "mix"))
    A, F, H = (ZERO_INDEX + getattr(plan_format.SIDE, k) for k in ("slope", "offset", "shift"))
    bad = [([2, 0], [S, S]),                                  # per_part flag not 0 or 1
           ([0, 4], [S, S]),                                  # four thresholds
           ([0, 2, 3, 0], [S, S, T, T]),                      # thresholds not increasing
           ([0, 1, 500], [S, S, T]),                          # threshold out of range
           ([0, 0, 9, 0, 0], [S, S, A, F, H])]                # a = 17
    for values, scales in bad:
        with pytest.raises(EntropyError, match="plan|adjustment"):
            plan_format.read_plans(stream(values, scales), 1, 4)
    with pytest.raises(EntropyError, match="mix"):                 # a reference weighing 65/16
        plan_format.read_plans(stream([0, 0, 65, 0, 0, 0], [S, S, M, A, F, H]), 1, 4, references=1)


def test_version_5_side_code_is_read_as_written():
    """Files of version 5 code a plan's integers at other scales, with one
    flag for all the neighbour mixes: a plan written that way reads back
    only under that code, and the current code spends fewer bits on a
    typical plan (mostly identity adjustments, one mixed part)."""
    plan = plan_format.Plan(True, (), ((8, 0, 0), (8, 0, 1), (8, 0, 0), (7, 0, -2)), (0, 0),
                           ((), (0, 0, 0, 0), (3, 5, 4, 2), (0,) * 8), (0, 0, 0))
    refs = dict(references=2, part_references=[0, 4, 4, 8], activities=3)
    sizes = {}
    for code in (plan_format.V5_SIDE, plan_format.SIDE):
        enc = ValueEncoder()
        plan_format.write_plans(enc, [plan], code)
        data = enc.finish()
        assert plan_format.read_plans(ValueDecoder(data), 1, 4, code=code, **refs) == [plan]
        values, scales = plan_format.side_of(plan, code)
        sizes[code] = plan_fit.value_bits(values, np.zeros_like(values), scales).sum()
    assert sizes[plan_format.SIDE] < 0.8 * sizes[plan_format.V5_SIDE]


def test_plan_mixes_in_a_reference_the_model_left_unused():
    """Values that are half their reference plus noise, under a model that
    predicts 0: the plan's mix weighs the reference by about 8/16, and a
    decoder given the same references derives the same means."""
    rng = np.random.default_rng(7)
    refs = [rng.integers(-40, 41, (2, 5000)) for _ in range(4)]
    parts = [(np.floor(0.5 * x[0] + rng.laplace(0, 1.0, x.shape[1]) + 0.5).astype(np.int64),
              np.zeros(x.shape[1]), np.full(x.shape[1], ZERO_INDEX + 18, np.int64)) for x in refs]
    plan = plan_fit.plan(parts, references=refs)
    assert abs(plan.mix[0] - 8) <= 1 and abs(plan.mix[1]) <= 1
    plain = plan_fit.plan(parts)
    assert plain.mix == ()
    assert (sum(plan_fit.plan_bits(plan, parts, references=refs))
            < 0.7 * sum(plan_fit.plan_bits(plain, parts)))
    a, f, s = plan.arrays(2, parts[2][2], refs[2])
    assert np.array_equal(f, plan.adjustments[0][1] + (np.array(plan.mix) @ refs[2]) / 2)


def test_plan_keeps_no_mix_for_an_unrelated_reference():
    rng = np.random.default_rng(8)
    refs = [rng.integers(-40, 41, (1, 5000)) for _ in range(4)]
    parts = [(np.floor(rng.laplace(0, 2.0, 5000) + 0.5).astype(np.int64), np.zeros(5000),
              np.full(5000, ZERO_INDEX + 6, np.int64)) for _ in refs]
    assert plan_fit.plan(parts, references=refs).mix == (0,)


def test_part_mixes_round_trip_and_are_range_checked():
    plans = [plan_format.Plan(True, (30,), tuple((8, i, 0) for i in range(8)), (3,),
                             ((), (1, -2, 3, 64), (0, 0, 0, 0), tuple(range(-4, 4))))]
    enc = ValueEncoder()
    plan_format.write_plans(enc, plans)
    dec = ValueDecoder(enc.finish())
    assert plan_format.read_plans(dec, 1, 4, references=1, part_references=[0, 4, 4, 8]) == plans
    bad = plan_format.Plan(False, (), ((8, 0, 0),), (), ((65,),))
    enc = ValueEncoder()
    plan_format.write_plans(enc, [bad])
    with pytest.raises(EntropyError, match="mix"):
        plan_format.read_plans(ValueDecoder(enc.finish()), 1, 1, part_references=[1])


def test_an_empty_group_still_sends_every_weight_the_reader_expects():
    """A subband with no values (tiny images) still writes its plan in full."""
    empty = [(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))] * 4
    counts = [0, 4, 4, 8]
    plan = plan_fit.plan(empty, references=[np.zeros((2, 0), np.int64)] * 4,
                           part_references=[np.zeros((c, 0), np.int64) for c in counts])
    enc = ValueEncoder()
    plan_format.write_plans(enc, [plan])
    assert plan_format.read_plans(ValueDecoder(enc.finish()), 1, 4, references=2,
                                 part_references=counts) == [plan]


def test_gains_round_trip_and_are_range_checked():
    plans = [plan_format.Plan(False, (), ((8, 0, 0),), (), ((), (0,)), (4, 0, 32)),
             plan_format.Plan(False, (), ((8, 0, 0),), (), ((), (0,)), (0, 0, 0))]
    enc = ValueEncoder()
    plan_format.write_plans(enc, plans)
    dec = ValueDecoder(enc.finish())
    assert plan_format.read_plans(dec, 2, 2, part_references=[0, 1], activities=3) == plans
    enc = ValueEncoder()
    plan_format.write_plans(enc, [plans[0]._replace(gains=(0, 33, 0))])
    with pytest.raises(EntropyError, match="gains"):
        plan_format.read_plans(ValueDecoder(enc.finish()), 1, 2, part_references=[0, 1], activities=3)


def test_activity_index_is_exact_and_clamped():
    """floor(6 log2(1 + a)) from integers alone, the same on every machine."""
    a = np.array([0, 1, 3, 7, 63, 1023, 5000, -2])
    assert plan_format.activity_index(a).tolist() == [0, 6, 12, 18, 36, 60, 60, 0]
    x = np.arange(0, 1024)
    want = [max(L for L in range(61) if 2 ** L <= (1 + int(v)) ** 6) for v in x]
    assert plan_format.activity_index(x).tolist() == want


def test_plan_finds_a_gain_for_activity_the_model_missed():
    """Values whose scale doubles with every octave of a side activity that
    the model's scale ignores: the plan takes a gain and codes them in fewer
    bits than without the activity."""
    rng = np.random.default_rng(3)
    parts, acts = [], []
    for _ in range(2):
        act = np.exp2(rng.uniform(0, 10, 20000)).astype(np.int64) - 1
        sigma = 0.5 * (1 + act) ** 0.5
        parts.append((np.floor(rng.laplace(0, sigma) + 0.5).astype(np.int64), np.zeros(act.size),
                      np.full(act.size, ZERO_INDEX + 12, np.int64)))
        acts.append(np.stack([act, np.zeros_like(act)]))
    plain = plan_fit.plan(parts)
    active = plan_fit.plan(parts, activities=acts)
    assert active.gains == (8, 0)
    bits = lambda p, a=None: plan_fit.side_bits(p) + sum(plan_fit.plan_bits(p, parts, None, activities=a))
    assert bits(active, acts) < 0.95 * bits(plain)


def test_plan_fits_its_adjustment_under_the_mix_as_the_coder_applies_it():
    """The coder adds the mix after scaling the mean by a/8; a model whose
    means are twice too large and a reference that carries the rest: the
    plan halves the means and mixes the reference in whole, and the values
    cost little."""
    rng = np.random.default_rng(4)
    n = 20000
    mu = rng.normal(0, 40, n)
    x = rng.integers(-30, 30, n)
    v = np.floor(mu / 2 + x + 0.5).astype(np.int64)
    parts = [(v, mu, np.full(n, ZERO_INDEX - 6, np.int64))]
    p = plan_fit.plan(parts, references=[x[None]])
    assert p.mix == (16,) and p.adjustments[0][0] == 4
    assert sum(plan_fit.plan_bits(p, parts, None, references=[x[None]])) / n < 1.5


@pytest.mark.parametrize("seed", range(6))
def test_coder_parameters_are_the_arrays_under_the_coding_formula(seed):
    """Plan.coder_parameters (one compiled loop, what the codec calls) gives
    the integer means and scale indices that Plan.arrays and
    context_model.coding_parameters give together, for random plans with and
    without thresholds, per-part tables, mixes, part mixes and gains."""
    import torch
    from iwave.entropy.context_model import coding_parameters, scale_index_base
    rng = np.random.default_rng(seed)
    n, parts = 300, 4
    n_thr = int(rng.integers(0, 4))
    thresholds = tuple(sorted(int(t) for t in rng.choice(np.arange(ZERO_INDEX - 40, ZERO_INDEX + 40),
                                                          n_thr, replace=False)))
    per_part = bool(rng.integers(2))
    adjustments = tuple((int(rng.integers(0, 17)), int(rng.integers(-50, 51)), int(rng.integers(-9, 10)))
                        for _ in range((parts if per_part else 1) * (n_thr + 1)))
    mix = tuple(int(w) for w in rng.integers(-64, 65, size=int(rng.integers(0, 3))))
    part_mix = tuple(tuple(int(w) for w in rng.integers(-8, 9, size=4)) if rng.integers(2) else ()
                     for _ in range(parts)) if seed % 2 else ()
    gains = tuple(int(g) for g in rng.integers(-32, 33, size=3)) if seed % 3 else ()
    plan = plan_format.Plan(per_part, thresholds, adjustments, mix, part_mix, gains)
    mean = torch.from_numpy(rng.integers(-2 ** 20, 2 ** 20, n) / 1024.0)
    log2_scale = torch.from_numpy(rng.integers(-8 * 1024, 20 * 1024, n) / 1024.0)
    references = rng.integers(-300, 300, (len(mix), n))
    activities = rng.integers(0, 2000, (3, n))
    for p in range(parts):
        part_refs = rng.integers(-50, 50, (len(part_mix[p]) if part_mix else 0, n))
        kbase = scale_index_base(log2_scale).to(torch.int64).numpy()
        adj = tuple(torch.from_numpy(x) for x in plan.arrays(p, kbase, references, part_refs, activities))
        want = coding_parameters(mean, log2_scale, adj, 4)
        got = plan.coder_parameters(p, mean.numpy(), log2_scale.numpy(), 4, references, part_refs, activities)
        assert np.array_equal(got[0], want[0].numpy()) and np.array_equal(got[1], want[1].numpy())


def test_zero_group_flags_round_trip_and_malformed_flags_are_corrupt():
    for zero in ([False] * 5, [False, True, False, True, True], [True]):
        enc = ValueEncoder()
        plan_format.write_zero_groups(enc, zero)
        dec = ValueDecoder(enc.finish())
        assert plan_format.read_zero_groups(dec, len(zero)) == zero
        dec.check_end()
    values, _ = plan_format.zero_group_side([False] * 16)
    assert values.tolist() == [0]            # no subband of zeros: one flag, no more

    def stream(values):
        enc = ValueEncoder()
        scales = np.full(len(values), ZERO_INDEX + plan_format.ZERO_GROUP_SCALE)
        scales[0] = ZERO_INDEX + plan_format.ZERO_ANY_SCALE
        enc.add(values, np.zeros(len(values), np.int64), scales)
        return ValueDecoder(enc.finish())
    for values in ([2, 0, 0], [1, 0, 2], [1, 0, 0], [-1, 1, 1]):    # bad "any", bad flag, "any" for none
        with pytest.raises(EntropyError, match="zero-group"):
            plan_format.read_zero_groups(stream(values), 2)
