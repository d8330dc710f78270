import sys, glob
import numpy as np
from PIL import Image
import iwave
from iwave import rate_search
c = iwave.Codec()
m = c.model_for(True)
for f in sorted(glob.glob(sys.argv[1])):
    a = np.asarray(Image.open(f).convert("RGB"))
    e = rate_search.RateEstimate(m, a)
    row = []
    for s in (8, 16, 32, 64, 128, 256):
        act = len(c.compress(a, step=s)) * 8 / a.shape[0] / a.shape[1]
        row.append(f"{s}:{act / e.bpp(s):.3f}")
    print(f.split("/")[-1], " ".join(row), flush=True)
