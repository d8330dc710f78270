"""Per-image choice of the reversible colour transform (YCoCg-R, with R/G/B
roles permuted, the JPEG 2000 RCT, subtract-green), lossless sizes.
  python docs/experiments/rct.py photos5/*.png CROPS (first 8)"""
import numpy as np, iwave, sys
from iwave import encoder, colour
from iwave.imageio import read_image
from iwave import lifting_paths as _lifting_paths
_lifting_paths.tried = lambda model, paths, bands_on, pixels=True: [(0, bands_on(model.transform))]  # the (patched) model path only, as run
base = colour.rgb_to_ycocg
def perm(p):
    return lambda rgb: base(rgb[..., list(p)])
def rct(rgb):      # JPEG 2000 RCT: Y=(R+2G+B)>>2, then R-G, B-G
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    return np.stack([(r + 2 * g + b) >> 2, r - b, g - ((r + b) >> 1)], -1)  # placeholder, replaced below
def rct2(rgb):
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    return np.stack([(r + 2 * g + b) >> 2, r - g, b - g], -1)
def subg(rgb):
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    return np.stack([g, r - g, b - g], -1)
V = {'ycocg': base, 'perm_rbg': perm((0, 2, 1)), 'perm_grb': perm((1, 0, 2)), 'rct': rct2, 'subg': subg}
codec = iwave.Codec()
tot = {k: [] for k in V}
for f in sys.argv[1:]:
    a = read_image(f); row = {}
    for k, fn in V.items():
        encoder.rgb_to_ycocg = fn
        row[k] = len(codec.compress(a)); tot[k].append(row[k])
    print(f.split('/')[-1][:28], ' '.join(f'{k} {row[k]/row["ycocg"]-1:+.2%}' for k in V), flush=True)
b = np.sum(tot['ycocg'])
print(' '.join(f'{k} {np.sum(v)/b-1:+.2%}' for k, v in tot.items()), 'best', f'{np.sum(np.min(np.array(list(tot.values())),0))/b-1:+.2%}')
