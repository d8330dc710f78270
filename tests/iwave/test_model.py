import numpy as np
import pytest

from iwave import model as model_module
from iwave.codec import Codec
from iwave.errors import IWaveError
from iwave.model import IWaveModel, resolve_model_paths


@pytest.fixture
def weights(tmp_path, monkeypatch):
    """A weights folder of two small untrained models: a lossless default
    (5/3, 3 levels) and a separate lossy one (9/7, 4 levels)."""
    monkeypatch.setattr(model_module, "weights_dirs", lambda: [tmp_path])
    monkeypatch.delenv("IWAVE_MODEL", raising=False)
    IWaveModel({"levels": 3, "wavelet": "cdf53"}).save(tmp_path / "iwave-default.npz")
    IWaveModel({"levels": 4, "wavelet": "cdf53", "lossy": {"wavelet": "cdf97"}}).save(
        tmp_path / "iwave-lossy.npz")
    return tmp_path


def test_default_codec_uses_the_lossy_model_for_lossy_files(weights, sample):
    codec = Codec()
    assert codec.model_for(False).name == "iwave-default"
    assert codec.model_for(True).name == "iwave-lossy"
    a = sample[:40, :56]
    lossless, lossy = codec.compress(a), codec.compress(a, step=8.0)
    assert np.array_equal(codec.decompress(lossless), a)
    assert np.abs(codec.decompress(lossy).astype(int) - a).mean() < 8
    # each file names its own model, and one-model codecs decode only theirs
    only_lossy = Codec("iwave-lossy")
    assert np.array_equal(only_lossy.decompress(lossy), codec.decompress(lossy))
    with pytest.raises(IWaveError, match="decode it with the model that made it"):
        only_lossy.decompress(lossless)


def test_a_named_model_codes_both_modes(weights):
    paths = resolve_model_paths("iwave-lossy")
    assert paths["lossless"] == paths["lossy"] == weights / "iwave-lossy.npz"


def test_without_a_lossy_model_the_default_codes_both(weights):
    (weights / "iwave-lossy.npz").unlink()
    paths = resolve_model_paths()
    assert paths["lossless"] == paths["lossy"] == weights / "iwave-default.npz"


def test_missing_models_are_a_clear_error(weights):
    (weights / "iwave-default.npz").unlink()
    with pytest.raises(IWaveError, match="no model named 'iwave-default'"):
        Codec()
    with pytest.raises(IWaveError, match="no model named 'nonesuch'"):
        Codec("nonesuch")
