"""Bound (issue 23, item 4): what fitting the denoiser's last layer to each
image could buy, measured before building any side data for it.

For each image and step the encoder's planes are reconstructed as the decoder
would (inverse transform, denoiser); then the denoiser's output layer (a 1x1
from `hidden` channels to the 12 of a 2x2 block) gets a correction fitted by
least squares to the original (all of its weights and biases, or only a gain
and an offset per output channel), its weights rounded to multiples of
2**-Q_BITS, and the post filter is refitted on top. The rate is the real
file's plus an estimate of the correction's side bits (an Elias-gamma-like
code of each rounded weight: 1 + 2 log2(1 + |q|) bits), the quality PSNR-RGB
of the rounded, clipped pixels. Per-image BD-rate against the same pipeline
with no correction (the shipped decoder), and for the whole layer also
without its side bits (the ceiling a cheaper side code could approach).

    python docs/experiments/denoiser_refit.py HELD_OUT_FOLDER [--steps 24,40,64,100,160,256]

Held-out images only (never Kodak)."""
import glob
import math
import statistics

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import iwave
from iwave import postfilter, postfilter_fit
from iwave.bench.metrics import bd_rate
from iwave.colour import YCOCG_SYNTHESIS_GAINS, ycocg_to_rgb
from iwave.denoiser import OUTPUT_SCALE
from iwave.encoder import component_groups, subbands
from iwave.entropy.exact import act, pl_log2
from iwave.model import IWaveModel, resolve_model_paths
from iwave.quantisation import dequantise

import held_out      # docs/experiments/held_out.py

Q_BITS = 7


def hidden_features(dn, ycc, step):
    """The denoiser's input to its output layer, (hidden, H/2, W/2)."""
    x = ycc - ycc.new_tensor([128.0, 0.0, 0.0]).view(1, 3, 1, 1)
    x = act(F.pixel_unshuffle(x / dn.input_scale, 2))
    y = act(F.relu(dn.mix(dn.spatial1(x)) + dn.cond(0, x, act(x.new_tensor(pl_log2(step))))))
    for block in dn.blocks:
        y = act(F.relu(block(y)))
    return dn.spatial2(y)[0]


def side_bits(q):
    return float((1 + 2 * np.log2(1 + np.abs(q))).sum())


def corrected(dn, base, features, target, full):
    """base + the least-squares correction of the output layer (weights
    rounded to 2**-Q_BITS) and its side bits: `full`, every weight and bias;
    else a gain on each output channel and an offset."""
    e = (F.pixel_unshuffle((target - base)[None], 2)[0] / OUTPUT_SCALE).reshape(12, -1).numpy()
    s = features.reshape(features.shape[0], -1).numpy()
    ones = np.ones((1, s.shape[1]))
    if full:
        feats = np.concatenate([s, ones])
        q = np.round(np.linalg.lstsq(feats.T, e.T, rcond=None)[0].T * 2 ** Q_BITS)   # (12, hidden + 1)
        delta = (q / 2 ** Q_BITS) @ feats
    else:
        out = dn.out(features[None])[0].reshape(12, -1).numpy()
        q, delta = np.zeros((12, 2)), np.zeros_like(e)
        for ch in range(12):
            feats = np.concatenate([out[ch:ch + 1], ones])
            q[ch] = np.round(np.linalg.lstsq(feats.T, e[ch], rcond=None)[0] * 2 ** Q_BITS)
            delta[ch] = (q[ch] / 2 ** Q_BITS) @ feats
    r = F.pixel_shuffle(torch.from_numpy(delta.reshape(1, 12, *features.shape[1:])), 2)[0]
    return base + r * OUTPUT_SCALE, side_bits(q)


def psnr_after_post_filter(planes, target, rgb):
    """The decoder's last steps on (3, H, W) planes: a post filter fitted
    to them, rounding, YCoCg-R inverse, clipping; PSNR-RGB against rgb."""
    whole = (slice(None), slice(None))
    filters = postfilter_fit.fit(planes[:, None], target[:, None], whole, YCOCG_SYNTHESIS_GAINS)
    x = torch.floor(postfilter.apply(planes[:, None], filters)[:, 0] + 0.5).to(torch.int64).numpy()
    out = np.clip(ycocg_to_rgb(np.moveaxis(x, 0, -1)), 0, 255)
    mse = float(((out - rgb.astype(np.int64)) ** 2).mean())
    return 10 * math.log10(255 ** 2 / mse)


def main():
    folder, steps = held_out.arguments(__doc__, "24,40,64,100,160,256")
    model = IWaveModel.load(resolve_model_paths()["lossy"])
    dn = model.denoiser
    steps = [float(s) for s in steps]
    variants = ("shipped", "gain and offset", "whole layer", "whole layer, side bits not counted")
    results = {v: [] for v in variants}
    for path in sorted(glob.glob(f"{folder}/*.png")):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        rgb = rgb[:rgb.shape[0] // 2 * 2, :rgb.shape[1] // 2 * 2]
        x = component_groups(rgb)[0][0]
        target = torch.from_numpy(x).double()
        curves = {v: ([], []) for v in variants}
        for step in steps:
            bits = 8 * len(iwave.compress(rgb, step=step))
            bands, _ = subbands(model, x, 8, step)
            with torch.no_grad():
                ycc = model.transform.inverse(dequantise(bands, model.lossy_steps(step, 3)), 8,
                                              rounding=False).transpose(0, 1)
                base, features = dn(ycc, step)[0], hidden_features(dn, ycc, step)
            for v in variants:
                planes, side = (base, 0.0) if v == "shipped" else corrected(dn, base, features, target,
                                                                            v.startswith("whole"))
                side = 0.0 if v.endswith("not counted") else side
                curves[v][0].append((bits + side) / (rgb.shape[0] * rgb.shape[1]))
                curves[v][1].append(psnr_after_post_filter(planes, target, rgb))
        for v in variants:
            results[v].append(bd_rate(curves["shipped"], curves[v]))
        print(path.split("/")[-1], {v: [round(q, 3) for q in curves[v][1]] for v in variants},
              {v: round(results[v][-1], 2) for v in variants[1:]}, flush=True)
    for v in variants[1:]:
        print(f"{v}: per-image BD-rate against the shipped denoiser, median "
              f"{statistics.median(results[v]):+.2f}% ({', '.join(f'{b:+.2f}' for b in results[v])})")


if __name__ == "__main__":
    main()
