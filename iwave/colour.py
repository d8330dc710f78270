"""Reversible integer colour transform YCoCg-R (Malvar & Sullivan)."""
import numpy as np


def rgb_to_ycocg(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) integer RGB -> (..., 3) int64 Y, Co, Cg; exactly invertible."""
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    co = r - b
    t = b + (co >> 1)
    cg = g - t
    y = t + (cg >> 1)
    return np.stack([y, co, cg], axis=-1)


def ycocg_to_rgb(ycocg: np.ndarray) -> np.ndarray:
    y, co, cg = (ycocg[..., i].astype(np.int64) for i in range(3))
    t = y - (cg >> 1)
    g = cg + t
    b = t - (co >> 1)
    r = b + co
    return np.stack([r, g, b], axis=-1)


# The inverse above, without its floor shifts, is linear: R = Y + Co/2 - Cg/2,
# G = Y + Cg/2, B = Y - Co/2 - Cg/2. An error e in one component therefore
# adds (sum of its squared column) * e**2 to the RGB squared error.
YCOCG_LINEAR_INVERSE = np.array([[1.0, 0.5, -0.5], [1.0, 0.0, 0.5], [1.0, -0.5, -0.5]])
YCOCG_SYNTHESIS_GAINS = tuple(float(g) for g in (YCOCG_LINEAR_INVERSE ** 2).sum(axis=0))  # 3, 0.5, 0.75
