"""How much of a lossy file went on subbands of a component that are
entirely zero (at coarse steps, most of the finest ones) before file format
14 flagged them: the model's least cost per value is about 0.0005 bits (its
smallest-scale table's zero). Prints that share (the bound, measured with
the subbands coded, as format 13 did) and the real saving of the flags
(files with them against files with iwave.encoder.zero_groups flagging
none).

    python docs/experiments/zero_groups.py HELD_OUT_FOLDER [--steps 320,200,125,78,49,30]

Held-out images only (never Kodak)."""
import glob

import numpy as np
from PIL import Image

import iwave
from iwave import encoder
from iwave.diagnose import diagnose
from iwave.encoder import component_groups, subbands
from iwave.model import IWaveModel, resolve_model_paths

import held_out      # docs/experiments/held_out.py


def main():
    folder, steps = held_out.arguments(__doc__, "320,200,125,78,49,30")
    model = IWaveModel.load(resolve_model_paths()["lossy"])
    steps = [float(s) for s in steps]
    spent, files, unflagged = dict.fromkeys(steps, 0.0), dict.fromkeys(steps, 0), dict.fromkeys(steps, 0)
    flag = encoder.zero_groups
    for path in sorted(glob.glob(f"{folder}/*.png")):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        pixels = rgb.shape[0] * rgb.shape[1]
        for step in steps:
            bands, _ = subbands(model, component_groups(rgb)[0][0], 8, step)
            zero = {(b, c) for b, t in enumerate(bands) for c in range(t.shape[0]) if not t[c].any()}
            bits = sum(r["adjusted"] for r in diagnose(model, rgb, step)
                       if (r["band"], r["component"]) in zero) * pixels
            size = 8 * len(iwave.compress(rgb, step=step))
            encoder.zero_groups = lambda model, cond_steps, plans, symbols: [False] * len(plans)
            plain = 8 * len(iwave.compress(rgb, step=step))
            encoder.zero_groups = flag
            spent[step] += bits
            files[step] += size
            unflagged[step] += plain
            print(f"{path.split('/')[-1]} step {step:g}: {len(zero)} of {3 * len(bands)} groups all zero, "
                  f"{bits:.0f} bits of the unflagged file's {plain} ({100 * bits / plain:.2f}%); "
                  f"flagged {size}", flush=True)
    for step in steps:
        print(f"step {step:g}: {100 * spent[step] / unflagged[step]:.2f}% of the unflagged files' bits on "
              f"all-zero groups; the flags save {100 * (1 - files[step] / unflagged[step]):.2f}%")


if __name__ == "__main__":
    main()
