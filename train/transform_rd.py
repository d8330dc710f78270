"""How much the fixed lossy transform alone is worth: rate (sum of per-subband,
per-component zeroth-order entropies of the quantisation indices, per image)
against PSNR-RGB for linear paths and level counts, with the encoder's
dead-zone quantiser and untrained lifting CNNs, as BD-rates against 5/3 with
4 levels. Use training images, never the test set:

    python -m iwave.train.transform_rd ../shared/data/train
"""
import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from iwave.bench.metrics import bd_rate
from iwave.entropy.tables import zeroth_order_bits
from iwave.encoder import ENCODER_ROUNDING
from iwave.colour import YCOCG_LINEAR_INVERSE, rgb_to_ycocg
from iwave.model import IWaveModel
from iwave.quantisation import dequantise, quantise

STEPS = (8, 13, 20, 32, 50, 80, 128, 200)
VARIANTS = (("cdf53", 4), ("cdf53", 5), ("cdf97", 4), ("cdf97", 5), ("cdf97", 6))


def curve(images, wavelet, levels):
    model = IWaveModel({"levels": levels, "wavelet": "cdf53",
                        "lossy": {"wavelet": wavelet, "colour_weights": True}})
    rates, psnrs = [], []
    for step in STEPS:
        bits = pixels = 0
        psnr = []
        for a in images:
            x = torch.from_numpy(np.moveaxis(rgb_to_ycocg(a), -1, 0)).double()[:, None]
            steps = model.lossy_steps(step, 3)
            with torch.no_grad():
                q = quantise(model.transform(x, 8, rounding=False), steps, rounding=ENCODER_ROUNDING)
                y = model.transform.inverse(dequantise(q, steps), 8, rounding=False)[:, 0].numpy()
            bits += sum(zeroth_order_bits(b[c].numpy()) for b in q for c in range(3))
            rgb = np.clip(np.round(np.einsum("ij,jhw->hwi", YCOCG_LINEAR_INVERSE, y)), 0, 255)
            pixels += a.shape[0] * a.shape[1]
            psnr.append(10 * np.log10(255 ** 2 / ((rgb - a) ** 2).mean()))
        rates.append(bits / pixels)
        psnrs.append(float(np.mean(psnr)))
    return rates, psnrs


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m iwave.train.transform_rd",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("folder", type=Path, help="folder of RGB training images")
    p.add_argument("--images", type=int, default=48, help="use every 17th image, this many (default 48)")
    args = p.parse_args(argv)
    files = sorted(args.folder.glob("*.png"))[5::17][:args.images]
    images = [np.asarray(Image.open(f).convert("RGB")) for f in files]
    curves = {}
    for wavelet, levels in VARIANTS:
        curves[wavelet, levels] = rates, psnrs = curve(images, wavelet, levels)
        points = ", ".join(f"{r:.3f} bpp/{d:.2f} dB" for r, d in zip(rates, psnrs))
        print(f"{wavelet}, {levels} levels: {points}", flush=True)
    base = curves[VARIANTS[0]]
    for key, (rates, psnrs) in curves.items():
        print(f"{key[0]}, {key[1]} levels: BD-rate {bd_rate((base[0], base[1]), (rates, psnrs)):+.1f}% "
              f"against cdf53, 4 levels")


if __name__ == "__main__":
    main()
