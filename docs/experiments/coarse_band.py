"""What the LL band costs coded by the context model (its plan included)
against coded sequentially (iwave.coarse_band, format 16), and whether the
same sequential coder with a zero mean would beat the context model on the
coarse detail subbands (levels 5 to 3).

    PYTHONPATH=. OMP_NUM_THREADS=1 python docs/experiments/coarse_band.py photos5 --steps 320,125,48

Per image and step: each component's LL in bits per value both ways (the
sequential coder's with its choice's side bits), the LL bands' share of the
coded bits when the context model codes them (coefficients and plans), and
per detail subband and component the zero-mean sequential coder's bits
against the context model's, in percent (for level 5 also with the decoded
LL band's local gradient added to the scale's activity)."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from held_out import arguments  # noqa: E402

from iwave import coarse_band_fit  # noqa: E402
from iwave.diagnose import diagnose  # noqa: E402
from iwave.encoder import component_groups, subbands  # noqa: E402
from iwave.entropy import plan_fit  # noqa: E402
from iwave.entropy.plan_format import activity_index  # noqa: E402
from iwave.entropy.tables import MAX_SCALE_INDEX  # noqa: E402
from iwave.imageio import read_image  # noqa: E402
from iwave.model import IWaveModel, resolve_model_paths  # noqa: E402


def zero_mean_bits(plane, tables, ll=None):
    """Sequential coding with mean 0 (the residuals are the values), the best
    shift; with `ll` (the decoded LL band in this subband's units, a level-5
    subband's grid) its local gradient is added to the activity."""
    plane = np.asarray(plane, dtype=np.int64)
    padded = np.pad(np.abs(plane), 1)
    activity = (2 * padded[1:-1, :-2] + 2 * padded[:-2, 1:-1] + padded[:-2, :-2] + padded[:-2, 2:])
    if ll is not None:
        p = np.pad(ll[:plane.shape[0], :plane.shape[1]], 1, mode="edge")
        gradient = np.abs(p[1:-1, 2:] - p[1:-1, :-2]) + np.abs(p[2:, 1:-1] - p[:-2, 1:-1])
        activity = np.round(4 * activity + gradient).astype(np.int64)
    base = activity_index(activity).reshape(-1)
    return min(float(plan_fit.value_bits(plane.reshape(-1), np.zeros(plane.size, np.int64),
                                         np.clip(base + s, 0, MAX_SCALE_INDEX), tables).sum())
               for s in coarse_band_fit.SHIFTS) + 8


def main():
    folder, steps = arguments(__doc__, "320,125,48")
    model = IWaveModel.load(resolve_model_paths("iwave-lossy")["lossy"])
    for path in sorted(Path(folder).glob("*.png")):
        image = read_image(path)[:, :, :3]
        pixels = image.shape[0] * image.shape[1]
        for step in map(float, steps):
            bands, _ = subbands(model, component_groups(image)[0][0], 8, step)
            band_steps = model.lossy_steps(step, 3)
            rows = diagnose(model, image, step)
            # diagnose shows LL as the encoder codes it, and the context model's cost beside
            model_ll = lambda r: r.get("context_model", r["adjusted"] + r["plan_bits"]) * pixels
            coded = sum(model_ll(r) if r["band"] == 0 else (r["adjusted"] + r["plan_bits"]) * pixels
                        for r in rows)
            ll, details, ll_gradient_saves = [], [], 0.0
            for r in rows:
                plane = bands[r["band"]][r["component"], 0].numpy()
                if r["band"] == 0:
                    seq = coarse_band_fit.best(plane, model.tables, model.mean_resolution)[0]
                    ll.append(f"c{r['component']} {model_ll(r) / plane.size:.2f} -> {seq / plane.size:.2f}")
                elif r["band"] <= 9 and not r.get("zero_flagged"):
                    now = (r["adjusted"] + r["plan_bits"]) * pixels
                    details.append(f"b{r['band']}c{r['component']} "
                                   f"{100 * (zero_mean_bits(plane, model.tables) - now) / now:+.0f}%")
                    if r["band"] <= 3:      # level 5: also with the LL band's gradient
                        c = r["component"]
                        ll_band = bands[0][c, 0].numpy() * float(band_steps[0][c] / band_steps[r["band"]][c])
                        with_ll = zero_mean_bits(plane, model.tables, ll_band)
                        ll_gradient_saves += max(0.0, now - with_ll)
                        details[-1] += f" ({100 * (with_ll - now) / now:+.0f}% with LL's gradient)"
            share = sum(model_ll(r) for r in rows if r["band"] == 0) / coded
            print(f"{path.name} step {step:g}: LL bits/value, context model -> sequential: {', '.join(ll)}, "
                  f"{share:.1%} of the coded bits; zero-mean sequential on details: {' '.join(details)}; "
                  f"level 5 with LL's gradient where it wins: {ll_gradient_saves / coded:.2%} of the coded bits",
                  flush=True)


if __name__ == "__main__":
    main()
