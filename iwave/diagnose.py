"""Where the bits go: per subband and component, the bits the coder spends
with the model's own parameters, with the per-image coding plan (also
per value in each of the four phases, in coding order: how much the phases
coded first help the later ones; none for a subband of zeros the encoder
flags instead, `zero_flagged`), the model's float32 training estimate, and
the zeroth-order entropy of the values
(what a static per-subband histogram would need, its table not counted);
"plan_bits" is what sending the plan costs. An LL band the encoder codes
sequentially (iwave.coarse_band) shows those bits as "adjusted" (the same
for every phase), its predictor and shift as "sequential", what sending
them costs as "plan_bits", and what the context model and its plan would
have cost as "context_model". The totals add the whole
file's bits, made by the codec at the default effort, whose excess over
"adjusted" and "plan_bits" is its header, zero flags and post filter, and
"colour": a lossless RGB picture decoded from 8-bit YCbCr is measured as
those planes (iwave.ycbcr, what the encoder keeps when they code smaller),
from a 4:2:0 or 4:2:2 JPEG as three grey images, Y and half-resolution Cb
and Cr (components 0, 1 and 2, each with its own subbands).

    python -m iwave.diagnose IMAGE [--step S] [--model M]

Prints one JSON object per subband and component, then the totals, all in
bits per pixel of the image's colour components."""
import argparse
import json

import numpy as np
import torch

from iwave import coarse_band_fit, directions_fit, ycbcr, ycbcr420_fit, ycbcr_fit
from iwave.codec import Codec
from iwave.coarse_band import Sequential, choice_side
from iwave.entropy import plan_fit
from iwave.entropy.context_model import laplace_bits
from iwave.entropy.tables import zeroth_order_bits
from iwave.coding import plan_inputs, residual
from iwave.encoder import (component_groups, group_plan, group_symbols, model_outputs, subband_arrays,
                           subbands, zero_groups)
from iwave.errors import IWaveError
from iwave.imageio import read_image
from iwave.model import IWaveModel, resolve_model_paths
from iwave.quantisation import MAX_STEP, MIN_STEP


def colour_planes(image, step=None):
    """([planes (n, H, W) of each group], colour form) of an image's colour
    as diagnose measures it: one group, or three grey ones for 4:2:0."""
    x = component_groups(image)[0][0]
    if len(x) != 3:
        return [x], "grey"
    rgb = np.moveaxis(image[..., :3], -1, 0)
    found = ycbcr_fit.planes(rgb) if step is None and image.dtype == np.uint8 else None
    half = found and ycbcr420_fit.planes(rgb)
    if ycbcr420_fit.settled(half):      # as the encoder keeps it below effort 9
        return [p[None] for p in half[:3]], ycbcr.Form(half[3], half[4], half[5]).name
    return ([x], "YCoCg-R") if found is None else ([found[0]], ycbcr.Form(None, found[1]).name)


def diagnose(model, image, step=None):
    groups = colour_planes(image, step)[0]
    pixels = image.shape[0] * image.shape[1]
    rows, first = [], 0        # (a group's components follow the groups before it)
    for x in groups:
        rows += [dict(r, component=r["component"] + first) for r in _rows(model, x, step, pixels)]
        first += len(x)
    return sorted(rows, key=lambda r: (r["band"], r["component"]))


