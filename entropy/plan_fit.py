"""Fitting coding plans (the encoder's side of entropy.plan_format): the bits a
value costs under the coder's tables, the search for the (a, f, s)
adjustments, scale classes, mixes and gains that code a group of values in
the fewest bits, the plan's own integers included."""
from functools import lru_cache

from dataclasses import dataclass

import numba as nb
import numpy as np

from iwave.entropy.laplace_coder import coded_value
from iwave.entropy.plan_format import (IDENTITY, IDENTITY_PLAN, MIX_MAX, OFFSET_MAX, SHIFT_MAX, SLOPE_MAX,
                                 THRESHOLD_MAX, Plan, activity_index, log_activity_shift, side_of)
from iwave.entropy.tables import (MAX_SCALE_INDEX, PROB_BITS, SCALE_STEPS_PER_OCTAVE, ZERO_INDEX, load_tables,
                            resolution_of)

FIT_SAMPLES = 8192       # the fit looks at most at this many values of a group
PLAN_CLASSES = (1, 2, 4)     # the numbers of scale classes the encoder tries
MIX_MIN_GAIN_BITS = 16.0     # a mix is kept only if it saves more than this (estimated)
GAIN_STEPS = (4, 8, 12)      # the gains the encoder tries for each activity, in turn
GAIN_MIN_VALUES = 4096       # smaller groups keep zero gains: they rarely pay for the search


@dataclass(frozen=True)
class Search:
    """How hard `plan` searches: it fits on an evenly spaced sample of about
    `samples` values of a group, tries each number of scale `classes`, and
    raises each activity's gain through `gain_steps` (groups of fewer than
    `gain_min_values` values keep zero gains). The encoder's effort levels
    choose one; the decoder reads any plan the same way."""
    samples: int = FIT_SAMPLES
    classes: tuple = PLAN_CLASSES
    gain_steps: tuple = GAIN_STEPS
    gain_min_values: int = GAIN_MIN_VALUES


DEFAULT_SEARCH = Search()


@nb.njit(cache=True)
def _value_bits(v, m, k, cost, radius, quarters):
    """Bits the coder spends on integer v with integer mean m (in quarters
    if `quarters`) and scale index k, from the tables' symbol costs (escapes
    and raw bits counted as the coder sends them)."""
    t, s, b, _, nbits, _ = coded_value(v, m, k, radius, quarters)
    return cost[t, s] + b + (6 + nbits if nbits >= 0 else 0)


@nb.njit(cache=True)
def _adjusted_bits(v, mean, kbase, a, f, s, cost, radius, resolution, offset=0.0):
    """Bits of integer v under the model's mean and scale index remapped by
    (a, f, s) as context_model.coding_parameters remaps them (`offset`: a
    plan's mixes, added after the mean is scaled)."""
    m = np.int64(np.floor((mean * (a / 8.0) + f / 8.0 + offset) * resolution + 0.5))
    k = min(max(kbase + s, 0), MAX_SCALE_INDEX)
    return _value_bits(v, m, k, cost, radius, resolution == 4)


@nb.njit(cache=True)
def _bits(values, means, offsets, kbase, a, f, s, cost, radius, resolution):
    """Bits the coder spends on `values` under adjustment (a, f, s)."""
    total = 0.0
    for i in range(values.shape[0]):
        total += _adjusted_bits(values[i], means[i], kbase[i], a, f, s, cost, radius, resolution,
                                offsets[i])
    return total


@nb.njit(cache=True)
def _each_value_bits(values, m, k, cost, radius, quarters):
    out = np.empty(values.shape[0])
    for i in range(values.shape[0]):
        out[i] = _value_bits(values[i], m[i], k[i], cost, radius, quarters)
    return out


def value_bits(values, m, k, tables=None):
    """Bits of each integer value under the coder's integer means `m` and
    scale indices `k` (as entropy.context_model.coding_parameters gives them
    for these tables' mean resolution)."""
    cost, radius, resolution = _symbol_costs(tables)
    flat = lambda t: np.ascontiguousarray(t, dtype=np.int64).reshape(-1)
    return _each_value_bits(flat(values), flat(m), flat(k), cost, radius,
                            resolution == 4).reshape(np.shape(values))


def _symbol_costs(tables=None):
    """Bits of every symbol of every table (default: the Laplace tables),
    the radii and the mean resolution they serve."""
    if tables is None:
        return _laplace_costs()
    return _costs(tables)


@lru_cache(maxsize=1)
def _laplace_costs():
    return _table_costs(load_tables())


_last_costs = [None, None]    # (tables, their costs): the codec asks for one model's many times


def _costs(tables):
    if _last_costs[0] is tables:
        return _last_costs[1]
    _last_costs[:] = tables, _table_costs(tables)
    return _last_costs[1]


