"""How much could per-image symbol tables save? Lossless: the bits of each
image's coded symbols under the model's tables against the image's own
empirical distribution per table (and per table and component): a bound
on what any per-image table adaptation could buy before its side bits
(the escape tails and split-off low bits left out on both sides).

    python docs/experiments/image_tables.py photos5 [N]"""
import os, sys, numpy as np, torch
from PIL import Image
from iwave.model import IWaveModel
from iwave import encoder
from iwave.entropy.laplace_coder import symbol_counts
torch.set_num_threads(1)
model = IWaveModel.load("weights/iwave-lossless.npz")
tables = model.tables
cum = tables.cum.astype(np.float64)
freq = np.maximum(np.diff(cum, axis=1), 1)
cost = 16 - np.log2(freq)
folder = sys.argv[1]
tot_model = tot_emp = tot_pair = 0
for f in sorted(os.listdir(folder))[:int(sys.argv[2]) if len(sys.argv) > 2 else None]:
    a = np.asarray(Image.open(os.path.join(folder, f)).convert("RGB"))
    x = encoder.component_groups(a)[0][0]
    bands, _ = encoder.subbands(model, x, 8, None)
    streams = encoder.coded_streams(model, bands, 8, None)
    counts = np.zeros(tables.cum.shape, np.int64)
    # per (component): counts per table
    per = []
    for plans, symbols in streams:
        c = np.zeros(tables.cum.shape, np.int64)
        for v, m, k in symbols:
            symbol_counts(v.reshape(-1), m.reshape(-1), k.reshape(-1), c, tables)
        per.append(c)
        counts += c
    counts = counts[:, :-1]; per = [c[:, :-1] for c in per]
    valid = np.arange(cost.shape[1])[None, :] < (2 * tables.radius[:, None] + 2)
    model_bits = float((counts * np.where(valid, cost, 0)).sum())
    def emp(c):
        rows = c.sum(1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(c > 0, c / np.maximum(rows, 1), 1)
        return float(-(c * np.log2(p)).sum())
    emp_bits = emp(counts)
    comp_bits = sum(emp(c) for c in per)
    print(f, "model %.0f  per-image tables %.0f (%.2f%%)  per-component %.0f (%.2f%%)  nonempty tables %d" % (
        model_bits, emp_bits, 100 * (emp_bits / model_bits - 1), comp_bits, 100 * (comp_bits / model_bits - 1),
        (counts.sum(1) > 0).sum()))
    tot_model += model_bits; tot_emp += emp_bits; tot_pair += comp_bits
print("total: per-image tables %.2f%%, per component %.2f%%" % (100 * (tot_emp / tot_model - 1), 100 * (tot_pair / tot_model - 1)))
