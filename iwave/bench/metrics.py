"""Quality and rate-difference measures, with the conventions of the brief:
PSNR over all three 8-bit channels per image; MS-SSIM from pytorch_msssim in
dB; BD-rate from the `bjontegaard` package with PCHIP interpolation over the
overlapping quality range."""
import math
import warnings

import numpy as np

from iwave.evaluate import psnr

PSNR_CAP = 100.0       # an exact decode counts as 100 dB so means stay finite


def psnr_rgb(a, b):
    return min(PSNR_CAP, psnr(a, b))


def ms_ssim_db(a, b):
    """MS-SSIM in dB, or None when the image is too small for its five scales."""
    import torch
    from pytorch_msssim import ms_ssim
    if min(a.shape[:2]) <= 160:        # (11 - 1) * 2**4: pytorch_msssim's minimum side
        return None
    t = lambda x: torch.from_numpy(np.array(x, dtype=np.float64)).permute(2, 0, 1)[None]
    v = float(ms_ssim(t(a), t(b), data_range=255.0))
    return PSNR_CAP if v >= 1.0 else min(PSNR_CAP, -10.0 * math.log10(1.0 - v))


def monotone_curve(rates, quality):
    """Sort by rate and keep the points where quality strictly rises: BD-rate
    interpolation needs a monotone curve (a codec setting that costs more bits
    for no gain adds nothing to its curve)."""
    pts = sorted((r, q) for r, q in zip(rates, quality)
                 if r is not None and q is not None and math.isfinite(r) and math.isfinite(q)
                 and q < PSNR_CAP)
    out = []
    for r, q in pts:
        if out and r <= out[-1][0]:
            continue
        if not out or q > out[-1][1]:
            out.append((r, q))
    return [p[0] for p in out], [p[1] for p in out]


def bd_rate(anchor, test):
    """BD-rate in percent of `test` against `anchor`, each (rates, quality),
    over their overlapping quality range; None without enough overlap."""
    import bjontegaard
    ra, qa = monotone_curve(*anchor)
    rt, qt = monotone_curve(*test)
    if len(ra) < 2 or len(rt) < 2:
        return None
    lo, hi = max(qa[0], qt[0]), min(qa[-1], qt[-1])
    if hi - lo <= 1e-9:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # small-overlap warnings: we report overlap ourselves
        try:
            v = bjontegaard.bd_rate(ra, qa, rt, qt, method="pchip",
                                    require_matching_points=False, min_overlap=0.0)
        except Exception:  # noqa: BLE001 -- the package raises bare errors on odd curves
            return None
    return float(v) if v is not None and math.isfinite(v) else None
