"""Per-image lifting taps: a grid of P1 far taps x U1 taps around 5/3,
lossless sizes against 5/3 and 9/7-M.
  python docs/experiments/taps.py photos5/chelsea.png photos5/coffee.png CROPS (first 8)"""
import numpy as np, iwave, sys, itertools
from iwave.imageio import read_image
from iwave import lifting_paths as _lifting_paths
_lifting_paths.tried = lambda model, paths, bands_on, pixels=True: [(0, bands_on(model.transform))]  # the (patched) model path only, as run
codec = iwave.Codec(); model = codec.model_for(False)
grid = list(itertools.product([0, 1/32, 1/16, 3/32, 1/8], [3/16, 1/4, 5/16]))
res = []
for f in sys.argv[1:]:
    a = read_image(f); row = []
    for t, u in grid:
        model.transform.coeffs = ((-(0.5 + t), t), (u, 0.0), (0.0, 0.0), (0.0, 0.0))
        row.append(len(codec.compress(a)))
    row = np.array(row); base = row[grid.index((0, 1/4))]; i = row.argmin()
    res.append((base, row.min(), row[grid.index((1/16, 1/4))]))
    print(f.split('/')[-1][:28], 'best', grid[i], f'{row.min()/base-1:+.2%}', '97m', f'{res[-1][2]/base-1:+.2%}', flush=True)
r = np.array(res, float); print('best-of', f'{r[:,1].sum()/r[:,0].sum()-1:+.2%}', '97m', f'{r[:,2].sum()/r[:,0].sum()-1:+.2%}')
