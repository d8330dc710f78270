"""The encoder's side of iwave.coarse_band: whether a component's LL band
is coded sequentially, and with which predictor and scale shift, by the
bits each way costs."""
import numpy as np

from iwave import coarse_band
from iwave.entropy import plan_fit
from iwave.entropy.tables import MAX_SCALE_INDEX

SHIFTS = range(-24, 49)      # every shift the search tries


def applies(model, cond_steps):
    """Whether the encoder may code a group's LL bands sequentially: not for
    a lossy model with centroid reconstruction, whose offsets such a band
    would not get (as for a subband flagged as zero)."""
    return cond_steps is None or not model.lossy_option("centroid")


def _bits(choice, tables):
    return plan_fit.integer_bits(coarse_band.choice_side(choice), tables)


def best(plane, tables, resolution):
    """(bits, Sequential choice) that codes an (h, w) LL band smallest,
    the choice's own integers included."""
    plane = np.asarray(plane, dtype=np.int64)
    found = None
    values = plane.reshape(-1)
    for predictor in range(coarse_band.PREDICTORS):
        means, k0 = coarse_band.parameters(plane, coarse_band.Sequential(predictor, 0), resolution)
        first = k0[:1].copy()
        for shift in SHIFTS:
            k = np.clip(k0 + shift, 0, MAX_SCALE_INDEX)
            k[:1] = first
            bits = float(plan_fit.value_bits(values, means, k, tables).sum())
            if found is None or bits < found[0]:
                found = (bits, coarse_band.Sequential(predictor, shift))
    return found[0] + _bits(found[1], tables), found[1]


def model_bits(tables):
    """The bits of saying that the context model codes the LL band."""
    return _bits(None, tables)


def choice(model, plane, plan, symbols):
    """(plan, symbols) of a component's LL band: as given (the context model
    codes it under `plan`), or a coarse_band.Sequential and its one batch of
    (values, means, scale indices) in raster order, whichever costs fewer
    bits."""
    tables = model.tables
    bits, sequential = best(plane, tables, model.mean_resolution)
    planned = plan_fit.side_bits(plan, tables) + model_bits(tables) + \
        sum(float(plan_fit.value_bits(*s, tables).sum()) for s in symbols)
    if bits >= planned:
        return plan, symbols
    return sequential, [(np.asarray(plane, dtype=np.int64).reshape(-1),
                         *coarse_band.parameters(plane, sequential, model.mean_resolution))]
