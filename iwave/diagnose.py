"""Where the bits go: per subband and component, the bits the coder spends
with the model's own parameters, with the per-image coding adjustments, the
model's float32 training estimate, and the zeroth-order entropy of the values
(what a static per-subband histogram would need, its table not counted).

    python -m iwave.diagnose IMAGE [--step S] [--model M]

Prints one JSON object per subband and component, then the totals, all in
bits per pixel of the image's colour components."""
import argparse
import json

import numpy as np
import torch

from entropy import adaptation
from entropy.context_model import PHASES, laplace_bits, scale_index_base
from iwave.codec import ENCODER_ROUNDING, MAX_STEP, MIN_STEP, _groups
from iwave.errors import IWaveError
from iwave.imageio import read_image
from iwave.model import IWaveModel, resolve_model_path
from iwave.quantisation import quantise


def _coefficients(model, image, step):
    x = _groups(image)[0][0]
    with torch.no_grad():
        bands = model.transform(torch.from_numpy(x).double()[:, None], 8, rounding=step is None)
    if step is None:
        return [b[:, 0][None] for b in bands], None
    return ([b[:, 0][None] for b in quantise(bands, model.lossy_steps(step, x.shape[0]), rounding=ENCODER_ROUNDING)],
            model.condition_steps(step, x.shape[0]))


def _walk(model, bands, cond, dtype):
    """{(band, component): [(values, mean, log2 scale) per phase]} from a context walk."""
    out = {}
    src = [b.to(dtype) for b in bands]

    def emit(b, c, p, mean, log2_scale):
        dy, dx = PHASES[p]
        v = src[b][:, c, dy::2, dx::2]
        out.setdefault((b, c), []).append((v, mean, log2_scale))
        return v

    with torch.no_grad():
        model.context.walk([tuple(t.shape[-2:]) for t in bands], bands[0].shape[1], 1, 8, emit,
                           dtype=dtype, band_steps=cond)
    return out


def _entropy(values):
    _, counts = np.unique(values, return_counts=True)
    return max(0.0, float(-(counts * np.log2(counts / counts.sum())).sum()))


def diagnose(model, image, step=None):
    bands, cond = _coefficients(model, image, step)
    exact = _walk(model, bands, cond, torch.float64)
    train = _walk(model, bands, cond, torch.float32)
    pixels = image.shape[0] * image.shape[1]
    rows = []
    for (b, c), phases in sorted(exact.items()):
        v = torch.cat([t.reshape(-1) for t, _, _ in phases]).to(torch.int64).numpy()
        mu = torch.cat([m.reshape(-1) for _, m, _ in phases]).numpy()
        kb = torch.cat([scale_index_base(s).reshape(-1) for _, _, s in phases]).to(torch.int64).numpy()
        adjustment = adaptation.fit(v, mu, kb)
        estimate = sum(float(laplace_bits(t, m, s).sum()) for t, m, s in train[(b, c)])
        rows.append({"band": b, "component": c, "values": int(v.size),
                     "coder": adaptation.bits(v, mu, kb) / pixels,
                     "adjusted": adaptation.bits(v, mu, kb, adjustment) / pixels,
                     "adjustment": list(adjustment),
                     "training_estimate": estimate / pixels, "zeroth_order": _entropy(v) / pixels})
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m iwave.diagnose", description=__doc__.split("\n\n")[0])
    p.add_argument("image", help="an RGB or grey image")
    p.add_argument("--step", type=float, default=None, help="lossy step (default: lossless)")
    p.add_argument("--model", default=None, help="model name or .npz (default: iwave-default)")
    args = p.parse_args(argv)
    try:
        model = IWaveModel.load(resolve_model_path(args.model))
        image = read_image(args.image)
        if image.dtype != np.uint8:
            raise IWaveError("diagnose handles 8-bit images only")
        if args.step is not None and not MIN_STEP <= args.step <= MAX_STEP:
            raise IWaveError(f"step must be between {MIN_STEP} and {MAX_STEP:g}")
    except IWaveError as e:
        raise SystemExit(f"error: {e}")
    image = image if image.ndim == 2 else image[:, :, :3]
    rows = diagnose(model, image, args.step)
    for r in rows:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}))
    keys = ("coder", "adjusted", "training_estimate", "zeroth_order")
    print(json.dumps({"total_bpp": {k: round(sum(r[k] for r in rows), 4) for k in keys}}))


if __name__ == "__main__":
    main()
