"""Bound: how much of a lossy file goes on subbands of a component that are
entirely zero (at coarse steps, most of the finest ones), which a flag per
group could code in a bit or two instead of the model's least cost per
value (about 0.0005 bits: its smallest-scale table's zero).

    python docs/experiments/zero_groups.py HELD_OUT_FOLDER [--steps 320,200,125,78,49,30]

Held-out images only (never Kodak)."""
import argparse
import glob

import numpy as np
import torch
from PIL import Image

import iwave
from iwave.diagnose import diagnose
from iwave.encoder import component_groups, subbands
from iwave.model import IWaveModel, resolve_model_paths


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--steps", default="320,200,125,78,49,30")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = IWaveModel.load(resolve_model_paths()["lossy"])
    steps = [float(s) for s in args.steps.split(",")]
    spent, files = dict.fromkeys(steps, 0.0), dict.fromkeys(steps, 0)
    for path in sorted(glob.glob(f"{args.folder}/*.png")):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        pixels = rgb.shape[0] * rgb.shape[1]
        for step in steps:
            bands, _ = subbands(model, component_groups(rgb)[0][0], 8, step)
            zero = {(b, c) for b, t in enumerate(bands) for c in range(t.shape[0]) if not t[c].any()}
            bits = sum(r["adjusted"] for r in diagnose(model, rgb, step)
                       if (r["band"], r["component"]) in zero) * pixels
            size = 8 * len(iwave.compress(rgb, step=step))
            spent[step] += bits
            files[step] += size
            print(f"{path.split('/')[-1]} step {step:g}: {len(zero)} of {3 * len(bands)} groups all zero, "
                  f"{bits:.0f} bits of the file's {size} ({100 * bits / size:.2f}%)", flush=True)
    for step in steps:
        print(f"step {step:g}: {100 * spent[step] / files[step]:.2f}% of the files' bits on all-zero groups")


if __name__ == "__main__":
    main()
