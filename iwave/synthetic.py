"""Generated photo-like test images (smooth structure plus mild noise), for
tests and stress runs that must not depend on image files."""
import numpy as np


def photo_like(h, w, channels=3, seed=0, dtype=np.uint8):
    rng = np.random.default_rng(seed)
    hi = 65535 if dtype == np.uint16 else 255
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    planes = []
    for c in range(channels):
        planes.append(_plane(y, x, c, rng.uniform(0.01, 0.1, 2), rng) * hi)
    a = np.stack(planes, -1).round().astype(dtype)
    return a[:, :, 0] if channels == 1 else a


def large_photo_like(h, w, seed=0, block_rows=256):
    """An RGB uint8 photo_like image made a strip at a time, so making it
    needs little more memory than the image itself (the one-shot version
    needs about 90 bytes per pixel)."""
    rng = np.random.default_rng(seed)
    freqs = rng.uniform(0.01, 0.1, (3, 2))
    out = np.empty((h, w, 3), np.uint8)
    x = np.arange(w, dtype=np.float32)[None]
    for i, y0 in enumerate(range(0, h, block_rows)):
        y = np.arange(y0, min(y0 + block_rows, h), dtype=np.float32)[:, None]
        noise = np.random.default_rng([seed, i])
        for c in range(3):
            out[y0:y0 + len(y), :, c] = (_plane(y, x, c, freqs[c], noise) * 255).round()
    return out


def _plane(y, x, c, freq, noise):
    """One component in [0, 1]: a smooth pattern plus mild noise."""
    p = 0.5 + 0.3 * np.sin(x * freq[0] + c) * np.cos(y * freq[1])
    p = p + noise.normal(0, 0.03, p.shape)
    return np.clip(p, 0, 1)