def _table_costs(tables):
    cum, radius = tables
    freq = np.maximum(np.diff(cum, axis=1), 1)
    return PROB_BITS - np.log2(freq), radius, resolution_of(cum)


_MOVES = np.array([[4, 2, 1, 0, 0], [16, 8, 4, 2, 1], [6, 3, 1, 0, 0]], dtype=np.int64)
_LIMITS = np.array([[0, SLOPE_MAX], [-OFFSET_MAX, OFFSET_MAX], [-SHIFT_MAX, SHIFT_MAX]],
                   dtype=np.int64)


@nb.njit(inline="always")
def _point(a, f, s):
    """One integer for an adjustment (a, f, s) within _LIMITS."""
    return (a * 4096 + f + 2048) * 256 + s + 128


@nb.njit(cache=True)
def _search(v, mu, off, kb, cost, radius, resolution, moves, limits):
    """Pattern search from the identity: each parameter in turn (offset first,
    as a bias is the commonest mismatch), moves shrinking, twice round. A
    point already evaluated is not evaluated again (the search often steps
    back to where it came from): the same numbers, fewer passes over v."""
    best = np.array([8, 0, 0], dtype=np.int64)
    base = _bits(v, mu, off, kb, best[0], best[1], best[2], cost, radius, resolution)
    best_bits = base
    seen = {_point(best[0], best[1], best[2]): base}
    trial = best.copy()
    for _ in range(2):
        for i in (1, 0, 2):
            for d in moves[i]:
                if d == 0:
                    continue
                improved = True
                while improved:
                    improved = False
                    for sign in (1, -1):
                        trial[:] = best
                        trial[i] = min(max(trial[i] + sign * d, limits[i, 0]), limits[i, 1])
                        key = _point(trial[0], trial[1], trial[2])
                        if key in seen:
                            bits = seen[key]
                        else:
                            bits = _bits(v, mu, off, kb, trial[0], trial[1], trial[2], cost, radius,
                                         resolution)
                            seen[key] = bits
                        if bits < best_bits:
                            best[:] = trial
                            best_bits = bits
                            improved = True
    return best, base, best_bits


def bits(values, means, kbase, adjustment=IDENTITY, tables=None):
    """Bits the coder spends on integer `values` given float `means`,
    unclamped scale indices `kbase` and an adjustment (a, f, s)."""
    cost, radius, resolution = _symbol_costs(tables)
    a, f, s = adjustment
    means = np.ascontiguousarray(means, dtype=np.float64).reshape(-1)
    return _bits(np.ascontiguousarray(values, dtype=np.int64).reshape(-1), means, np.zeros_like(means),
                 np.ascontiguousarray(kbase, dtype=np.int64).reshape(-1), a, f, s, cost, radius,
                 resolution)


