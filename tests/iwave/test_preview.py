"""Previews from the pyramid (issue 28): decompress(data, scale=1/2^k) gives
the low-pass band of transform level k, decoding only the coarse subbands.
Lossless previews are checked against a forward transform of k levels run
here, independently of the decoder's partial inverse."""
import copy

import numpy as np
import pytest
import torch
from PIL import Image

from iwave import IWaveError, bitstream, lifting_paths, preview, sample_map
from iwave.bench.preview import box_downscale, psnr
from iwave.cli import main
from iwave.codec import Codec
from iwave.colour import rgb_to_ycocg, ycocg_to_rgb
from iwave.model import IWaveModel
from tests.conftest import ROOT, photo_like


@pytest.fixture(autouse=True)
def lifting_path(monkeypatch):
    """The encoder codes every lossless group on the lifting path this sets
    (the model's own unless a test asks for another), so that the expected
    low-pass bands below are those of a known transform."""
    chosen = [lifting_paths.OWN]
    monkeypatch.setattr(lifting_paths, "tried", lambda model, paths, bands_on, pixels=True: [
        (p, None if p == lifting_paths.PIXELS else bands_on(lifting_paths.transform(model, p)))
        for p in chosen])
    return chosen


def low_pass(model, planes, level, bit_depth=8, rounding=True, path=lifting_paths.OWN):
    """(C, h, w) planes -> their low-pass band after `level` levels of the
    model's transform on lifting path `path`: the forward transform itself,
    stopped after `level`."""
    t = copy.deepcopy(lifting_paths.transform(model, path))
    t.levels = level
    with torch.no_grad():
        band = t.forward(torch.from_numpy(planes[:, None].astype(np.float64)), bit_depth, rounding)[0]
    return band[:, 0].numpy()


def expected(model, a, level, bit_depth=8, path=lifting_paths.OWN):
    """The lossless preview of image a: low-pass bands of its coded components
    (Y, Co, Cg and alpha apart), back through YCoCg-R, clipped."""
    a3 = a if a.ndim == 3 else a[:, :, None]
    colour, alpha = (a3[:, :, :3], a3[:, :, 3:]) if a3.shape[2] >= 3 else (a3[:, :, :1], a3[:, :, 1:])
    if colour.shape[2] == 3:
        ll = low_pass(model, np.moveaxis(rgb_to_ycocg(colour), -1, 0), level, bit_depth, path=path)
        planes = np.moveaxis(ycocg_to_rgb(np.moveaxis(ll.astype(np.int64), 0, -1)), -1, 0)
    else:
        planes = low_pass(model, np.moveaxis(colour, -1, 0), level, bit_depth, path=path).astype(np.int64)
    if alpha.shape[2]:
        planes = np.concatenate([planes, low_pass(model, np.moveaxis(alpha, -1, 0), level, bit_depth,
                                                  path=path)])
    out = np.moveaxis(np.clip(planes, 0, (1 << bit_depth) - 1), 0, -1).astype(a.dtype)
    return out if a.ndim == 3 else out[:, :, 0]


@pytest.fixture(scope="module")
def rgb():
    return photo_like(37, 53, 3, seed=2)


