"""Per-image adaptation of the coding parameters.

The context model is trained once, but images differ from its training set:
demosaicked photos, for instance, carry a constant checkerboard that shows up
as a non-zero mean in the finest chroma HH band, and a model can be off in
calibration at some rates. So the encoder fits, for each group of values (the
codec uses one subband of one component), three small integers that remap the
model's (mu, log2 sigma) to the coder's integer mean and scale index:

    m = floor((mu * a/8 + f/8) * resolution + 1/2)     (in units of 1/resolution)
    k = clamp(floor(6 * log2 sigma + 1/2) + ZERO_INDEX + s, 0, MAX_SCALE_INDEX)

and sends them at the start of the stream. (a, f, s) = (8, 0, 0) is the
model's own output. Only the mapping to integers changes, never the context
model's inputs, so the encoder can fit after one pass of the model and the
decoder needs nothing but the integers.

A model's miscalibration need not be the same everywhere in a group: the
parts coded one after another (the codec's four phases, which see different
contexts) or values of small and of large predicted scale can be off by
different amounts. So a group's adjustments follow a `Plan`: one set for the
whole group or one per part, and within each, one per scale class (values
split by their unadjusted scale index at up to three thresholds). The encoder
tries a few plans and keeps the one that makes the group's values and the
plan's own integers smallest (`plan`); a small image or a well-calibrated
model keeps the single set.
"""
from functools import lru_cache
from typing import NamedTuple

import numba as nb
import numpy as np

from entropy.laplace_coder import EntropyError, coded_value
from entropy.tables import (MAX_SCALE_INDEX, PROB_BITS, SCALE_STEPS_PER_OCTAVE, ZERO_INDEX,
                            load_tables, resolution_of)

IDENTITY = (8, 0, 0)
SLOPE_MAX = 16           # a in 0..16: the mean scaled by 0 to 2 in eighths
OFFSET_MAX = 1024        # |f| <= 1024: the mean moved by up to 128
SHIFT_MAX = 60           # |s| <= 60: the scale moved by up to 10 octaves
FIT_SAMPLES = 8192       # the fit looks at most at this many values of a group
SIGNAL_SCALE = ZERO_INDEX    # version 3's adjustments are coded as Laplace(0, 1) values
PLAN_CLASSES = (1, 2, 4)     # the numbers of scale classes the encoder tries
MAX_THRESHOLDS = 3
THRESHOLD_MAX = 480          # |threshold - ZERO_INDEX|: scales of 2**-80 to 2**80
MIX_MAX = 64                 # |mix| <= 64: a reference weighs at most 4
MIX_MIN_GAIN_BITS = 16.0     # a mix is kept only if it saves more than this (estimated)
GAIN_MAX = 32                # scale gains in sixteenths: an activity octave moves sigma by at most 2 octaves
GAIN_STEPS = (4, 8, 12)      # the gains the encoder tries for each activity, in turn
GAIN_MIN_VALUES = 4096       # smaller groups keep zero gains: they rarely pay for the search


class SideCode(NamedTuple):
    """How a plan's integers are coded: the scale index, as an offset from
    ZERO_INDEX (6 per octave of the Laplace scale), of each kind of integer,
    and whether each part's neighbour mix has its own 'used' flag (else one
    flag covers them all)."""
    flags: int              # per_part, the number of thresholds, the gains' flag
    thresholds: int         # each threshold less the previous one
    mix: int                # weights of the earlier components
    part_flags: bool
    part_flag: int
    part_mix: int           # weights of the neighbours
    gains: int
    slope: int              # a - 8
    offset: int             # f
    shift: int              # s


# Files of version 5: everything Laplace(0, 1) but the thresholds (0, 8) and weights (0, 4).
V5_SIDE = SideCode(0, 18, 12, False, 0, 12, 12, 0, 0, 0)
# Since version 6: each kind at the scale that codes it in the fewest bits
# (under iwave-lossy's tables, 40 training crops at steps 12 to 320, plans as
# the encoder then chooses them: `python -m train.side_scales
# weights/iwave-lossy.npz DATA` finds every kind at its best): flags and
# offsets are mostly zero, neighbour weights widely spread. Whole files of five
# held-out photos are 3.5% smaller at step 320, 1.2% at 125, 0.1% at 12 than
# with version 5's code.
SIDE = SideCode(-16, 22, -7, True, -12, 11, 8, -1, -12, 4)

ACTIVITY_MAX = 1023
# floor(6 log2 x) for x = 1 .. ACTIVITY_MAX + 1, exact (integer arithmetic), so
# every machine derives the same scale indices from the same activities
_LOG6 = np.array([0] + [(x ** 6).bit_length() - 1 for x in range(1, ACTIVITY_MAX + 2)], dtype=np.int64)


