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
