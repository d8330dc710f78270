"""What the dequantisation denoiser is worth at each step: the mean PSNR-RGB
of whole lossy files of a folder (as RGB) decoded with it less decoded
without it. This is how a model's `denoiser.min_step` (below it the decoder
skips the denoiser) is chosen: on held-out images, never on the test set.

    python -m iwave.train.denoiser_gain MODEL.npz FOLDER [--steps 8,12,16,24,32]
"""
import argparse
import json
import math
from pathlib import Path

import numpy as np
from PIL import Image

from iwave.bench.metrics import psnr_rgb
from iwave.codec import Codec
from iwave.errors import IWaveError
from iwave.model import IWaveModel
from iwave.train.data import list_images


def gains(model, files, steps):
    """{step: mean over files of PSNR-RGB with the denoiser less without it}."""
    codec = Codec(model)
    keep = model.denoiser.min_step
    out = {}
    try:
        for step in steps:
            diffs = []
            for path in files:
                a = np.asarray(Image.open(path).convert("RGB"))
                data = codec.compress(a, step=step)
                model.denoiser.min_step = 0.0
                with_dn = psnr_rgb(a, codec.decompress(data))
                model.denoiser.min_step = math.inf
                diffs.append(with_dn - psnr_rgb(a, codec.decompress(data)))
            out[step] = float(np.mean(diffs))
    finally:
        model.denoiser.min_step = keep
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m iwave.train.denoiser_gain",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="a model with a denoiser (.npz)")
    p.add_argument("folder", help="images to measure on (8-bit RGB)")
    p.add_argument("--steps", default="8,12,16,24,32",
                   help="comma-separated steps (default 8,12,16,24,32)")
    args = p.parse_args(argv)
    try:
        steps = [float(s) for s in args.steps.split(",")]
    except ValueError:
        raise SystemExit("error: --steps must be numbers separated by commas")
    try:
        model = IWaveModel.load(args.model)
    except IWaveError as e:
        raise SystemExit(f"error: {e}")
    if model.denoiser is None:
        raise SystemExit("error: this model has no denoiser")
    if not Path(args.folder).is_dir():
        raise SystemExit(f"error: {args.folder} is not a folder")
    files = list_images(args.folder)
    try:
        measured = gains(model, files, steps)
    except (IWaveError, OSError) as e:
        raise SystemExit(f"error: {e}")
    print(json.dumps({"model": model.identifier(), "images": len(files),
                      "min_step": model.denoiser.min_step,
                      "gain_db": {f"{s:g}": round(g, 3) for s, g in measured.items()}}))


if __name__ == "__main__":
    main()
