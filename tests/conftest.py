import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
KODAK = ROOT.parent / "shared" / "data" / "kodak"
SHIPPED_MODEL = ROOT / "weights" / "iwave-default.npz"


@pytest.fixture(scope="session")
def model():
    """The shipped default model (falls back to an untrained one only while
    no weights exist yet, so the plumbing tests can still run)."""
    from iwave.model import IWaveModel
    if SHIPPED_MODEL.exists():
        return IWaveModel.load(SHIPPED_MODEL)
    return IWaveModel()


@pytest.fixture(scope="session")
def codec(model):
    from iwave.codec import Codec
    return Codec(model)


@pytest.fixture
def sample():
    from iwave.imageio import read_image
    return read_image(ROOT / "iwave" / "data" / "sample.png")


def photo_like(h, w, channels=3, seed=0, dtype=np.uint8):
    """Smooth random image with some texture: compresses like a photo."""
    rng = np.random.default_rng(seed)
    hi = 65535 if dtype == np.uint16 else 255
    y, x = np.mgrid[0:h, 0:w]
    planes = []
    for c in range(channels):
        f = rng.uniform(0.01, 0.1, 2)
        p = 0.5 + 0.3 * np.sin(x * f[0] + c) * np.cos(y * f[1]) + rng.normal(0, 0.03, (h, w))
        planes.append(np.clip(p, 0, 1) * hi)
    a = np.stack(planes, -1).round().astype(dtype)
    return a[:, :, 0] if channels == 1 else a
