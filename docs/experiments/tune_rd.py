"""Per-image choice of dead zone and RD weight by J = SSE + lam*bits.

    python tune_rd.py "photos5/*.png" 12,24,48,96 out.json [ROUNDINGS [LAMBDAS]]

(ROUNDINGS and LAMBDAS comma-separated; default 0.35,0.4,0.45 and 0.07,0.1,0.14.)"""
import sys
import glob
import json
import itertools
import numpy as np
from PIL import Image
import iwave
from iwave import encoder
files = sorted(glob.glob(sys.argv[1])); steps = [float(s) for s in sys.argv[2].split(",")]
roundings = [float(r) for r in (sys.argv[4] if len(sys.argv) > 4 else "0.35,0.4,0.45").split(",")]
lams = [float(v) for v in (sys.argv[5] if len(sys.argv) > 5 else "0.07,0.1,0.14").split(",")]
codec = iwave.Codec(model="iwave-lossy")
orig_q = encoder.encoder_quantise
res = {}
for f in files:
    a = np.asarray(Image.open(f).convert("RGB")); px = a.shape[0] * a.shape[1]
    for s in steps:
        for r, l in itertools.product(roundings, lams):
            encoder.ENCODER_ROUNDING = r; encoder.RD_LAMBDA = l
            encoder.encoder_quantise.__defaults__ = (r, l, False, encoder.torch.float64, True)
            d = codec.compress(a, step=s); b = codec.decompress(d)
            sse = float(((a.astype(float) - b) ** 2).sum())
            res[(f, s, r, l)] = (len(d) * 8, sse, px)
        print(f, s, flush=True)
json.dump({"|".join(map(str, k)): v for k, v in res.items()}, open(sys.argv[3] if len(sys.argv) > 3 else "tune_rd.json", "w"))
