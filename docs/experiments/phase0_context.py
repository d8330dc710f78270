"""Bound: what a sequential same-phase context for phase 0 could buy (lossless,
or lossy files at STEP with iwave-lossy).
For phase 0 of each subband and component, the coder's scale index is moved
by a gain times the log-activity of the already coded same-phase neighbours
(up, up-left, up-right; and with 'left' also the left one), the best gain per
(subband, component) chosen on the image itself (side bits not counted).

    python docs/experiments/phase0_context.py photos5 [STEP]"""
import os, sys, numpy as np, torch
from PIL import Image
from iwave.model import IWaveModel
from iwave import encoder
from iwave.entropy.plan_fit import value_bits
from iwave.entropy.plan_format import activity_index
torch.set_num_threads(1)
STEP = float(sys.argv[2]) if len(sys.argv) > 2 else None
model = IWaveModel.load("weights/iwave-lossy.npz" if STEP else "weights/iwave-lossless.npz")
tables = model.tables
res = model.mean_resolution
G = [-16, -8, -4, 0, 4, 8, 12, 16, 24, 32]
tot = {"all": 0.0, "up": 0.0, "left": 0.0, "p0": 0.0}
for f in sorted(f for f in os.listdir(sys.argv[1]) if f.endswith(".png")):
    a = np.asarray(Image.open(os.path.join(sys.argv[1], f)).convert("RGB"))
    x = encoder.component_groups(a)[0][0]
    bands, cond = encoder.subbands(model, x, 8, STEP)
    streams = encoder.coded_streams(model, bands, 8, cond)
    all_bits = 0.0; save = {"up": 0.0, "left": 0.0}; p0 = 0.0
    for plans, symbols in streams:
        for i, (v, m, k) in enumerate(symbols):
            b = value_bits(v, m, k, tables)
            all_bits += b.sum()
            if i % 4 != 0:
                continue
            p0 += b.sum()
            v2, m2, k2 = (t.reshape(v.shape[-2:]) if t.ndim > 1 else t for t in (v, m, k))
            if v2.ndim != 2 or v2.size < 16:
                continue
            r = np.abs(v2 - np.floor(m2 / res + 0.5)).astype(np.int64)
            P = np.pad(r, 1)
            up = P[:-2, 1:-1] + P[:-2, :-2] + P[:-2, 2:]
            for kind, act in (("up", up), ("left", up + P[1:-1, :-2])):
                L = activity_index(act)
                Lc = L - int(np.round(L.mean()))
                best = b.sum()
                for g in G:
                    kk = k2 + (g * Lc + 8) // 16
                    best = min(best, value_bits(v2, m2, kk, tables).sum())
                save[kind] += b.sum() - best
    print(f, "phase-0 share %.1f%%  saving up %.2f%%  up+left %.2f%%" % (100 * p0 / all_bits, 100 * save["up"] / all_bits, 100 * save["left"] / all_bits))
    tot["all"] += all_bits; tot["up"] += save["up"]; tot["left"] += save["left"]; tot["p0"] += p0
print("total: phase-0 share %.1f%%, saving up %.2f%%, up+left %.2f%%" % (100 * tot["p0"] / tot["all"], 100 * tot["up"] / tot["all"], 100 * tot["left"] / tot["all"]))
