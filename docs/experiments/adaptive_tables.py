"""Could the coder learn each image's symbol statistics as it goes, with no
side bits? The bound of image_tables.py (each table's empirical distribution
in the image, or in each component: "bound", "bound per component"; side
bits not counted) is printed for lossy files too. Then the same symbols (in
coding order, component by component) coded with tables that adapt between phases:
before each phase, table k is the model's table given W pseudo-counts plus the
counts of the symbols that table has coded so far in the component ("own") or
in the image ("shared"); a decoder could do the same. Prints bits against the
model's static tables (the escape tails and split-off low bits left out on
both sides).

    python docs/experiments/adaptive_tables.py HELD_OUT_FOLDER [--steps 24,80]

`--steps ll` measures lossless files. Held-out images only (never Kodak)."""
import glob
import os

import numpy as np
from PIL import Image

from iwave import encoder
from iwave.entropy.laplace_coder import symbol_counts
from iwave.model import IWaveModel, resolve_model_paths

import held_out      # docs/experiments/held_out.py

WEIGHTS = (4, 16, 64, 256)


def static_probabilities(tables):
    """Each table's probabilities (rows; columns past its escape get ~0)."""
    cum = tables.cum.astype(np.float64)
    valid = np.arange(cum.shape[1] - 1)[None, :] < (2 * tables.radius[:, None] + 2)
    return np.where(valid, np.diff(cum, axis=1), 1e-30) / 65536.0


def image_bits(model, rgb, step, prior):
    """(static bits, {(W, "own"/"shared"): adaptive bits}) for one image."""
    x = encoder.component_groups(rgb)[0][0]
    bands, cond = encoder.subbands(model, x, 8, step)
    static, adaptive = 0.0, {(w, how): 0.0 for w in WEIGHTS for how in ("own", "shared")}
    shared = {w: np.zeros_like(prior) for w in WEIGHTS}
    adaptive["bound", "per component"] = 0.0
    for _, symbols in encoder.coded_streams(model, bands, 8, cond):
        own = {w: np.zeros_like(prior) for w in WEIGHTS}
        for v, m, k in symbols:
            c = symbol_counts(v.reshape(-1), m.reshape(-1), k.reshape(-1), None, model.tables)
            c = c[:, :prior.shape[1]].astype(np.float64)
            static -= float((c * np.log2(prior)).sum())
            for w in WEIGHTS:
                for how, seen in (("own", own[w]), ("shared", shared[w])):
                    p = (w * prior + seen) / (w + seen.sum(1, keepdims=True))
                    adaptive[w, how] -= float((c * np.log2(p)).sum())
                own[w] += c
                shared[w] += c
        adaptive["bound", "per component"] += empirical_bits(own[WEIGHTS[0]])
    adaptive["bound", "per image"] = empirical_bits(shared[WEIGHTS[0]])
    return static, adaptive


def empirical_bits(counts):
    """Bits of these symbol counts under each table's own empirical distribution."""
    n = counts.sum(1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(counts > 0, counts / np.maximum(n, 1), 1.0)
    return float(-(counts * np.log2(p)).sum())


def label(w, how):
    return f"{w} {how}" if w == "bound" else f"W{w} {how}"


def main():
    folder, steps = held_out.arguments(__doc__, "24,80", "lossy steps, or ll for lossless")
    files = sorted(glob.glob(os.path.join(folder, "*.png")))
    for s in steps:
        step = None if s == "ll" else float(s)
        model = IWaveModel.load(resolve_model_paths()["lossless" if step is None else "lossy"])
        prior = static_probabilities(model.tables)
        total_static, total = 0.0, {}
        for f in files:
            rgb = np.asarray(Image.open(f).convert("RGB"))
            static, adaptive = image_bits(model, rgb, step, prior)
            total_static += static
            for key, bits in adaptive.items():
                total[key] = total.get(key, 0.0) + bits
            print(s, os.path.basename(f), f"static {static:.0f} bits", " ".join(
                f"{label(w, how)} {100 * (bits / static - 1):+.2f}%" for (w, how), bits in adaptive.items()))
        print(s, "all", " ".join(f"{label(w, how)} {100 * (bits / total_static - 1):+.2f}%"
                                 for (w, how), bits in total.items()), flush=True)


if __name__ == "__main__":
    main()