def activity_index(activities):
    """Integer log-activity, floor(6 log2(1 + a)) for a clamped to 0..ACTIVITY_MAX,
    of non-negative integer activities (any shape): on the scale indices' grid."""
    return _LOG6[np.clip(np.asarray(activities, dtype=np.int64), 0, ACTIVITY_MAX) + 1]


def activity_shift(gains, activities):
    """The scale-index shift floor((sum_j gains[j] * L_j + 8) / 16) of values whose
    activities (len(gains), n) have log-activities L_j (activity_index)."""
    return _shift(gains, activity_index(np.asarray(activities, dtype=np.int64).reshape(len(gains), -1)))


def _shift(gains, log_activities):
    return (np.asarray(gains, dtype=np.int64) @ log_activities + 8) // 16


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


@nb.njit(cache=True)
def _search(v, mu, off, kb, cost, radius, resolution, moves, limits):
    """Pattern search from the identity: each parameter in turn (offset first,
    as a bias is the commonest mismatch), moves shrinking, twice round."""
    best = np.array([8, 0, 0], dtype=np.int64)
    base = _bits(v, mu, off, kb, best[0], best[1], best[2], cost, radius, resolution)
    best_bits = base
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
                        bits = _bits(v, mu, off, kb, trial[0], trial[1], trial[2], cost, radius,
                                     resolution)
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
    sample = (values.reshape(-1)[::stride], means.reshape(-1)[::stride], kbase.reshape(-1)[::stride])
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


def write(encoder, adjustments):
    """Queue a list of (a, f, s) on a ValueEncoder, before the values they
    govern, as version 3 files have them (one per subband)."""
    flat = np.array([(a - 8, f, s) for a, f, s in adjustments], dtype=np.int64).reshape(-1)
    encoder.add(flat, np.zeros_like(flat), np.full_like(flat, SIGNAL_SCALE))


def read(decoder, count):
    """The `count` adjustments `write` queued, checked to be in range."""
    zeros = np.zeros(3 * count, dtype=np.int64)
    flat = decoder.decode(zeros, zeros + SIGNAL_SCALE).reshape(count, 3)
    return [_checked(a + 8, f, s) for a, f, s in flat.tolist()]


def _checked(a, f, s):
    """A read adjustment, or EntropyError if it is out of range."""
    if not (0 <= a <= SLOPE_MAX and abs(f) <= OFFSET_MAX and abs(s) <= SHIFT_MAX):
        raise EntropyError("coding adjustment out of range")
    return a, f, s


class Plan(NamedTuple):
    """The adjustments of one group of values made of `parts` coded one after
    another: `adjustments` holds, part by part (one shared part unless
    `per_part`), one (a, f, s) per scale class; a value's class is the number
    of `thresholds` (increasing) at or below its unadjusted scale index.
    `mix` adds sum_j mix[j]/16 * x_j to every mean, where x_j are the values
    of reference j at the same position (the codec's references are the
    earlier colour components: a linear inter-component prediction that the
    small context model leaves partly unused). `part_mix` does the same per
    part with its own references (the codec's: residuals of coded neighbours).
    `gains` move every scale index by activity_shift of the value's
    activities (the codec's: magnitudes of nearby residuals), before the
    value's scale class is found: a local busyness that the context model
    also underuses."""
    per_part: bool
    thresholds: tuple
    adjustments: tuple
    mix: tuple = ()
    part_mix: tuple = ()
    gains: tuple = ()

    def arrays(self, part, kbase, references=None, part_references=None, activities=None):
        """(a, f, s) of every value of part `part`, given their unadjusted
        scale indices and, if the plan has a mix, the (len(mix), n) values
        of its references (part_references, activities: the same for
        part_mix and gains): int64 a and s, float64 f (the mix folded into
        the offset, f + sum_j mix[j] x_j / 2, exact in float64)."""
        n_classes = len(self.thresholds) + 1
        first = (part if self.per_part else 0) * n_classes
        table = np.array(self.adjustments[first:first + n_classes], dtype=np.int64).reshape(-1, 3)
        kbase = np.asarray(kbase, dtype=np.int64)
        shift = 0
        if any(self.gains):
            shift = activity_shift(self.gains, activities).reshape(kbase.shape)
            kbase = kbase + shift
        cls = np.searchsorted(np.array(self.thresholds, dtype=np.int64), kbase, side="right")
        a, f, s = (table[cls, i] for i in range(3))
        s = s + shift
        f = f.astype(np.float64)
        part_mix = self.part_mix[part] if self.part_mix else ()
        for w, x in ((self.mix, references), (part_mix, part_references)):
            if any(w):
                x = np.asarray(x, dtype=np.int64).reshape(len(w), -1)
                f = f + (np.array(w, dtype=np.int64) @ x).reshape(f.shape) / 2
        return a, f, s


