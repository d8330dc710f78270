"""Coefficients optimised through the decoder with soft rounding annealed to
hard (as C3 and Cool-chic fit their latents), then rounded (the
optimisation has made the encoder's rate-distortion choices).

The continuous coefficients y (in steps) start at the transform's output;
each iteration decodes s_a(s_a(y) + u), u uniform noise in (-1/2, 1/2) and s_a the soft rounding of Agustsson and Theis
(floor(y) + 1/2 + tanh(a r) / (2 tanh(a/2)), r = y - floor(y) - 1/2), with
a rising from 1 to A_END over the first 80% of the iterations and hard
rounding (straight through) after; the loss is the RGB squared error after
the inverse transform and the denoiser plus lambda times the context
model's bits of the decoded values (teacher forcing).

    python refine_sga.py ITERS LR LAMBDA_FACTOR A_END IMG[,IMG...] STEP[,STEP...]

prints, per image and step, the plain encoder's and the refined encoder's
bits per pixel and PSNR-RGB, and the plain curve's rate at the refined
PSNR (interpolated in log rate over the plain encoder at steps around)."""
import math
import sys
import time

import numpy as np
import torch
from PIL import Image

import iwave
from iwave import encoder
from iwave.colour import YCOCG_LINEAR_INVERSE
from iwave.entropy.context_model import laplace_bits
from iwave.quantisation import _shaped

ITERS, LR, LAMF, A_END = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
files = sys.argv[5].split(",")
steps_list = [float(s) for s in sys.argv[6].split(",")]
state = {"on": False}
plain_subbands = encoder.subbands


def soft_round(y, a):
    m = torch.floor(y) + 0.5
    return m + 0.5 * torch.tanh(a * (y - m)) / math.tanh(a / 2)


def refined(model, x, bit_depth, step, rd_rounding=True, transform=None):
    if step is None or not state["on"] or x.shape[0] != 3:
        return plain_subbands(model, x, bit_depth, step, rd_rounding, transform)
    n = x.shape[0]
    with torch.no_grad():
        raw = model.transform(torch.from_numpy(x).double()[:, None], bit_depth, rounding=False)
    steps, cond = model.lossy_steps(step, n), model.condition_steps(step, n)
    y = [(r / _shaped(s, r, 0)).float().squeeze(1)[None].clone().requires_grad_()
         for r, s in zip(raw, steps)]
    to_rgb = torch.tensor(YCOCG_LINEAR_INVERSE, dtype=torch.float32)
    t_rgb = torch.einsum("rc,bchw->brhw", to_rgb, torch.from_numpy(x).float()[None])
    opt = torch.optim.Adam(y, lr=LR)
    lam = LAMF * encoder.RD_LAMBDA * step ** 2
    npx = x.shape[1] * x.shape[2]
    fsteps = [torch.tensor([float(v) for v in s]).view(-1, 1, 1) for s in steps]
    soft_iters = int(0.8 * ITERS)
    for it in range(ITERS):
        if it < soft_iters:
            a = math.exp(math.log(A_END) * it / max(soft_iters - 1, 1))
            # noise between two soft roundings (as C3), so that values at
            # the half-integers, where soft rounding is steep, cannot pass
            q = [soft_round(soft_round(t, a) + torch.rand_like(t) - 0.5, a) for t in y]
        else:
            q = [t + (torch.round(t) - t).detach() for t in y]
        rec = model.transform.inverse([(qi[0] * s)[:, None] for qi, s in zip(q, fsteps)], 8,
                                      rounding=False)
        ycc = rec.transpose(0, 1)
        if model.denoiser_applies(step):
            ycc = model.denoiser(ycc, step)
        d = ((torch.einsum("rc,bchw->brhw", to_rgb, ycc) - t_rgb) ** 2).sum()
        bits = sum(laplace_bits(v, m, ls, False, model.mean_resolution).sum()
                   for *_, v, m, ls in encoder.teacher_forced(model, q, 8, cond, torch.float32,
                                                               batched=True, grad=True))
        loss = (d + lam * bits) / npx
        if it % 20 == 0 or it == ITERS - 1:
            print(f"  it {it} mse {d.item() / npx / 3:.3f} bpp {bits.item() / npx:.4f}", flush=True)
        opt.zero_grad()
        loss.backward()
        opt.step()
    # the optimisation has made its rate-distortion choices: round them
    return [torch.round(t[0].detach()).double()[:, None] for t in y], cond


encoder.subbands = refined


def point(codec, a, s):
    data = codec.compress(a, step=s)
    b = codec.decompress(data)
    mse = np.mean((a.astype(float) - b) ** 2)
    return len(data) * 8 / a.shape[0] / a.shape[1], 10 * math.log10(255 ** 2 / mse)


if __name__ == "__main__":
    codec = iwave.Codec(model="iwave-lossy")
    for f in files:
        a = np.asarray(Image.open(f).convert("RGB"))
        for s in steps_list:
            state["on"] = False
            plain = sorted(point(codec, a, s * 2 ** (k / 4)) for k in range(-3, 4))
            t = time.time()
            state["on"] = True
            r, p = point(codec, a, s)
            dt = time.time() - t
            rates, psnrs = np.log([q[0] for q in plain]), [q[1] for q in plain]
            at = math.exp(np.interp(p, psnrs, rates))
            base = plain[3]
            print(f"{f.split('/')[-1]} step {s}: plain {base[0]:.4f} bpp {base[1]:.3f} dB; refined "
                  f"{r:.4f} bpp {p:.3f} dB ({dt:.0f} s): {100 * (r / at - 1):+.2f}% against the "
                  "plain curve", flush=True)