def _rows(model, x, step, pixels):
    """diagnose's rows of one component group x (n, H, W), in bits per one of `pixels`."""
    # lossy: along the directions the encoder would choose (iwave.directions_fit)
    maps = directions_fit.choose(model, x, step) if step is not None else None
    bands, cond = subbands(model, x, 8, step, directions=maps)
    exact = model_outputs(model, bands, 8, cond)
    train = model_outputs(model, bands, 8, cond, torch.float32)
    rows = []
    tables = model.tables
    values = [[[ph[0].to(torch.int64).numpy() for ph in phases] for phases in per_band]
              for per_band in exact]
    residuals = [[[residual(v, mean) for v, mean, _ in phases] for phases in per_band]
                 for per_band in exact]
    for c, per_band in enumerate(exact):
        plans, symbols = [], []
        for b, phases in enumerate(per_band):
            v, mu, kb = subband_arrays(phases)
            inputs = [plan_inputs(values, residuals, c, b, p, ph[1].shape[-2:])
                      for p, ph in enumerate(phases)]
            plan = group_plan(phases, tables, inputs)
            plans.append(plan)
            symbols.append(group_symbols(model, plan, phases, inputs, values[c][b]))
            estimate = sum(float(laplace_bits(t, m, s, resolution=model.mean_resolution).sum())
                           for t, m, s in train[c][b])
            planned = plan_fit.plan_bits(plan, [subband_arrays([ph]) for ph in phases], tables,
                                           *(list(x) for x in zip(*inputs)))
            per_phase = [x / max(ph[0].numel(), 1) for x, ph in zip(planned, phases)]
            rows.append({"band": b, "component": c, "values": int(v.size),
                         "coder": plan_fit.bits(v, mu, kb, tables=tables) / pixels,
                         "adjusted": sum(planned) / pixels,
                         "plan_bits": plan_fit.side_bits(plan, tables) / pixels,
                         "plan": {"per_phase": plan.per_part, "thresholds": list(plan.thresholds),
                                  "adjustments": [list(x) for x in plan.adjustments],
                                  "mix": list(plan.mix), "gains": list(plan.gains)},
                         "values_by_phase": [int(ph[0].numel()) for ph in phases],
                         "bits_per_value_by_phase": per_phase,
                         "training_estimate": estimate / pixels,
                         "zeroth_order": zeroth_order_bits(v) / pixels})
        # subbands of zeros the encoder flags instead of coding (format 14) cost nothing
        zero = zero_groups(model, cond, plans, symbols)
        for row, z in zip(rows[-len(per_band):], zero):
            row["zero_flagged"] = z
            if z:
                row["adjusted"], row["plan_bits"] = 0.0, 0.0
                row["bits_per_value_by_phase"] = [0.0] * len(row["values_by_phase"])
        # an LL band the encoder codes sequentially (format 16): its bits and its choice's
        row, plane = rows[-len(per_band)], bands[0][c, 0].numpy()
        choice, coded = (coarse_band_fit.choice(model, plane, plans[0], symbols[0])
                         if not zero[0] and coarse_band_fit.applies(model, cond) else (None, None))
        if isinstance(choice, Sequential):
            bits = float(plan_fit.value_bits(*coded[0], tables).sum())
            row.update(context_model=row["adjusted"] + row["plan_bits"], adjusted=bits / pixels,
                       plan_bits=plan_fit.integer_bits(choice_side(choice), tables) / pixels,
                       sequential=choice._asdict(),
                       bits_per_value_by_phase=[bits / plane.size] * len(row["values_by_phase"]))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m iwave.diagnose", description=__doc__.split("\n\n")[0])
    p.add_argument("image", help="an RGB or grey image")
    p.add_argument("--step", type=float, default=None, help="lossy step (default: lossless)")
    p.add_argument("--model", default=None,
                   help="model name or .npz (default: the shipped model for the mode)")
    args = p.parse_args(argv)
    try:
        mode = "lossless" if args.step is None else "lossy"
        model = IWaveModel.load(resolve_model_paths(args.model)[mode])
        image = read_image(args.image)
        if image.dtype != np.uint8:
            raise IWaveError("diagnose handles 8-bit images only")
        if args.step is not None and not MIN_STEP <= args.step <= MAX_STEP:
            raise IWaveError(f"step must be between {MIN_STEP} and {MAX_STEP:g}")
    except IWaveError as e:
        raise SystemExit(f"error: {e}")
    image = image if image.ndim == 2 else image[:, :, :3]
    rows = diagnose(model, image, args.step)
    rounded = lambda v: round(v, 4) if isinstance(v, float) else v
    for r in rows:
        print(json.dumps({k: [rounded(x) for x in v] if isinstance(v, list) else rounded(v)
                          for k, v in r.items()}))
    keys = ("coder", "adjusted", "plan_bits", "training_estimate", "zeroth_order")
    totals = {k: round(sum(r[k] for r in rows), 4) for k in keys}
    # the whole file at the default effort: beyond "adjusted", its header,
    # coding plans and post filter (what the side data costs at this rate)
    totals["colour"] = colour_planes(image, args.step)[1]
    totals["file"] = round(len(Codec(model).compress(image, step=args.step)) * 8 / image[..., 0].size, 4)
    print(json.dumps({"total_bpp": totals}))


if __name__ == "__main__":
    main()