IDENTITY_PLAN = Plan(False, (), (IDENTITY,))


def single(adjustment):
    """The plan of one adjustment for the whole group (files of version 3)."""
    return Plan(False, (), (tuple(adjustment),))


def _thresholds(kbase, n_classes):
    """Scale indices that split kbase into n_classes about equal classes."""
    if n_classes == 1 or kbase.size == 0:
        return ()
    k = np.sort(kbase)
    cut = {int(np.clip(k[i * k.size // n_classes], ZERO_INDEX - THRESHOLD_MAX,
                       ZERO_INDEX + THRESHOLD_MAX)) for i in range(1, n_classes)}
    return tuple(sorted(cut))


def side_integers(plan, part_flags=True):
    """The integers that send `plan`, in order, and the kind of each (a
    SideCode field name); `part_flags` as in SideCode."""
    out = [(int(plan.per_part), "flags"), (len(plan.thresholds), "flags")]
    previous = ZERO_INDEX
    for t in plan.thresholds:
        out.append((t - previous, "thresholds"))
        previous = t
    out += [(w, "mix") for w in plan.mix]
    # a 'used' flag, then the weights only if any is used
    if part_flags:
        flagged = [(w, "part_flag", "part_mix") for w in plan.part_mix if w]
    else:
        flagged = [(sum(plan.part_mix, ()), "flags", "part_mix")] if plan.part_mix else []
    if plan.gains:
        flagged.append((plan.gains, "flags", "gains"))
    for weights, flag, kind in flagged:
        used = any(weights)
        out += [(int(used), flag)] + ([(w, kind) for w in weights] if used else [])
    for a, f, s in plan.adjustments:
        out += [(a - 8, "slope"), (f, "offset"), (s, "shift")]
    return out


def _side(plan, code=None):
    """The integers that send `plan` and the scale index each is coded with,
    under the SideCode `code` (default SIDE, what files are written with)."""
    code = code or SIDE
    pairs = side_integers(plan, code.part_flags)
    return (np.array([v for v, _ in pairs], dtype=np.int64),
            np.array([ZERO_INDEX + getattr(code, k) for _, k in pairs], dtype=np.int64))


def plan(parts, tables=None, references=None, part_references=None, activities=None):
    """The plan that codes `parts` (a list of (values, means, kbase) arrays,
    as `fit` takes them) in the fewest bits, its own integers included: one
    adjustment for all, or one per part, each with 1, 2 or 4 scale classes
    split at quantiles of the group's scale indices; with `references` (per
    part, an (r, n) array of reference values at the same positions as the
    part's n values), also a mix of r weights, fitted by least squares and
    kept if it pays; with `part_references`, a mix per part; with
    `activities` (per part, a (g, n) array of non-negative integers), g
    gains, each raised through GAIN_STEPS while the whole plan gets cheaper.
    Every plan is fitted on one evenly spaced sample of about FIT_SAMPLES
    values and costed on all."""
    parts = [(v, m, k, np.zeros_like(m)) for v, m, k in _flat(parts)]
    n = sum(p[0].size for p in parts)
    r = 0 if references is None else len(references[0])
    if n == 0:
        return IDENTITY_PLAN._replace(mix=(0,) * r, part_mix=tuple(
            (0,) * len(x) for x in part_references) if part_references is not None else (),
            gains=(0,) * len(activities[0]) if activities is not None else ())
    refs = [np.asarray(x, dtype=np.int64).reshape(r, -1) for x in references] if r else None
    stride = max(1, n // FIT_SAMPLES)
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
    if activities is None:
        return _classes(parts, stride, costs, base)[0]
    base = base._replace(gains=(0,) * len(activities[0]))
    if n < GAIN_MIN_VALUES:
        return _classes(parts, stride, costs, base)[0]
    acts = [activity_index(np.asarray(x, dtype=np.int64).reshape(len(x), p[0].size))
            for p, x in zip(parts, activities)]
    return _with_gains(parts, acts, stride, costs, base)


def _with_gains(parts, acts, stride, costs, base):
    """The plan `base` with gains for the log-activities `acts` (per part,
    (g, n)): each gain in turn raised through GAIN_STEPS while the refitted
    plan gets cheaper; the trials keep the shape (classes, per part) of the
    plan without gains."""
    best = _classes(parts, stride, costs, base)
    shape = [(len(best[0].thresholds) + 1, best[0].per_part)]
    gains = np.zeros(len(acts[0]), dtype=np.int64)
    for j in range(len(gains)):
        if not any(x[j].any() for x in acts):
            continue
        for g in GAIN_STEPS:
            trial = gains.copy()
            trial[j] = g
            shifted = [(v, m, k + _shift(trial, x), o) for (v, m, k, o), x in zip(parts, acts)]
            candidate = _classes(shifted, stride, costs, base._replace(gains=tuple(trial.tolist())),
                                 shape)
            if candidate[1] >= best[1]:
                break
            best, gains = candidate, trial
    return best[0]


def _classes(parts, stride, costs, base, shapes=None):
    """The best of the plans `base` with its scale classes and adjustments
    fitted, and its bits; `parts` are (values, means, scale indices,
    offsets), the plan's mixes in the offsets and its gains' shifts in the
    scale indices. `shapes`: the (number of classes, per part) tried (all
    by default)."""
    n = sum(p[0].size for p in parts)
    sampled = [tuple(x[::stride] for x in p) for p in parts]
    whole = tuple(np.concatenate([p[i] for p in sampled]) for i in range(4))
    weight = n / whole[0].size
    best, best_bits = None, np.inf
    for n_classes, per_part in shapes or [(c, p) for c in PLAN_CLASSES for p in (False, True)]:
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
        total = _side_bits(candidate) + sum(
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
    v, m, k, o = (np.concatenate([p[i][::stride] for p in parts]) for i in range(4))
    x = np.concatenate([ref[:, ::stride] for ref in refs], axis=1).astype(np.float64)
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
        total += _adjusted_bits(values[i], means[i], kbase[i], a[i], f[i], s[i], cost, radius,
                                resolution)
    return total


def _side_bits(plan):
    values, scales = _side(plan)
    return float(value_bits(values, np.zeros_like(values), scales).sum())


def write_plans(encoder, plans, code=None):
    """Queue a list of plans on a ValueEncoder, before the values they govern
    (`code`: the SideCode, default SIDE)."""
    sides = [_side(p, code) for p in plans]
    values = np.concatenate([s[0] for s in sides])
    encoder.add(values, np.zeros_like(values), np.concatenate([s[1] for s in sides]))


def _read(decoder, scale, count=1):
    zeros = np.zeros(count, dtype=np.int64)
    return decoder.decode(zeros, zeros + ZERO_INDEX + scale).tolist()


def _read_flagged(decoder, counts, flag_scale, scale, what):
    """Weights of these lengths as one flag and, if it is 1, the weights
    (zeros otherwise), as _side writes them."""
    used = _read(decoder, flag_scale)[0]
    if used not in (0, 1):
        raise EntropyError(f"coding plan {what} flag out of range")
    flat = _read(decoder, scale, sum(counts)) if used else [0] * sum(counts)
    starts = np.cumsum([0] + list(counts)).tolist()
    return tuple(tuple(flat[a:b]) for a, b in zip(starts, starts[1:]))


def read_plans(decoder, count, parts, references=0, part_references=None, activities=0, code=None):
    """The `count` plans `write_plans` queued, for groups of `parts` parts
    with `references` references (part_references: a count per part;
    activities: the number of gains), under the SideCode `code` (default
    SIDE; V5_SIDE for files of version 5 and before), checked to be well
    formed (EntropyError otherwise)."""
    code = code or SIDE
    out = []
    for _ in range(count):
        per_part, n_thresholds = _read(decoder, code.flags, 2)
        if per_part not in (0, 1) or not 0 <= n_thresholds <= MAX_THRESHOLDS:
            raise EntropyError("coding plan out of range")
        thresholds, previous = [], ZERO_INDEX
        for step in _read(decoder, code.thresholds, n_thresholds):
            previous += step
            if (thresholds and step <= 0) or abs(previous - ZERO_INDEX) > THRESHOLD_MAX:
                raise EntropyError("coding plan thresholds out of order or range")
            thresholds.append(previous)
        mix = tuple(_read(decoder, code.mix, references))
        counts = list(part_references or ())
        if code.part_flags:
            part_mix = tuple(_read_flagged(decoder, [r], code.part_flag, code.part_mix, "mix")[0]
                             if r else () for r in counts)
        else:
            part_mix = _read_flagged(decoder, counts, code.flags, code.part_mix, "mix") if counts else ()
        if any(abs(b) > MIX_MAX for b in mix + sum(part_mix, ())):
            raise EntropyError("coding plan mix out of range")
        gains = _read_flagged(decoder, [activities], code.flags, code.gains, "gain")[0] if activities else ()
        if any(abs(g) > GAIN_MAX for g in gains):
            raise EntropyError("coding plan gains out of range")
        n = (parts if per_part else 1) * (n_thresholds + 1)
        scales = ZERO_INDEX + np.tile([code.slope, code.offset, code.shift], n)
        flat = decoder.decode(np.zeros_like(scales), scales).tolist()
        adjustments = [_checked(flat[3 * i] + 8, flat[3 * i + 1], flat[3 * i + 2]) for i in range(n)]
        out.append(Plan(bool(per_part), tuple(thresholds), tuple(adjustments), mix, part_mix, gains))
    return out
