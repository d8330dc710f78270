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
    # each file names its own model and decodes with it, whichever model
    # the codec was started with, as long as it is shipped
    only_lossy = Codec("iwave-lossy")
    assert np.array_equal(only_lossy.decompress(lossy), codec.decompress(lossy))
    assert np.array_equal(only_lossy.decompress(lossless), a)
    (weights / "iwave-default.npz").unlink()
    with pytest.raises(IWaveError, match="decode it with the model that made it"):
        Codec("iwave-lossy").decompress(lossless)


def test_files_of_an_archived_model_still_decode(weights, sample):
    a = sample[:40, :56]
    data = Codec().compress(a)
    (weights / "archive").mkdir()
    (weights / "iwave-default.npz").rename(weights / "archive" / "iwave-default-old.npz")
    IWaveModel({"levels": 3, "wavelet": "cdf53", "ctx_width": 6}).save(weights / "iwave-default.npz")
    codec = Codec()
    assert codec.model_for(False).identifier() != IWaveModel.load(
        weights / "archive" / "iwave-default-old.npz").identifier()
    assert np.array_equal(codec.decompress(data), a)


def test_lossless_files_use_the_lossless_model_when_shipped(weights):
    IWaveModel({"levels": 3, "wavelet": "cdf53"}).save(weights / "iwave-lossless.npz")
    paths = resolve_model_paths()
    assert paths["lossless"] == weights / "iwave-lossless.npz"
    assert paths["lossy"] == weights / "iwave-lossy.npz"


def test_coding_tables_travel_with_the_model_and_name_it(tmp_path, sample):
    """A model's fitted tables are saved with it, change its identifier (a
    model without tables keeps its own), code exactly, and damaged tables
    make the model file unloadable rather than the files undecodable."""
    from iwave.entropy.tables import fit_tables, load_tables
    model = IWaveModel({"levels": 3, "wavelet": "cdf53"})
    plain = model.identifier()
    counts = np.zeros_like(load_tables().cum)
    counts[:, 0] = 1000                        # shift mass to the most negative symbol
    model.coding_tables = fit_tables(counts)
    assert model.identifier() != plain
    model.save(tmp_path / "t.npz")
    loaded = IWaveModel.load(tmp_path / "t.npz")
    assert loaded.identifier() == model.identifier()
    a = sample[:40, :56]
    codec = Codec(loaded)
    assert np.array_equal(codec.decompress(codec.compress(a)), a)
    lossy = codec.decompress(codec.compress(a, step=6.0))
    assert np.abs(lossy.astype(int) - a).mean() < 6

    with np.load(tmp_path / "t.npz") as f:
        arrays = dict(f)
    arrays["tables/cum"] = arrays["tables/cum"].copy()
    arrays["tables/cum"][5, 3] = 0
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(IWaveError, match="cannot load model"):
        IWaveModel.load(tmp_path / "bad.npz")


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


def test_a_quarter_mean_model_codes_exactly_and_keeps_its_tables(tmp_path, sample):
    from iwave.entropy.tables import fit_tables, load_tables
    model = IWaveModel({"levels": 3, "wavelet": "cdf53", "mean_resolution": 4})
    a = sample[:40, :56]
    codec = Codec(model)
    assert np.array_equal(codec.decompress(codec.compress(a)), a)
    lossy = codec.compress(a, step=6.0)
    assert np.abs(codec.decompress(lossy).astype(int) - a).mean() < 6
    model.coding_tables = fit_tables(np.ones_like(load_tables(4).cum))
    model.save(tmp_path / "q.npz")
    loaded = IWaveModel.load(tmp_path / "q.npz")
    assert loaded.mean_resolution == 4 and loaded.identifier() == model.identifier()
    assert np.array_equal(Codec(loaded).decompress(Codec(loaded).compress(a)), a)
    # integer-mean tables in a quarter-mean model would decode nonsense: refused
    model.coding_tables = fit_tables(np.ones_like(load_tables(1).cum))
    model.save(tmp_path / "bad.npz")
    with pytest.raises(IWaveError, match="cannot load"):
        IWaveModel.load(tmp_path / "bad.npz")