def fit(values, means, kbase, min_gain_bits=24.0, tables=None, samples=FIT_SAMPLES):
    """Adjustment (a, f, s) that minimises the bits of integer `values` whose
    model gives float `means` and unclamped scale indices `kbase`
    (floor(6 log2 sigma + 1/2) + ZERO_INDEX), searched on an evenly spaced
    sample of about `samples` values. The identity is kept unless the change
    saves more than `min_gain_bits` on the whole group (the integers cost a
    few bits)."""
    n = values.size
    if n == 0:
        return IDENTITY
    stride = max(1, n // max(samples, 1))
    at = spread(n, stride)
    sample = (values.reshape(-1)[at], means.reshape(-1)[at], kbase.reshape(-1)[at])
    return _fit_sample(*sample, n / sample[0].size, _symbol_costs(tables), min_gain_bits)[0]


def _fit_sample(v, mu, kb, weight, costs, min_gain_bits=24.0, offsets=None):
    """fit on a sample whose values each stand for `weight` values of the
    group: the adjustment and the group's estimated bits under it
    (`offsets`: added to the means after the adjustment scales them)."""
    if v.size == 0:
        return IDENTITY, 0.0
    v = np.ascontiguousarray(v, dtype=np.int64)
    mu = np.ascontiguousarray(mu, dtype=np.float64)
    kb = np.ascontiguousarray(kb, dtype=np.int64)
    off = np.zeros_like(mu) if offsets is None else np.ascontiguousarray(offsets, dtype=np.float64)
    best, base, best_bits = _search(v, mu, off, kb, *costs, _MOVES, _LIMITS)
    if (base - best_bits) * weight < min_gain_bits:
        return IDENTITY, base * weight
    return tuple(int(x) for x in best), best_bits * weight


_GOLDEN = (5 ** 0.5 - 1) / 2


def spread(size, stride):
    """Indices of about size/stride of `size` values: one in each run of
    `stride`, at an offset that moves by the golden ratio from run to run.
    As even as every stride-th value, but a plain stride that divides a
    subband's width samples the same few columns in every row (at 1,024
    samples, two columns of a 16-bit scan's finest subband: plans fitted to
    them coded the scans 60% larger)."""
    if stride <= 1:
        return np.arange(size)
    runs = np.arange(-(-size // stride))
    offsets = np.floor((runs * _GOLDEN) % 1.0 * stride).astype(np.int64)
    return np.minimum(runs * stride + offsets, size - 1)


def _thresholds(kbase, n_classes):
    """Scale indices that split kbase into n_classes about equal classes."""
    if n_classes == 1 or kbase.size == 0:
        return ()
    k = np.sort(kbase)
    cut = {int(np.clip(k[i * k.size // n_classes], ZERO_INDEX - THRESHOLD_MAX,
                       ZERO_INDEX + THRESHOLD_MAX)) for i in range(1, n_classes)}
    return tuple(sorted(cut))


def plan(parts, tables=None, references=None, part_references=None, activities=None,
         search=DEFAULT_SEARCH):
    """The plan that codes `parts` (a list of (values, means, kbase) arrays,
    as `fit` takes them) in the fewest bits, its own integers included: one
    adjustment for all, or one per part, each with 1, 2 or 4 scale classes
    split at quantiles of the group's scale indices; with `references` (per
    part, an (r, n) array of reference values at the same positions as the
    part's n values), also a mix of r weights, fitted by least squares and
    kept if it pays; with `part_references`, a mix per part; with
    `activities` (per part, a (g, n) array of non-negative integers), g
    gains, each raised through the search's gain steps while the whole plan
    gets cheaper. Every plan is fitted on one evenly spaced sample of about
    `search.samples` values and costed on all (`search`: how hard, Search)."""
    parts = [(v, m, k, np.zeros_like(m)) for v, m, k in _flat(parts)]
    n = sum(p[0].size for p in parts)
    r = 0 if references is None else len(references[0])
    if n == 0:
        return IDENTITY_PLAN._replace(mix=(0,) * r, part_mix=tuple(
            (0,) * len(x) for x in part_references) if part_references is not None else (),
            gains=(0,) * len(activities[0]) if activities is not None else ())
    refs = [np.asarray(x, dtype=np.int64).reshape(r, -1) for x in references] if r else None
    stride = max(1, n // search.samples)
    costs = _symbol_costs(tables)
    # the mixes are offsets added after the adjustment scales the mean (Plan.arrays)
    mix = _mix(parts, refs, stride, costs) if r else ()
    if any(mix):
        parts = [(v, m, k, o + (np.array(mix) @ x) / 16) for (v, m, k, o), x in zip(parts, refs)]
    part_mix = ()
    if part_references is not None:
        prefs = [np.asarray(x, dtype=np.int64).reshape(len(x), p[0].size)
                 for p, x in zip(parts, part_references)]
        part_mix = tuple(_mix([p], [x], stride, costs) if len(x) and p[0].size else (0,) * len(x)
                         for p, x in zip(parts, prefs))
        parts = [(v, m, k, o + (np.array(w) @ x) / 16) if any(w) else (v, m, k, o)
                 for (v, m, k, o), x, w in zip(parts, prefs, part_mix)]
    base = Plan(False, (), (), mix, part_mix)
    shapes = [(c, p) for c in search.classes for p in (False, True)]
    if activities is None:
        return _classes(parts, stride, costs, base, shapes)[0]
    base = base._replace(gains=(0,) * len(activities[0]))
    if n < search.gain_min_values:
        return _classes(parts, stride, costs, base, shapes)[0]
    acts = [activity_index(np.asarray(x, dtype=np.int64).reshape(len(x), p[0].size))
            for p, x in zip(parts, activities)]
    return _with_gains(parts, acts, stride, costs, base, shapes, search.gain_steps)


def _with_gains(parts, acts, stride, costs, base, shapes, gain_steps):
    """The plan `base` with gains for the log-activities `acts` (per part,
    (g, n)): each gain in turn raised through `gain_steps` while the refitted
    plan gets cheaper; the trials keep the shape (classes, per part) of the
    best plan without gains among `shapes`."""
    best = _classes(parts, stride, costs, base, shapes)
    shape = [(len(best[0].thresholds) + 1, best[0].per_part)]
    gains = np.zeros(len(acts[0]), dtype=np.int64)
    for j in range(len(gains)):
        if not any(x[j].any() for x in acts):
            continue
        for g in gain_steps:
            trial = gains.copy()
            trial[j] = g
            shifted = [(v, m, k + log_activity_shift(trial, x), o) for (v, m, k, o), x in zip(parts, acts)]
            candidate = _classes(shifted, stride, costs, base._replace(gains=tuple(trial.tolist())),
                                 shape)
            if candidate[1] >= best[1]:
                break
            best, gains = candidate, trial
    return best[0]


def _classes(parts, stride, costs, base, shapes):
    """The best of the plans `base` with its scale classes and adjustments
    fitted, and its bits; `parts` are (values, means, scale indices,
    offsets), the plan's mixes in the offsets and its gains' shifts in the
    scale indices. `shapes`: the (number of classes, per part) tried (all
    by default)."""
    n = sum(p[0].size for p in parts)
    sampled = [tuple(x[spread(p[0].size, stride)] for x in p) for p in parts]
    whole = tuple(np.concatenate([p[i] for p in sampled]) for i in range(4))
    weight = n / whole[0].size
    best, best_bits = None, np.inf
    for n_classes, per_part in shapes:
        thresholds = _thresholds(whole[2], n_classes)
        if len(thresholds) + 1 < n_classes:
            continue
        adjustments = []
        for v, m, k, o in sampled if per_part else [whole]:
            cls = np.searchsorted(np.array(thresholds, dtype=np.int64), k, side="right")
            adjustments += [_fit_sample(v[cls == c], m[cls == c], k[cls == c], weight, costs,
                                        offsets=o[cls == c])[0] for c in range(n_classes)]
        candidate = base._replace(per_part=per_part, thresholds=thresholds,
                                  adjustments=tuple(adjustments))
        unmixed = candidate._replace(mix=(), part_mix=(), gains=())     # folded into parts
        total = side_bits(candidate) + sum(
            _planned_bits(v, m, k, a, f + 8 * o, s_, *costs)
            for i, (v, m, k, o) in enumerate(parts) for a, f, s_ in [unmixed.arrays(i, k)])
        if total < best_bits:
            best, best_bits = candidate, total
    return best, best_bits


def _mix(parts, refs, stride, costs):
    """Mix weights (sixteenths) for predicting the values' residuals from
    their means (and offsets) by the references: weighted least squares on
    a sample (each residual weighted by 1/sigma, as the Laplace bits are),
    rounded; zeros unless they save bits on the sample with one adjustment
    fitted each way."""
    at = [spread(p[0].size, stride) for p in parts]
    v, m, k, o = (np.concatenate([p[i][a] for p, a in zip(parts, at)]) for i in range(4))
    x = np.concatenate([ref[:, a] for ref, a in zip(refs, at)], axis=1).astype(np.float64)
    w = 2.0 ** (-(k - ZERO_INDEX) / SCALE_STEPS_PER_OCTAVE)
    gram = (x * w) @ x.T
    zeros = (0,) * len(x)
    try:                                   # a degenerate sample gives no mix, not an error
        with np.errstate(all="ignore"):
            beta = np.linalg.solve(gram + 1e-9 * (np.trace(gram) + 1) * np.eye(len(x)),
                                   (x * w) @ (v - m - o))
    except np.linalg.LinAlgError:
        return zeros
    if not np.all(np.isfinite(beta)):
        return zeros
    mix = np.clip(np.round(16 * beta), -MIX_MAX, MIX_MAX).astype(np.int64)
    if not mix.any():
        return zeros
    weight = stride
    plain = _fit_sample(v, m, k, weight, costs, offsets=o)[1]
    mixed = _fit_sample(v, m, k, weight, costs, offsets=o + mix @ x / 16)[1]
    return tuple(int(b) for b in mix) if mixed + MIX_MIN_GAIN_BITS < plain else zeros


def plan_bits(plan, parts, tables=None, references=None, part_references=None, activities=None):
    """Bits the coder spends on each of `parts` (as `plan` takes them, with
    their references if the plan mixes any) under `plan`, the plan's own
    integers not counted: a list, one per part."""
    return _plan_bits(plan, _flat(parts), _symbol_costs(tables), references, part_references,
                      activities)


def _flat(parts):
    return [tuple(np.ascontiguousarray(np.reshape(x, -1), dtype=t)
                  for x, t in zip(p, (np.int64, np.float64, np.int64))) for p in parts]


def _plan_bits(plan, parts, costs, references=None, part_references=None, activities=None):
    pick = lambda refs, i: None if refs is None else refs[i]
    return [_planned_bits(v, m, k, *plan.arrays(i, k, pick(references, i), pick(part_references, i),
                                                pick(activities, i)), *costs)
            for i, (v, m, k) in enumerate(parts)]


@nb.njit(cache=True)
def _planned_bits(values, means, kbase, a, f, s, cost, radius, resolution):
    """_bits with an adjustment per value."""
    total = 0.0
    for i in range(values.shape[0]):
        total += _adjusted_bits(values[i], means[i], kbase[i], a[i], f[i], s[i], cost, radius, resolution)
    return total


def integer_bits(side, tables=None):
    """Bits of side integers, (values, scale indices), each coded around 0."""
    values, scales = side
    return float(value_bits(values, np.zeros_like(values), scales, tables).sum())


def side_bits(plan, tables=None):
    return integer_bits(side_of(plan), tables)
