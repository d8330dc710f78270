"""Coding plans: how the encoder's per-image adjustments of the coding
parameters are laid out, sent and read. (entropy.plan_fit finds them; the
decoder needs only this module.)

Per-image adaptation of the coding parameters.

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
plan's own integers smallest (entropy.plan_fit.plan); a small image or a
well-calibrated model keeps the single set.
"""
from typing import NamedTuple

import numba as nb
import numpy as np

from iwave.entropy.laplace_coder import EntropyError
from iwave.entropy.tables import MAX_SCALE_INDEX, SCALE_STEPS_PER_OCTAVE, ZERO_INDEX

IDENTITY = (8, 0, 0)
SLOPE_MAX = 16           # a in 0..16: the mean scaled by 0 to 2 in eighths
OFFSET_MAX = 1024        # |f| <= 1024: the mean moved by up to 128
SHIFT_MAX = 60           # |s| <= 60: the scale moved by up to 10 octaves
SIGNAL_SCALE = ZERO_INDEX    # version 3's adjustments are coded as Laplace(0, 1) values
MAX_THRESHOLDS = 3
THRESHOLD_MAX = 480          # |threshold - ZERO_INDEX|: scales of 2**-80 to 2**80
MIX_MAX = 64                 # |mix| <= 64: a reference weighs at most 4
GAIN_MAX = 32                # scale gains in sixteenths: an activity octave moves sigma by at most 2 octaves


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
# the encoder then chooses them: `python -m iwave.train.side_scales
# weights/iwave-lossy.npz DATA` finds every kind at its best): flags and
# offsets are mostly zero, neighbour weights widely spread. Whole files of five
# held-out photos are 3.5% smaller at step 320, 1.2% at 125, 0.1% at 12 than
# with version 5's code.
SIDE = SideCode(-16, 22, -7, True, -12, 11, 8, -1, -12, 4)

ACTIVITY_MAX = 1023
# floor(6 log2 x) for x = 1 .. ACTIVITY_MAX + 1, exact (integer arithmetic), so
# every machine derives the same scale indices from the same activities
LOG6 = np.array([0] + [(x ** 6).bit_length() - 1 for x in range(1, ACTIVITY_MAX + 2)], dtype=np.int64)


def activity_index(activities):
    """Integer log-activity, floor(6 log2(1 + a)) for a clamped to 0..ACTIVITY_MAX,
    of non-negative integer activities (any shape): on the scale indices' grid."""
    return LOG6[np.clip(np.asarray(activities, dtype=np.int64), 0, ACTIVITY_MAX) + 1]


def activity_shift(gains, activities):
    """The scale-index shift floor((sum_j gains[j] * L_j + 8) / 16) of values whose
    activities (len(gains), n) have log-activities L_j (activity_index)."""
    activities = np.asarray(activities, dtype=np.int64).reshape(len(gains), -1)
    return log_activity_shift(gains, activity_index(activities))


def log_activity_shift(gains, log_activities):
    return (np.asarray(gains, dtype=np.int64) @ log_activities + 8) // 16


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

    def coder_parameters(self, part, mean, log2_scale, resolution, references=None, part_references=None,
                         activities=None):
        """The coder's integer means (in 1/resolution) and scale indices of
        values of part `part` from the model's exact mean and log2 scale
        (float64 arrays, one per value): what `arrays` and
        context_model.coding_parameters compute, in one compiled loop."""
        n_classes = len(self.thresholds) + 1
        first = (part if self.per_part else 0) * n_classes
        table = np.array(self.adjustments[first:first + n_classes], dtype=np.int64).reshape(-1, 3)
        n = mean.size
        part_mix = self.part_mix[part] if self.part_mix else ()

        def weights(w, x):
            if not any(w):
                return np.zeros(0, np.int64), np.zeros((0, n), np.int64)
            return np.array(w, dtype=np.int64), np.asarray(x, dtype=np.int64).reshape(len(w), n)
        return _coder_parameters(
            np.ascontiguousarray(mean, dtype=np.float64).reshape(-1),
            np.ascontiguousarray(log2_scale, dtype=np.float64).reshape(-1),
            np.array(self.thresholds, dtype=np.int64), table, *weights(self.mix, references),
            *weights(part_mix, part_references), *weights(self.gains, activities), float(resolution))