@pytest.mark.parametrize("path", list(range(len(lifting_paths.PATHS))) + [lifting_paths.PIXELS])
def test_lossless_preview_is_the_transforms_low_pass(codec, model, rgb, lifting_path, path):
    """(Coded pixel by pixel, the model's own transform's.)"""
    lifting_path[:] = [path]
    data = codec.compress(rgb)
    for k in range(1, model.levels + 1):
        got = codec.decompress(data, scale=f"1/{1 << k}")
        assert got.shape == (-(-37 // (1 << k)), -(-53 // (1 << k)), 3)
        np.testing.assert_array_equal(got, expected(model, rgb, k, path=path % lifting_paths.PIXELS))


@pytest.mark.parametrize("h, w", [(1, 1), (2, 3), (37, 53), (9, 64)])
def test_preview_shapes_are_the_low_pass_band_sizes(codec, h, w):
    data = codec.compress(photo_like(h, w, 1, seed=h))
    for k in range(1, 5):
        assert codec.decompress(data, scale=0.5 ** k).shape == (-(-h // (1 << k)), -(-w // (1 << k)))


@pytest.mark.parametrize("step", [None, 6.0])
def test_scale_one_is_the_full_decode(codec, rgb, step):
    data = codec.compress(rgb, step=step)
    full = codec.decompress(data)
    for one in (1, 1.0, "1", "1/1"):
        np.testing.assert_array_equal(codec.decompress(data, scale=one), full)


def test_sixteen_bit_and_alpha(codec, model):
    rgba16 = photo_like(30, 42, 4, seed=3, dtype=np.uint16)
    ga = photo_like(33, 35, 2, seed=4)
    for a, depth in ((rgba16, 16), (ga, 8)):
        data = codec.compress(a)
        for k in (1, 3):
            got = codec.decompress(data, scale=1 / (1 << k))
            assert got.dtype == a.dtype
            np.testing.assert_array_equal(got, expected(model, a, k, depth))
    # lossy colour with lossless alpha: the alpha plane is still its exact low-pass
    rgba = photo_like(30, 42, 4, seed=5)
    got = codec.decompress(codec.compress(rgba, step=4.0), scale="1/2")
    np.testing.assert_array_equal(got[:, :, 3], expected(model, rgba[:, :, 3], 1))
    assert psnr(got[:, :, :3], box_downscale(rgba[:, :, :3], 1), 255) > 25


def test_sample_mapped_components_map_the_low_pass_of_their_indices(codec, model):
    a = (photo_like(40, 48, 1, seed=6, dtype=np.uint16) // 300 * 300 + 7).astype(np.uint16)
    values = np.unique(a)
    indices = np.searchsorted(values, a)
    depth = sample_map.coded_depth(values, 16, tight=True)
    ll = low_pass(model, indices[None], 2, depth)[0].astype(np.int64)
    got = codec.decompress(codec.compress(a), scale="1/4")
    np.testing.assert_array_equal(got, values[np.clip(ll, 0, len(values) - 1)])


def test_tiled_previews(model):
    a = photo_like(100, 140, 3, seed=5)        # 2 x 3 tiles of 64, ragged edges
    tiled = Codec(model, tile=64)
    data = tiled.compress(a)
    for k in (2, 4):
        f = 1 << k
        got = tiled.decompress(data, scale=1 / f)
        want = np.zeros_like(got)
        for y0, y1, x0, x1 in bitstream.tile_grid(100, 140, 64):
            want[y0 // f:-(-y1 // f), x0 // f:-(-x1 // f)] = expected(model, a[y0:y1, x0:x1], k)
        np.testing.assert_array_equal(got, want)
    # lossy tiles overlap by 16 pixels: aligned up to 1/16
    lossy = tiled.decompress(tiled.compress(a[:80, :90], step=4.0), scale="1/4")
    assert lossy.shape == (20, 23, 3) and psnr(lossy, box_downscale(a[:80, :90], 2), 255) > 25
    # tiles not on the 2^k grid: refused, naming the smallest exact scale
    odd = Codec(model, tile=72)                 # a multiple of 8, not of 16
    data = odd.compress(a[:90, :90])
    assert odd.decompress(data, scale="1/8").shape == (12, 12, 3)
    with pytest.raises(IWaveError, match="smallest exact scale is 1/8"):
        odd.decompress(data, scale="1/16")


def test_lossy_previews_are_normalised_low_passes():
    """The shipped lossy model's 9/7 low-pass has a DC gain of about 1.23 per
    dimension and level; the preview divides it out."""
    model = IWaveModel.load(ROOT / "weights" / "iwave-lossy.npz")
    gain = preview.dc_gain(model.transform.lossy_coeffs)
    flat = torch.full((1, 1, 32, 32), 100.0, dtype=torch.float64)
    with torch.no_grad():
        ll = model.transform.forward(flat, 8, rounding=False)[0]
    np.testing.assert_allclose(ll.numpy(), 100.0 * gain ** (2 * model.levels))
    assert preview.dc_gain(model.transform.coeffs) == 1.0         # 5/3 (alpha, lossless)
    codec = Codec(model)
    a = photo_like(64, 80, 3, seed=7)
    data = codec.compress(a, step=4.0)
    for k in (1, 2, 3):
        got = codec.decompress(data, scale=1 / (1 << k))
        assert abs(got.mean() - a.mean()) < 1.0
        assert psnr(got, box_downscale(a, k), 255) > 25


@pytest.mark.parametrize("bad", [0, -0.5, 2, "2/1", 1 / 3, 0.3, "1/3", "3/4", "abc", "", None, "nan",
                                 float("inf"), True, "1/0", [0.5]])
def test_bad_scales_are_refused(bad):
    with pytest.raises(IWaveError, match="scale must"):
        preview.scale_level(bad)


def test_scales_beyond_the_levels_are_refused(codec, rgb):
    data = codec.compress(rgb)
    with pytest.raises(IWaveError, match="smallest scale is 1/16"):
        codec.decompress(data, scale="1/32")
    with pytest.raises(IWaveError, match="power of two"):
        codec.decompress(data, scale=0.3)


def test_scale_spellings():
    assert [preview.scale_level(s) for s in (1, "1", 0.5, "1/2", " 0.25 ", "1/8", np.float32(0.125))] == \
        [0, 0, 1, 1, 2, 3, 3]


def test_box_downscale_averages_partial_blocks():
    a = np.arange(15, dtype=np.uint8).reshape(3, 5)
    np.testing.assert_allclose(box_downscale(a, 1), [[3, 5, 6.5], [10.5, 12.5, 14]])


def cli(*args):
    try:
        return main([str(a) for a in args])
    except SystemExit as e:         # usage errors exit from argparse
        return e.code


def test_cli_writes_the_preview(capsys, tmp_path, codec, rgb):
    Image.fromarray(rgb).save(tmp_path / "x.png")
    assert cli("compress", tmp_path / "x.png", "--model", ROOT / "weights" / "iwave-default.npz") == 0
    for scale, name in (("1/4", "q.png"), ("0.5", "h.png")):
        assert cli("decompress", tmp_path / "x.iwv", "-o", tmp_path / name, "--scale", scale) == 0
        got = np.asarray(Image.open(tmp_path / name))
        np.testing.assert_array_equal(got, codec.decompress((tmp_path / "x.iwv").read_bytes(), scale=scale))
    assert "preview at scale 1/2" in capsys.readouterr().err
    for bad, status in (("1/3", 2), ("zero", 2), ("0", 2), ("4", 2), ("1/32", 1)):
        code = cli("decompress", tmp_path / "x.iwv", "-o", tmp_path / "bad.png", "--scale", bad)
        err = capsys.readouterr().err
        assert code == status and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert err.startswith("iwave: error:") and "scale" in err
    assert not (tmp_path / "bad.png").exists() and not list(tmp_path.glob(".*.part"))
