import json
import math
import sys
sys.path.insert(0, "/work/main")
from iwave.bench.metrics import bd_rate
res = {tuple(k.split("|")): v for k, v in json.load(open(sys.argv[1])).items()}
imgs = sorted({k[0] for k in res}); steps = sorted({float(k[1]) for k in res}, key=float)
variants = sorted({(k[2], k[3]) for k in res})
def curve(pick):
    rates, q = [], []
    for s in steps:
        bits, sse, px = pick(s)
        rates.append(bits / px); q.append(10 * math.log10(255 ** 2 / (sse / px / 3)))
    return rates, q
import statistics
for c in [None, 0.1, 0.2, 0.3, 0.45, 0.6]:
    bds = []
    for im in imgs:
        base = curve(lambda s: res[(im, str(s), "0.4", "0.1")])
        if c is None:
            # fixed variant sweep: report best fixed variant later
            continue
        def pick(s):
            return min((res[(im, str(s), r, l)] for r, l in variants),
                       key=lambda v: v[1] + c * s * s * v[0])
        bds.append(bd_rate(base, curve(pick)))
    if c: print("c", c, "median", statistics.median(bds), [round(b, 2) for b in bds])
for r, l in variants:
    bds = [bd_rate(curve(lambda s: res[(im, str(s), "0.4", "0.1")]), curve(lambda s: res[(im, str(s), r, l)])) for im in imgs]
    print("fixed", r, l, round(statistics.median(bds), 2), round(sum(bds)/len(bds), 2))
