import numpy as np
import pytest
from PIL import Image

from iwave.errors import IWaveError
from iwave.imageio import encode_png, read_image
from tests.conftest import photo_like


@pytest.mark.parametrize("ext", ["png", "ppm", "bmp", "tiff"])
def test_lossless_formats_read_exactly(tmp_path, ext):
    a = photo_like(12, 17, 3)
    Image.fromarray(a).save(tmp_path / f"a.{ext}")
    np.testing.assert_array_equal(read_image(tmp_path / f"a.{ext}"), a)


def test_sixteen_bit_ppm_is_not_truncated(tmp_path):
    a = photo_like(5, 7, 3, dtype=np.uint16)
    (tmp_path / "a.ppm").write_bytes(b"P6\n# comment\n7 5\n65535\n" + a.astype(">u2").tobytes())
    np.testing.assert_array_equal(read_image(tmp_path / "a.ppm"), a)


def test_png_encoder_roundtrips_every_layout(tmp_path):
    for channels in (1, 2, 3, 4):
        for dtype in (np.uint8, np.uint16):
            a = photo_like(6, 9, channels, dtype=dtype)
            (tmp_path / "o.png").write_bytes(encode_png(a))
            np.testing.assert_array_equal(read_image(tmp_path / "o.png"), a)


def test_exif_orientation_is_not_applied(tmp_path):
    a = photo_like(10, 20, 3)
    exif = Image.Exif()
    exif[0x0112] = 6                       # "rotate 90" tag
    Image.fromarray(a).save(tmp_path / "r.jpg", exif=exif, quality=100)
    assert read_image(tmp_path / "r.jpg").shape == (10, 20, 3)


def test_unsupported_modes_are_clear_errors(tmp_path):
    Image.new("CMYK", (4, 4)).save(tmp_path / "c.tiff")
    with pytest.raises(IWaveError, match="CMYK"):
        read_image(tmp_path / "c.tiff")
    frames = [Image.new("L", (4, 4), v) for v in (0, 255)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    with pytest.raises(IWaveError, match="frames"):
        read_image(tmp_path / "anim.gif")


def test_reading_leaves_pillows_own_size_limit_alone(tmp_path):
    Image.fromarray(photo_like(12, 17, 3)).save(tmp_path / "a.bmp")
    before = Image.MAX_IMAGE_PIXELS
    read_image(tmp_path / "a.bmp", max_pixels=10_000)
    assert Image.MAX_IMAGE_PIXELS == before
    with pytest.raises(IWaveError, match="more than the limit"):
        read_image(tmp_path / "a.bmp", max_pixels=100)
