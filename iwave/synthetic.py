"""Generated photo-like test images (smooth structure plus mild noise), for
tests and stress runs that must not depend on image files."""
import numpy as np


def photo_like(h, w, channels=3, seed=0, dtype=np.uint8):
    rng = np.random.default_rng(seed)
    hi = 65535 if dtype == np.uint16 else 255
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    planes = []
    for c in range(channels):
        f = rng.uniform(0.01, 0.1, 2)
        p = 0.5 + 0.3 * np.sin(x * f[0] + c) * np.cos(y * f[1]) + rng.normal(0, 0.03, (h, w))
        planes.append(np.clip(p, 0, 1) * hi)
    a = np.stack(planes, -1).round().astype(dtype)
    return a[:, :, 0] if channels == 1 else a
