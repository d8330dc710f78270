"""Pictures decoded from 8-bit YCbCr (iwave.ycbcr, file formats 18 and 19):
a JPEG's decoded pixels are coded as its planes and come back exactly,
with or without pixels edited since; pictures that never were YCbCr keep
YCoCg-R; the form's syntax round-trips and refuses what is out of range.
Chroma at half resolution: tests/iwave/test_ycbcr420.py."""
import io

import numpy as np
import pytest
from PIL import Image

import iwave
from iwave import ycbcr, ycbcr_fit
from iwave.entropy import EntropyError, ValueDecoder, ValueEncoder
from iwave.synthetic import photo_like


def jpeg_decoded(h=72, w=90, seed=3, subsampling=0):
    """A photo-like picture through a JPEG (Pillow's libjpeg) and back."""
    buf = io.BytesIO()
    Image.fromarray(photo_like(h, w, 3, seed=seed)).save(buf, "JPEG", quality=90, subsampling=subsampling)
    return np.asarray(Image.open(buf).convert("RGB"))


def forms(data):
    """The colour form each colour group of a file reads (None: YCoCg-R)."""
    seen, read = [], ycbcr.read
    try:
        ycbcr.read = lambda *args: seen.append(read(*args)) or seen[-1]
        out = iwave.decompress(data)
    finally:
        ycbcr.read = read
    return out, seen


@pytest.mark.parametrize("subsampling", [0, 2])       # 4:4:4 and 4:2:0
def test_a_decoded_jpeg_is_coded_as_its_planes_and_comes_back_exactly(subsampling):
    a = jpeg_decoded(subsampling=subsampling)
    planes, fixes = ycbcr_fit.planes(np.moveaxis(a, -1, 0))
    assert len(fixes.positions) <= a.shape[0] * a.shape[1] // 100      # libjpeg's own arithmetic
    np.testing.assert_array_equal(ycbcr.apply(ycbcr.to_rgb(planes), fixes), np.moveaxis(a, -1, 0))
    data = iwave.compress(a)
    out, seen = forms(data)
    np.testing.assert_array_equal(out, a)
    assert len(seen) == 1 and seen[0] is not None
    assert (seen[0].phase is None) == (subsampling == 0)     # 4:2:0: chroma at half resolution
    ycocg = iwave.compress(photo_like(72, 90, 3, seed=3))     # the same picture never a JPEG
    assert forms(ycocg)[1] == [None]


@pytest.mark.parametrize("effort", [1, 9])
def test_edited_pixels_are_mended_at_every_effort(effort):
    a = jpeg_decoded(64, 64, seed=5).copy()
    rng = np.random.default_rng(0)
    ys, xs = rng.integers(0, 64, 20), rng.integers(0, 64, 20)
    a[ys, xs] = rng.integers(0, 256, (20, 3))
    out, seen = forms(iwave.compress(a, effort=effort))
    np.testing.assert_array_equal(out, a)
    assert seen[0] is not None and len(seen[0].fixes.positions) >= 1


def test_with_alpha_and_tiles_and_previews():
    a = jpeg_decoded(100, 150, seed=7)
    rgba = np.dstack([a, np.full(a.shape[:2], 200, np.uint8)])
    data = iwave.Codec(tile=64).compress(rgba)
    out, seen = forms(data)
    np.testing.assert_array_equal(out, rgba)
    assert len(seen) == 6 and all(s is not None for s in seen)      # every tile
    preview = iwave.decompress(data, scale="1/2")
    assert preview.shape == (50, 75, 4)
    assert np.abs(preview[..., :3].astype(int) - a[::2, ::2]).mean() < 12


def test_pictures_never_decoded_from_ycbcr_are_not_candidates():
    assert ycbcr_fit.planes(np.moveaxis(photo_like(40, 50, 3, seed=1), -1, 0)) is None
    grey = np.repeat(photo_like(40, 50, 1, seed=1)[:, :, None], 3, 2)   # R = G = B is Cb = Cr = 0
    assert len(ycbcr_fit.planes(np.moveaxis(grey, -1, 0))[1].positions) == 0
    np.testing.assert_array_equal(iwave.decompress(iwave.compress(grey)), grey)


def syntax_round_trip(form, pixels=100):
    enc = ValueEncoder()
    ycbcr.write(enc, form)
    return ycbcr.read(ValueDecoder(enc.finish()), pixels)


@pytest.mark.parametrize("phase, vertical", [(None, True), ((0, 0), True), ((0, 1), True), ((1, 0), True),
                                             ((1, 1), True), ((0, 0), False), ((0, 1), False)])
def test_forms_round_trip(phase, vertical):
    assert syntax_round_trip(None) is None
    none = ycbcr.Fixes(np.zeros(0, np.int64), np.zeros((0, 3), np.int64))
    empty = syntax_round_trip(ycbcr.Form(phase, none, vertical))
    assert empty.phase == phase and empty.vertical == vertical and len(empty.fixes.positions) == 0
    values = np.array([[1, -2, 0], [255, 0, -255], [0, 0, 1], [3, 3, 3]])
    fixes = ycbcr.Fixes(np.array([0, 1, 17, 99]), values)
    back = syntax_round_trip(ycbcr.Form(phase, fixes, vertical))
    assert back.phase == phase and back.vertical == vertical
    np.testing.assert_array_equal(back.fixes.positions, fixes.positions)
    np.testing.assert_array_equal(back.fixes.values, fixes.values)


@pytest.mark.parametrize("bad", ["flag", "alignment", "format 18", "count", "position", "value"])
def test_bad_forms_are_refused(bad):
    enc = ValueEncoder()
    one = lambda v: enc.add(np.array([v]), np.zeros(1, np.int64), np.full(1, ycbcr.ZERO_INDEX))  # noqa: E731
    full = lambda fixes: ycbcr.Form(None, fixes)      # noqa: E731
    if bad == "flag":
        one(3)
    elif bad == "alignment":
        one(ycbcr.SUBSAMPLED)
        one(6)
    elif bad == "format 18":       # chroma at half resolution came with format 19
        ycbcr.write(enc, ycbcr.Form((0, 0), ycbcr.Fixes(np.zeros(0, np.int64), np.zeros((0, 3), np.int64))))
    elif bad == "count":
        ycbcr.write(enc, full(ycbcr.Fixes(np.arange(101), np.zeros((101, 3), np.int64))))
    elif bad == "position":
        ycbcr.write(enc, full(ycbcr.Fixes(np.array([3, 100]), np.zeros((2, 3), np.int64))))
    else:
        ycbcr.write(enc, full(ycbcr.Fixes(np.array([3]), np.array([[0, 300, 0]]))))
    with pytest.raises(EntropyError):
        ycbcr.read(ValueDecoder(enc.finish()), 100, subsampled=bad != "format 18")
