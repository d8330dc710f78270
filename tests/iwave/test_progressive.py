"""compress(progressive=True) / `iwave compress --progressive`: a lossless
file with no group coded pixel by pixel, so that a preview decodes the
coarse subbands alone instead of the whole image."""
import numpy as np
import pytest
from PIL import Image

from iwave import IWaveError, decoder
from iwave.cli import main
from tests.conftest import lossless_info


def coding(data):
    return lossless_info(data)["coding"]


@pytest.fixture
def pixel_groups(monkeypatch):
    """How many groups the decoder decodes pixel by pixel."""
    calls = []
    real = decoder._pixel_group
    monkeypatch.setattr(decoder, "_pixel_group", lambda *a: calls.append(1) or real(*a))
    return calls


def test_progressive_files_are_on_the_wavelet_and_previews_skip_the_full_decode(codec, sample,
                                                                               pixel_groups):
    plain, progressive = codec.compress(sample), codec.compress(sample, progressive=True)
    assert coding(plain) == "pixel by pixel"      # (else this test would show nothing)
    assert coding(progressive) == "wavelet"
    np.testing.assert_array_equal(codec.decompress(progressive), sample)
    pixel_groups.clear()
    for scale in ("1/2", "1/4"):
        preview = codec.decompress(progressive, scale=scale)
        k = int(scale[2:])
        assert preview.shape == (-(-sample.shape[0] // k), -(-sample.shape[1] // k), 3)
    assert not pixel_groups
    codec.decompress(plain, scale="1/4")
    assert pixel_groups


def test_few_valued_planes_keep_their_indices(codec):
    """(Graphics: context-coded indices are several times smaller than the wavelet's
    subbands there, and small files decode fast whole.)"""
    grey = (np.arange(48 * 40).reshape(48, 40) % 7 * 30).astype(np.uint8)
    data = codec.compress(grey, progressive=True)
    assert coding(data) == "indices" and data == codec.compress(grey)
    np.testing.assert_array_equal(codec.decompress(data), grey)


def test_lossy_files_are_the_same_either_way(codec, sample):
    assert codec.compress(sample, step=30, progressive=True) == codec.compress(sample, step=30)


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_the_flag_must_be_a_bool(codec, sample, bad):
    with pytest.raises(IWaveError, match="progressive must be True or False"):
        codec.compress(sample, progressive=bad)


def test_cli_option_for_files_and_folders(tmp_path, sample):
    Image.fromarray(sample).save(tmp_path / "a.png")
    assert main(["compress", str(tmp_path / "a.png"), "--progressive", "-q"]) == 0
    assert coding((tmp_path / "a.iwv").read_bytes()) == "wavelet"
    (tmp_path / "in").mkdir()
    Image.fromarray(sample[:40, :56]).save(tmp_path / "in" / "b.png")
    assert main(["compress", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--progressive", "-q"]) == 0
    assert coding((tmp_path / "out" / "b.iwv").read_bytes()) == "wavelet"
