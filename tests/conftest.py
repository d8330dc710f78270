import os
from pathlib import Path

import pytest

# Tests check correctness, not speed: one thread for torch here and in every
# subprocess a test starts, so the suite keeps its pace when other programs
# hold cores (intra-op threads collapse then; docs/speed.md). Tests of thread
# independence ask for their thread counts explicitly.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from iwave.synthetic import photo_like  # noqa: F401  (re-exported for tests)

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


def lossless_info(data):
    """What `iwave info` says of a lossless file's tiles (colour form, coding: iwave.file_info),
    read with the shipped model that made it."""
    from iwave import bitstream
    from iwave.file_info import lossless_tiles
    from iwave.model import find_shipped_model
    header, chunks = bitstream.read(data)
    return lossless_tiles(find_shipped_model(header.weights_id), header, chunks)


@pytest.fixture
def sample():
    from iwave.imageio import read_image
    return read_image(ROOT / "iwave" / "data" / "sample.png")


def force_lossless_path(monkeypatch, path):
    """Make the encoder code every lossless group on lifting path `path` alone
    (iwave.lifting_paths; PIXELS: pixel by pixel)."""
    from iwave import lifting_paths
    monkeypatch.setattr(lifting_paths, "tried", lambda model, paths, bands_on, pixels=True: [
        (path, None if path == lifting_paths.PIXELS else bands_on(lifting_paths.transform(model, path)))])
