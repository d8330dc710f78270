import json, math, sys, statistics
sys.path.insert(0, "/work/main")
from iwave.bench.metrics import bd_rate
res = {tuple(k.split("|")): v for k, v in json.load(open(sys.argv[1])).items()}
imgs = sorted({k[0] for k in res}); steps = sorted({k[1] for k in res}, key=float)
variants = sorted({(k[2], k[3]) for k in res})
base_v = ("1.0", "0.0")
def curve(pick):
    r, q = [], []
    for s in steps:
        bits, sse, px = pick(s)
        r.append(bits / px); q.append(10 * math.log10(255 ** 2 / (sse / px / 3)))
    return r, q
for v in variants:
    bds = [bd_rate(curve(lambda s: res[(im, s) + base_v]), curve(lambda s: res[(im, s) + v])) for im in imgs]
    print("fixed", v, round(statistics.median(bds), 2), [round(b, 2) for b in bds])
for c in (0.1, 0.2, 0.3):
    bds = [bd_rate(curve(lambda s: res[(im, s) + base_v]),
                   curve(lambda s: min((res[(im, s) + v] for v in variants), key=lambda x: x[1] + c * float(s) ** 2 * x[0])))
           for im in imgs]
    print("per-image J, c", c, round(statistics.median(bds), 2), [round(b, 2) for b in bds])
