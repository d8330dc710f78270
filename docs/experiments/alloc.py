"""Per-image step allocation, emulated without side bits: chroma factor and
coarse-level tilt applied on both sides (monkeypatched lossy_steps).

    python alloc.py "photos5/*.png" 12,24,48,96 out.json [TILTS [CHROMAS [ll]]]

TILTS and CHROMAS are comma-separated (default -0.5,0,0.5 and the chroma
factors 2^-1/2, 1, 2^1/2); with "ll" a tilt t scales the LL band's step
alone, by 2^t; `alloc_analyse.py out.json` compares them."""
import sys
import glob
import json
import itertools
import numpy as np
from PIL import Image
import iwave
from iwave.model import IWaveModel
files = sorted(glob.glob(sys.argv[1])); steps = [float(s) for s in sys.argv[2].split(",")]
tilts = [float(t) for t in sys.argv[4].split(",")] if len(sys.argv) > 4 else [-0.5, 0.0, 0.5]
chromas = ([float(c) for c in sys.argv[5].split(",")] if len(sys.argv) > 5
           else [2 ** -0.5, 1.0, 2 ** 0.5])
orig = IWaveModel.lossy_steps
ll_only = len(sys.argv) > 6 and sys.argv[6] == "ll"
state = {"c": 1.0, "t": 0.0}
def patched(self, step, n_comp):
    out = orig(self, step, n_comp)
    L = (len(out) - 1) // 3
    res = []
    for b, per in enumerate(out):
        level = L if b == 0 else L - (b - 1) // 3
        f = (2 ** state["t"] if b == 0 else 1.0) if ll_only else 2 ** (state["t"] * (level - 1) / 4)
        res.append([v * f * (state["c"] if (i > 0 and n_comp == 3) else 1.0) for i, v in enumerate(per)])
    return res
IWaveModel.lossy_steps = patched
codec = iwave.Codec(model="iwave-lossy")
res = {}
for f in files:
    a = np.asarray(Image.open(f).convert("RGB")); px = a.shape[0] * a.shape[1]
    for s in steps:
        for c, t in itertools.product(chromas, tilts):
            state.update(c=c, t=t)
            d = codec.compress(a, step=s); b = codec.decompress(d)
            res["|".join(map(str, (f, s, round(c, 3), t)))] = (len(d) * 8, float(((a.astype(float) - b) ** 2).sum()), px)
        print(f, s, flush=True)
        json.dump(res, open(sys.argv[3], "w"))
