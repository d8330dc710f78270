"""Pictures decoded from 4:2:0 and 4:2:2 JPEGs (iwave.ycbcr's
half-resolution chroma, file format 19): the decoder's upsampling is
libjpeg's to the value, the encoder's search (iwave.ycbcr420_fit) finds
planes, sampling and alignment that give the picture back, and files of
such pictures come back exactly at any size, alignment, tiling and with
edited pixels; previews stay close."""
import io

import numpy as np
import pytest
from PIL import Image, features

import iwave
from iwave import ycbcr, ycbcr420_fit
from iwave.synthetic import photo_like
from tests.iwave.test_ycbcr import forms


def jpeg_420(h, w, seed=3, quality=90, subsampling=2):
    """(the JPEG's bytes, its pixels as Pillow's libjpeg decodes them); 4:2:0,
    or with subsampling 1, 4:2:2. The form follows libjpeg-turbo's
    upsampling: a Pillow built on another JPEG library skips the test."""
    if not features.check_feature("libjpeg_turbo"):
        pytest.skip("Pillow's JPEG library is not libjpeg-turbo")
    buf = io.BytesIO()
    Image.fromarray(photo_like(h, w, 3, seed=seed)).save(buf, "JPEG", quality=quality,
                                                          subsampling=subsampling)
    return buf.getvalue(), np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def ycc(data, scale=1):
    """libjpeg's own Y, Cb, Cr planes (3, h, w), at full size or (scale 2)
    as it decodes them at half size: then the chroma is the stored plane."""
    im = Image.open(io.BytesIO(data))
    im.draft("YCbCr", (im.size[0] // scale, im.size[1] // scale))
    return np.moveaxis(np.asarray(im), -1, 0).astype(np.int64)


@pytest.mark.parametrize("h, w", [(48, 64), (37, 51)])
def test_upsampling_is_libjpegs(h, w):
    data, _ = jpeg_420(h, w)
    full, half = ycc(data), ycc(data, 2)
    assert half.shape[1:] == ((h + 1) // 2, (w + 1) // 2)
    for k in (1, 2):     # libjpeg repeats the edge samples: the ring
        np.testing.assert_array_equal(ycbcr.upsample(np.pad(half[k], 1, mode="edge"), h, w, 0, 0), full[k])


def test_the_search_upsamples_as_the_decoder():
    rng = np.random.default_rng(1)
    for h, w, py, px, vertical in [(7, 9, 0, 0, True), (8, 5, 1, 0, True), (1, 1, 1, 1, True),
                                   (6, 6, 0, 1, True), (7, 9, 0, 0, False), (3, 8, 0, 1, False),
                                   (1, 1, 0, 1, False)]:
        plane = rng.integers(0, 256, ycbcr.plane_shape(h, w, py, px, vertical))
        ours = [[ycbcr420_fit._up(plane, y + py, x + px, False, vertical) for x in range(w)]
                for y in range(h)]
        np.testing.assert_array_equal(ycbcr.upsample(plane, h, w, py, px, vertical), ours)


@pytest.mark.parametrize("dy, dx", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_planes_and_alignment_are_found_in_any_crop(dy, dx):
    _, a = jpeg_420(70, 84, seed=5)
    crop = np.moveaxis(a[dy:dy + 60, dx:dx + 72], -1, 0).astype(np.int64)
    y, cb, cr, phase, fixes, vertical = ycbcr420_fit.planes(crop)
    assert phase == (dy, dx) and vertical
    assert cb.shape == cr.shape == ycbcr.plane_shape(60, 72, dy, dx)
    assert len(fixes.positions) <= 0.02 * y.size
    made = ycbcr.to_rgb(np.stack([y, ycbcr.upsample(cb, 60, 72, *phase) - 128,
                                  ycbcr.upsample(cr, 60, 72, *phase) - 128]))
    np.testing.assert_array_equal(ycbcr.apply(made, fixes), crop)


@pytest.mark.parametrize("dx", [0, 1])
def test_422_is_found_too(dx):
    """4:2:2 (chroma halved across only, as many cameras store it): libjpeg
    blends 3:1 with biases 1 and 2 (h2v1); Pillow's own JPEGs come back with
    almost nothing to mend, so the rule is its rule."""
    _, a = jpeg_420(50, 70, seed=6, subsampling=1)
    crop = np.moveaxis(a[:, dx:dx + 64], -1, 0).astype(np.int64)
    y, cb, cr, phase, fixes, vertical = ycbcr420_fit.planes(crop)
    assert phase == (0, dx) and not vertical
    assert cb.shape == ycbcr.plane_shape(50, 64, 0, dx, False) == (50, 34 + dx)
    assert len(fixes.positions) <= 0.01 * y.size
    made = ycbcr.to_rgb(np.stack([y] + [ycbcr.upsample(p, 50, 64, *phase, False) - 128 for p in (cb, cr)]))
    np.testing.assert_array_equal(ycbcr.apply(made, fixes), crop)


def test_pictures_not_from_420_are_not_candidates():
    assert ycbcr420_fit.planes(np.moveaxis(photo_like(40, 50, 3, seed=1), -1, 0)) is None
    buf = io.BytesIO()
    Image.fromarray(photo_like(48, 48, 3, seed=2)).save(buf, "JPEG", quality=95, subsampling=0)
    assert ycbcr420_fit.planes(np.moveaxis(np.asarray(Image.open(buf).convert("RGB")), -1, 0)) is None


@pytest.mark.parametrize("h, w", [(64, 80), (33, 47), (2, 3), (1, 9)])
def test_files_come_back_exactly(h, w):
    _, a = jpeg_420(max(h, 16), max(w, 16), seed=h)
    a = a[1:1 + h, :w]
    out, seen = forms(iwave.compress(a))
    np.testing.assert_array_equal(out, a)
    if h * w > 1000:
        assert seen[0] is not None and seen[0].phase == (1, 0)


def test_edited_pixels_tiles_alpha_and_previews():
    _, a = jpeg_420(150, 140, seed=9)
    a = a.copy()
    rng = np.random.default_rng(0)
    a[rng.integers(0, 150, 30), rng.integers(0, 140, 30)] = rng.integers(0, 256, (30, 3))
    rgba = np.dstack([a, np.full(a.shape[:2], 255, np.uint8)])
    data = iwave.Codec(tile=64).compress(rgba)
    out, seen = forms(data)
    np.testing.assert_array_equal(out, rgba)
    assert len(seen) == 9 and all(s is not None for s in seen)
    assert sum(s.phase is not None for s in seen) >= 4      # (a narrow edge tile may code smaller at 4:4:4)
    assert sum(len(s.fixes.positions) for s in seen) >= 20
    for scale, k in (("1/2", 2), ("1/4", 4)):
        preview = iwave.decompress(data, scale=scale)
        assert preview.shape[:2] == (-(-150 // k), -(-140 // k))
        assert np.abs(preview[..., :3].astype(int) - a[::k, ::k]).mean() < 14


@pytest.mark.parametrize("subsampling, name", [(2, "YCbCr 4:2:0"), (1, "YCbCr 4:2:2")])
def test_422_files_and_info(tmp_path, subsampling, name):
    _, a = jpeg_420(64, 72, seed=4, subsampling=subsampling)
    path = tmp_path / "a.iwv"
    path.write_bytes(iwave.compress(a))
    np.testing.assert_array_equal(iwave.decompress(path.read_bytes()), a)
    preview = iwave.decompress(path.read_bytes(), scale="1/2")
    assert np.abs(preview.astype(int) - a[::2, ::2]).mean() < 14
    from iwave.cli import main
    import contextlib
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["info", str(path)]) in (0, None)
    assert f"colour: {name}\n" in out.getvalue()


@pytest.mark.parametrize("effort", [1, 9])
def test_every_effort_codes_the_form(effort):
    """Effort 1 codes one lifting path; effort 9 every path of every form."""
    _, a = jpeg_420(48, 56, seed=8)
    out, seen = forms(iwave.compress(a, effort=effort))
    np.testing.assert_array_equal(out, a)
    assert seen[0].phase == (0, 0) and seen[0].vertical
