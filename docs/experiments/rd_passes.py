"""Two passes of rate-distortion rounding (the second with contexts re-predicted from the first's
indices) against one, per-image BD-rate (PSNR-RGB) on held-out photos at the benchmark's steps.

    PYTHONPATH=. OMP_NUM_THREADS=1 python docs/experiments/rd_passes.py "photos5/*.png"
"""
import glob
import math
import statistics
import sys

import numpy as np
import torch
from PIL import Image

import iwave
from iwave import encoder
from iwave.bench.metrics import bd_rate

torch.set_num_threads(1)
files = sorted(glob.glob(sys.argv[1]))
steps = [12.0, 19.2, 30.7, 49.0, 78.3, 125.2, 200.2, 320.0]
orig_rd = encoder.rd_quantise
def two_pass(model, raw, q, steps_, cond_steps, lam, batched=False, dtype=torch.float64, adjust=True):
    q1 = orig_rd(model, raw, q, steps_, cond_steps, lam, batched, dtype, adjust)
    return orig_rd(model, raw, q1, steps_, cond_steps, lam, batched, dtype, adjust)
codec = iwave.Codec(model="iwave-lossy")
bds = []
for f in files:
    a = np.asarray(Image.open(f).convert("RGB")); px = a.shape[0] * a.shape[1]
    curves = {}
    for name, fn in (("one", orig_rd), ("two", two_pass)):
        encoder.rd_quantise = fn
        r, q = [], []
        for s in steps:
            d = codec.compress(a, step=s); b = codec.decompress(d)
            mse = ((a.astype(float) - b) ** 2).mean()
            r.append(len(d) * 8 / px); q.append(10 * math.log10(255 ** 2 / mse))
        curves[name] = (r, q)
    encoder.rd_quantise = orig_rd
    bds.append(bd_rate(curves["one"], curves["two"]))
    print(f, f"{bds[-1]:+.2f}%", flush=True)
print("median", statistics.median(bds))
