"""--bpp's search: close to the target and never over it, in a few encodes,
with the exhaustive search behind it for what the estimate cannot steer."""
import numpy as np
import pytest

from iwave import rate_search
from iwave.codec import Codec
from iwave.errors import IWaveError
from tests.conftest import photo_like


@pytest.fixture(scope="module")
def codec():
    return Codec(threads=1)            # the shipped models: what users get


@pytest.fixture(scope="module")
def image():
    return photo_like(160, 224, 3, seed=3)


def _counting(codec, monkeypatch):
    calls = []
    code = Codec._code

    def spy(self, *args):
        calls.append(args[2])
        return code(self, *args)
    monkeypatch.setattr(Codec, "_code", spy)
    return calls


@pytest.mark.parametrize("target", [0.3, 1.0, 2.5])
def test_bpp_lands_just_under_the_target_in_a_few_encodes(codec, sample, target, monkeypatch):
    calls = _counting(codec, monkeypatch)
    data = codec.compress(sample, bpp=target)
    rate = len(data) * 8 / (sample.shape[0] * sample.shape[1])
    assert rate_search.CLOSE_ENOUGH * target <= rate <= target
    assert len(calls) <= rate_search.MAX_ENCODES
    assert codec.decompress(data).shape == sample.shape


def test_rates_that_jump_with_the_step_are_bisected_and_never_overshoot(codec, image, monkeypatch):
    """A smooth synthetic image's rate falls off a cliff near one step."""
    calls = _counting(codec, monkeypatch)
    data = codec.compress(image, bpp=0.3)
    assert len(data) * 8 / (image.shape[0] * image.shape[1]) <= 0.3
    assert len(calls) <= rate_search.MAX_ENCODES + rate_search.BRACKET_ENCODES


def test_an_unreachable_target_is_still_a_clear_error(codec, image):
    with pytest.raises(IWaveError, match="cannot reach"):
        codec.compress(image, bpp=0.0001)


def test_without_a_fit_the_exhaustive_search_decides(codec, image, monkeypatch):
    monkeypatch.setattr(rate_search, "search", lambda *args: None)
    data = codec.compress(image, bpp=1.0)
    assert len(data) * 8 / (image.shape[0] * image.shape[1]) <= 1.0


def test_grey_alpha_and_metadata_files_keep_under_the_target(codec):
    grey = photo_like(96, 128, 1, seed=4).reshape(96, 128)
    rgba = photo_like(96, 128, 4, seed=6)
    rgba[..., 3] = np.where(np.arange(128) < 64, 255, 128)[None]      # alpha coded losslessly
    for a, meta in ((grey, None), (rgba, {"xmp": b"<x/>" * 200})):
        data = codec.compress(a, bpp=1.5, metadata=meta)
        extra = 0 if meta is None else len(data) - len(codec.compress(a, bpp=1.5))
        assert (len(data) - extra) * 8 / (a.shape[0] * a.shape[1]) <= 1.5


def test_blocks_sample_a_large_image_evenly():
    a = np.zeros((1000, 3000, 3), np.uint8)
    blocks = rate_search.sample_blocks(a)
    assert all(b.shape == (rate_search.BLOCK, rate_search.BLOCK, 3) for b in blocks)
    assert abs(len(blocks) * rate_search.BLOCK ** 2 - rate_search.ESTIMATE_PIXELS) \
        <= 3 * rate_search.BLOCK ** 2
    small = np.zeros((100, 90, 3), np.uint8)
    assert rate_search.sample_blocks(small)[0] is small


def test_the_estimate_falls_as_the_step_grows(codec, image):
    estimate = rate_search.RateEstimate(codec.model_for(True), image)
    rates = [estimate.bpp(s) for s in (2, 8, 32, 128)]
    assert rates == sorted(rates, reverse=True) and rates[-1] > 0
