"""After `import iwave`, Pillow opens and saves .iwv files."""
import numpy as np
import pytest
from PIL import Image

import iwave
from iwave.cli import main
from iwave.imageio import read_image
from tests.conftest import photo_like

CASES = {"L": (1, np.uint8), "LA": (2, np.uint8), "RGB": (3, np.uint8), "RGBA": (4, np.uint8),
         "I;16": (1, np.uint16)}


@pytest.mark.parametrize("mode", CASES)
def test_open_gives_the_original_pixels_of_a_lossless_file(tmp_path, mode):
    channels, dtype = CASES[mode]
    a = photo_like(21, 34, channels, dtype=dtype)
    (tmp_path / "x.iwv").write_bytes(iwave.compress(a))
    with Image.open(tmp_path / "x.iwv") as im:
        assert (im.format, im.mode, im.size) == ("IWAVE", mode, (34, 21))
        np.testing.assert_array_equal(np.asarray(im), a)


def test_save_lossless_by_default_and_lossy_with_quality(tmp_path, capsys):
    a = photo_like(40, 56, 3)
    Image.fromarray(a).save(tmp_path / "ll.iwv")
    np.testing.assert_array_equal(iwave.decompress((tmp_path / "ll.iwv").read_bytes()), a)
    Image.fromarray(a).save(tmp_path / "lossy.iwv", quality=70)
    assert main(["decompress", str(tmp_path / "lossy.iwv"), "-o", str(tmp_path / "lossy.png")]) == 0
    back = read_image(tmp_path / "lossy.png")
    assert back.shape == a.shape and 0 < np.abs(back.astype(int) - a).mean() < 8
    assert (tmp_path / "lossy.iwv").stat().st_size < (tmp_path / "ll.iwv").stat().st_size
    Image.fromarray(a).save(tmp_path / "q100.iwv", quality=100)         # 100 is lossless
    np.testing.assert_array_equal(iwave.decompress((tmp_path / "q100.iwv").read_bytes()), a)


def test_what_pillow_cannot_hold_is_refused_clearly(tmp_path):
    (tmp_path / "deep.iwv").write_bytes(iwave.compress(photo_like(16, 16, 3, dtype=np.uint16)))
    with pytest.raises(OSError, match="iwave.decompress"):
        Image.open(tmp_path / "deep.iwv")
    with pytest.raises(OSError, match="cannot write mode"):
        Image.new("CMYK", (8, 8)).save(tmp_path / "c.iwv")
    (tmp_path / "broken.iwv").write_bytes(iwave.compress(photo_like(16, 16, 3))[:60])
    with pytest.raises(Exception) as e:
        Image.open(tmp_path / "broken.iwv").load()
    assert "truncated" in str(e.value) or "corrupt" in str(e.value) or "cannot identify" in str(e.value)


def test_draft_and_reduce_decode_a_preview_from_the_pyramid(tmp_path):
    a = photo_like(64, 80, 3)
    data = iwave.compress(a)
    (tmp_path / "x.iwv").write_bytes(data)
    quarter = iwave.decompress(data, scale=1 / 4)
    with Image.open(tmp_path / "x.iwv") as im:
        np.testing.assert_array_equal(np.asarray(im.reduce(4)), quarter)
    with Image.open(tmp_path / "x.iwv") as im:
        mode, box = im.draft(None, (20, 16))
        assert im.size == (20, 16) and box == (0, 0, 20.0, 16.0)
        np.testing.assert_array_equal(np.asarray(im), quarter)
    with Image.open(tmp_path / "x.iwv") as im:
        im.thumbnail((30, 30))               # Pillow's own use of draft
        assert max(im.size) == 30
    with Image.open(tmp_path / "x.iwv") as im:     # not a power of two: Pillow's own reduction
        assert im.reduce(3).size == (27, 22)
