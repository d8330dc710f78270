"""Prototype: optimise continuous coefficients through the decoder (inverse
transform + denoiser) and the context model's rate, then quantise as usual."""
import sys
import time
import math
import numpy as np
import torch
import iwave
from iwave import encoder
from iwave.colour import YCOCG_LINEAR_INVERSE
from iwave.quantisation import _shaped
from iwave.entropy.context_model import laplace_bits
from PIL import Image

ITERS = int(sys.argv[1]); LR = float(sys.argv[2]); LAMF = float(sys.argv[3]); FINAL = sys.argv[4]
files = sys.argv[5].split(','); steps_list = [float(s) for s in sys.argv[6].split(',')]
orig_subbands = encoder.subbands

def refined(model, x, bit_depth, step):
    if step is None or ITERS == 0:
        return orig_subbands(model, x, bit_depth, step)
    n = x.shape[0]
    with torch.no_grad():
        raw = model.transform(torch.from_numpy(x).double()[:, None], bit_depth, rounding=False)
    steps, cond = model.lossy_steps(step, n), model.condition_steps(step, n)
    y = [(r / _shaped(s, r, 0)).float().squeeze(1)[None].clone().requires_grad_() for r, s in zip(raw, steps)]
    target = torch.from_numpy(x).float()[None]     # (1, n, H, W) YCoCg-R ints; compare in RGB
    to_rgb = torch.tensor(YCOCG_LINEAR_INVERSE, dtype=torch.float32)
    opt = torch.optim.Adam(y, lr=LR)
    lam = LAMF * encoder.RD_LAMBDA * step ** 2
    npx = x.shape[1] * x.shape[2]
    fsteps = [[float(v) for v in s] for s in steps]
    # target in RGB
    t_rgb = torch.einsum("rc,bchw->brhw", to_rgb, target)
    for it in range(ITERS):
        q = [t + (torch.round(t) - t).detach() for t in y]
        deq = [(qi[0] * torch.tensor(s).view(-1, 1, 1))[:, None] for qi, s in zip(q, fsteps)]
        rec = model.transform.inverse(deq, 8, rounding=False)     # (n,1,H,W)
        ycc = rec.transpose(0, 1)
        if model.denoiser_applies(step):
            ycc = model.denoiser(ycc, step)
        d = ((torch.einsum("rc,bchw->brhw", to_rgb, ycc) - t_rgb) ** 2).sum()
        bits = sum(laplace_bits(v, m, ls, False, model.context.mean_resolution).sum()
                   for *_, v, m, ls in encoder.teacher_forced(model, q, 8, cond, torch.float32, batched=True, grad=True))
        loss = (d + lam * bits) / npx
        opt.zero_grad(); loss.backward(); opt.step()
        if it % 10 == 0 or it == ITERS - 1:
            print(f"  it {it} mse {d.item()/npx/3:.3f} bpp {bits.item()/npx:.4f}", flush=True)
    with torch.no_grad():
        ys = [(t[0] * torch.tensor(s).view(-1, 1, 1)).double()[:, None] for t, s in zip(y, fsteps)]
    if FINAL == "round":
        return [torch.round(t[0]).double()[:, None] for t in y], cond
    return encoder.encoder_quantise(model, ys, steps, cond), cond

encoder.subbands = refined
codec = iwave.Codec(model="iwave-lossy")
for f in files:
    a = np.asarray(Image.open(f).convert("RGB"))
    for s in steps_list:
        t = time.time()
        data = codec.compress(a, step=s)
        dt = time.time() - t
        b = codec.decompress(data)
        mse = np.mean((a.astype(float) - b) ** 2)
        print(f"RESULT {f.split('/')[-1]} step {s} bpp {len(data)*8/a.shape[0]/a.shape[1]:.4f} psnr {10*math.log10(255**2/mse):.3f} enc {dt:.1f}s", flush=True)