@nb.njit(cache=True)
def _coder_parameters(mean, log2_scale, thresholds, table, mix, references, part_mix, part_references,
                      gains, activities, resolution):
    n = mean.shape[0]
    m_out = np.empty(n, np.int64)
    k_out = np.empty(n, np.int64)
    for i in range(n):
        kbase = np.int64(np.floor(log2_scale[i] * SCALE_STEPS_PER_OCTAVE + 0.5)) + ZERO_INDEX
        shift = np.int64(0)
        if gains.shape[0]:
            acc = np.int64(8)
            for g in range(gains.shape[0]):
                a = min(max(activities[g, i], 0), ACTIVITY_MAX)
                acc += gains[g] * LOG6[a + 1]
            shift = acc // 16
        cls = 0
        for t in range(thresholds.shape[0]):
            if thresholds[t] <= kbase + shift:
                cls = t + 1
        slope, f, s = table[cls, 0], float(table[cls, 1]), table[cls, 2] + shift
        if mix.shape[0]:
            acc = np.int64(0)
            for j in range(mix.shape[0]):
                acc += mix[j] * references[j, i]
            f = f + acc / 2
        if part_mix.shape[0]:
            acc = np.int64(0)
            for j in range(part_mix.shape[0]):
                acc += part_mix[j] * part_references[j, i]
            f = f + acc / 2
        m_out[i] = np.int64(np.floor((mean[i] * (slope / 8) + f / 8) * resolution + 0.5))
        k_out[i] = min(max(kbase + s, 0), MAX_SCALE_INDEX)
    return m_out, k_out


IDENTITY_PLAN = Plan(False, (), (IDENTITY,))


def single(adjustment):
    """The plan of one adjustment for the whole group (files of version 3)."""
    return Plan(False, (), (tuple(adjustment),))


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


def side_of(plan, code=None):
    """The integers that send `plan` and the scale index each is coded with,
    under the SideCode `code` (default SIDE, what files are written with)."""
    code = code or SIDE
    pairs = side_integers(plan, code.part_flags)
    return (np.array([v for v, _ in pairs], dtype=np.int64),
            np.array([ZERO_INDEX + getattr(code, k) for _, k in pairs], dtype=np.int64))


def write_plans(encoder, plans, code=None):
    """Queue a list of plans on a ValueEncoder, before the values they govern
    (`code`: the SideCode, default SIDE)."""
    if not plans:
        return
    sides = [side_of(p, code) for p in plans]
    values = np.concatenate([s[0] for s in sides])
    encoder.add(values, np.zeros_like(values), np.concatenate([s[1] for s in sides]))


# Since version 14 a stream first says which of its groups are entirely
# zero: their values are not coded and they have no plan. A flag for "any",
# then, if set, one per group (each at the scale index offset that codes it
# cheaply: under the Laplace tables "any" costs 0.06 bits when no group is
# zero, a group's flag 0.5 bits, about 3 if it is zero).
ZERO_ANY_SCALE, ZERO_GROUP_SCALE = -16, -8


def zero_group_side(zero):
    """The integers that flag which of a stream's groups are entirely zero
    (booleans, in order) and the scale index each is coded with."""
    values = np.array([int(any(zero))] + ([int(z) for z in zero] if any(zero) else []), dtype=np.int64)
    scales = np.full_like(values, ZERO_INDEX + ZERO_GROUP_SCALE)
    scales[0] = ZERO_INDEX + ZERO_ANY_SCALE
    return values, scales


def write_zero_groups(encoder, zero):
    """Queue the zero-group flags of a stream's groups (booleans, in order)."""
    values, scales = zero_group_side(zero)
    encoder.add(values, np.zeros_like(values), scales)


def read_zero_groups(decoder, count):
    """Which of `count` groups write_zero_groups flagged as entirely zero."""
    some = _read(decoder, ZERO_ANY_SCALE)[0]
    if some == 0:
        return [False] * count
    flags = _read(decoder, ZERO_GROUP_SCALE, count)
    if some != 1 or any(f not in (0, 1) for f in flags) or not any(flags):
        raise EntropyError("zero-group flags out of range")
    return [bool(f) for f in flags]


def _read(decoder, scale, count=1):
    zeros = np.zeros(count, dtype=np.int64)
    return decoder.decode(zeros, zeros + ZERO_INDEX + scale).tolist()


def _read_flagged(decoder, counts, flag_scale, scale, what):
    """Weights of these lengths as one flag and, if it is 1, the weights
    (zeros otherwise), as side_of writes them."""
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
