"""Metadata (file format 10): the ICC profile, EXIF and XMP of PNG, JPEG,
WebP and TIFF inputs go into the .iwv file and come back out of
`iwave decompress` into PNG and TIFF, checked with Pillow (an independent
reader) and libpng/libtiff; --strip leaves them out; PPM/PGM outputs warn;
damaged metadata is a clear error; files without metadata are as before."""
import io
import json
import struct
import zlib

import imagecodecs
import numpy as np
import pytest
from PIL import Image, ImageCms, PngImagePlugin

import iwave
from iwave import bitstream, image_metadata, metadata, png_chunks
from iwave.cli import main
from iwave.errors import IWaveError
from iwave.image_metadata import read_image_metadata
from iwave.imageio import read_image
from tests.conftest import ROOT, photo_like

ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = (b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n<x:xmpmeta xmlns:x="adobe:ns:meta/">'
       b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>\n<?xpacket end="w"?>')
VECTORS = ROOT / "tests" / "vectors"


def exif_bytes(orientation=6):
    """EXIF with IFD 0 tags and an Exif IFD, as Pillow writes it (with the
    JPEG 'Exif\\0\\0' prefix)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "iwave camera"
    exif[0x8769] = {0x9003: "2024:05:06 07:08:09", 0x829A: 0.004}
    return exif.tobytes()


EXIF = exif_bytes()


def unprefixed(exif):
    return exif[6:] if exif.startswith(b"Exif\x00\x00") else exif


def make(path, fmt, a=None, icc=ICC, exif=EXIF, xmp=XMP):
    """An image file with an ICC profile, EXIF and XMP, written by Pillow."""
    a = photo_like(20, 30, 3, seed=3) if a is None else a
    img = Image.fromarray(a)
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        img.save(path, "PNG", icc_profile=icc, exif=exif, pnginfo=info)
    elif fmt == "TIFF":       # EXIF's tags go into the TIFF's own IFD, the Exif IFD beside it
        tags = Image.Exif()
        tags.load(exif)
        img.save(path, "TIFF", icc_profile=icc, tiffinfo={**tags, 0x8769: tags.get_ifd(0x8769), 700: xmp})
    else:
        img.save(path, fmt, icc_profile=icc, exif=exif, xmp=xmp,
                 **({"lossless": True} if fmt == "WEBP" else {"quality": 95}))
    return path


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def pillow_metadata(path):
    """ICC, EXIF (unprefixed) and XMP as Pillow reads them."""
    with Image.open(path) as img:
        info = img.info
        xmp, exif = info.get("xmp"), unprefixed(info.get("exif") or b"")
        found = {"icc": info.get("icc_profile"), "exif": exif,
                 "xmp": xmp.encode() if isinstance(xmp, str) else xmp}
        return {k: v for k, v in found.items() if v}


@pytest.mark.parametrize("fmt, suffix", [("PNG", ".png"), ("JPEG", ".jpg")])
def test_png_and_jpeg_metadata_come_back_byte_for_byte(capsys, tmp_path, fmt, suffix):
    src = make(tmp_path / f"in{suffix}", fmt)
    original = pillow_metadata(src)
    assert set(original) == {"icc", "exif", "xmp"} and original["icc"] == ICC
    assert original["exif"] == unprefixed(EXIF) and original["xmp"] == XMP
    assert read_image_metadata(src) == original           # our parser agrees with Pillow
    assert run(capsys, "compress", src, "-o", tmp_path / "x.iwv")[0] == 0
    assert iwave.read_metadata(tmp_path / "x.iwv") == original
    code, _, err = run(capsys, "decompress", tmp_path / "x.iwv", "-o", tmp_path / "back.png")
    assert code == 0 and "warning" not in err
    assert pillow_metadata(tmp_path / "back.png") == original
    assert read_image_metadata(tmp_path / "back.png") == original
    back = imagecodecs.png_decode((tmp_path / "back.png").read_bytes())    # libpng: chunks valid
    np.testing.assert_array_equal(back, read_image(src))
    # orientation 6 is kept as EXIF; the pixels are not turned
    assert back.shape == (20, 30, 3)
    with Image.open(tmp_path / "back.png") as img:
        assert img.getexif()[0x0112] == 6


def test_strip_leaves_metadata_out(capsys, tmp_path):
    src = make(tmp_path / "in.jpg", "JPEG")
    assert run(capsys, "compress", src, "-o", tmp_path / "kept.iwv")[0] == 0
    assert run(capsys, "compress", src, "-o", tmp_path / "bare.iwv", "--strip")[0] == 0
    kept, bare = (tmp_path / "kept.iwv").read_bytes(), (tmp_path / "bare.iwv").read_bytes()
    assert iwave.read_metadata(bare) == {}
    assert len(kept) - len(bare) == bitstream.metadata_bytes(read_image_metadata(src))
    assert run(capsys, "decompress", tmp_path / "bare.iwv", "-o", tmp_path / "back.png")[0] == 0
    assert pillow_metadata(tmp_path / "back.png") == {}
    code, out, _ = run(capsys, "info", tmp_path / "bare.iwv")
    assert code == 0 and "metadata" not in out


@pytest.mark.parametrize("fmt, suffix", [("WEBP", ".webp"), ("TIFF", ".tif")])
def test_webp_and_tiff_inputs(capsys, tmp_path, fmt, suffix):
    src = make(tmp_path / f"in{suffix}", fmt)
    assert run(capsys, "compress", src, "-o", tmp_path / "x.iwv")[0] == 0
    kept = iwave.read_metadata(tmp_path / "x.iwv")
    assert kept["icc"] == ICC and kept["xmp"] == XMP
    if fmt == "WEBP":
        assert kept == pillow_metadata(src) and kept["exif"] == unprefixed(EXIF)
    exif = Image.Exif()
    exif.load(kept["exif"])                 # TIFF: re-serialised, the same tags and values
    assert (exif[0x0112], exif[0x010F]) == (6, "iwave camera")
    assert exif.get_ifd(0x8769)[0x9003] == "2024:05:06 07:08:09"


def test_tiff_output_keeps_icc_xmp_and_exif(capsys, tmp_path):
    src = make(tmp_path / "in.jpg", "JPEG")
    assert run(capsys, "compress", src, "-o", tmp_path / "x.iwv")[0] == 0
    code, _, err = run(capsys, "decompress", tmp_path / "x.iwv", "-o", tmp_path / "back.tif")
    assert code == 0 and "warning" not in err
    with Image.open(tmp_path / "back.tif") as img:
        assert img.info["icc_profile"] == ICC and img.info["xmp"] == XMP
        exif = img.getexif()
        assert (exif[0x0112], exif[0x010F]) == (6, "iwave camera")
        assert exif.get_ifd(0x8769)[0x9003] == "2024:05:06 07:08:09"
    back = imagecodecs.tiff_decode((tmp_path / "back.tif").read_bytes())       # libtiff
    np.testing.assert_array_equal(back, read_image(src))
    again = read_image_metadata(tmp_path / "back.tif")
    assert again["icc"] == ICC and again["xmp"] == XMP


def test_16_bit_grey_tiff_and_png_outputs_carry_metadata(tmp_path):
    a = photo_like(12, 9, 1, dtype=np.uint16)
    data = iwave.compress(a, metadata={"xmp": XMP, "exif": unprefixed(EXIF)})
    from iwave.imageio import encode_image
    for fmt, name in (("PNG", "g.png"), ("TIFF", "g.tif")):
        (tmp_path / name).write_bytes(encode_image(iwave.decompress(data), fmt, iwave.read_metadata(data)))
        np.testing.assert_array_equal(read_image(tmp_path / name), a)
        assert read_image_metadata(tmp_path / name)["xmp"] == XMP


def test_info_lists_metadata(capsys, tmp_path):
    src = make(tmp_path / "in.png", "PNG")
    assert run(capsys, "compress", src, "-o", tmp_path / "x.iwv")[0] == 0
    code, out, _ = run(capsys, "info", tmp_path / "x.iwv")
    assert code == 0 and "metadata:" in out
    assert f"icc: {len(ICC)} bytes, 'sRGB built-in'" in out
    assert f"exif: {len(unprefixed(EXIF))} bytes" in out and f"xmp: {len(XMP)} bytes" in out
    code, out, _ = run(capsys, "info", tmp_path / "x.iwv", "--json")
    assert json.loads(out)["metadata"]["xmp"] == f"{len(XMP)} bytes"


def test_ppm_output_warns_and_still_writes(capsys, tmp_path):
    src = make(tmp_path / "in.png", "PNG")
    assert run(capsys, "compress", src, "-o", tmp_path / "x.iwv")[0] == 0
    code, _, err = run(capsys, "decompress", tmp_path / "x.iwv", "-o", tmp_path / "back.ppm")
    lines = [line for line in err.strip().splitlines() if "warning" in line]
    assert code == 0 and len(lines) == 1 and lines[0].startswith("iwave: warning:")
    assert "ICC profile, EXIF, XMP" in lines[0] and "PPM/PGM" in lines[0]
    np.testing.assert_array_equal(read_image(tmp_path / "back.ppm"), read_image(src))


def test_folder_mode_keeps_or_strips(capsys, tmp_path, monkeypatch):
    import os
    import torch
    (tmp_path / "in").mkdir()
    make(tmp_path / "in" / "a.jpg", "JPEG")
    threads = torch.get_num_threads()       # folder mode sets it (to every core) in this process
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    try:
        assert run(capsys, "compress", tmp_path / "in", "-o", tmp_path / "kept")[0] == 0
        assert run(capsys, "compress", tmp_path / "in", "-o", tmp_path / "bare", "--strip")[0] == 0
    finally:
        torch.set_num_threads(threads)
    assert iwave.read_metadata(tmp_path / "kept" / "a.iwv")["icc"] == ICC
    assert iwave.read_metadata(tmp_path / "bare" / "a.iwv") == {}


def test_jpeg_icc_profile_split_over_segments(tmp_path):
    big = ICC[:36] + b"acsp" + ICC[40:] + bytes(range(256)) * 600      # 150 kB: three APP2 segments
    src = make(tmp_path / "in.jpg", "JPEG", icc=big)
    assert (tmp_path / "in.jpg").read_bytes().count(b"ICC_PROFILE\x00") == 3
    assert read_image_metadata(src)["icc"] == big == pillow_metadata(src)["icc"]
    data = iwave.compress(src)
    assert iwave.read_metadata(data)["icc"] == big


def test_api_metadata_for_arrays_paths_and_strip(tmp_path):
    a = photo_like(16, 16, 3)
    given = {"icc": ICC, "exif": unprefixed(EXIF), "xmp": XMP}
    assert iwave.read_metadata(iwave.compress(a)) == {}                       # arrays carry none
    data = iwave.compress(a, metadata=given, step=16.0)
    assert iwave.read_metadata(data) == given and iwave.decompress(data).shape == a.shape
    src = make(tmp_path / "in.png", "PNG", a)
    assert iwave.read_metadata(iwave.compress(src)) == given
    assert iwave.read_metadata(iwave.compress(src, strip=True)) == {}
    assert iwave.read_metadata(iwave.compress(src, metadata={"xmp": XMP})) == {"xmp": XMP}
    np.testing.assert_array_equal(iwave.decompress(iwave.compress(src)), a)
    with pytest.raises(IWaveError, match="not both"):
        iwave.compress(a, metadata=given, strip=True)
    for bad, why in [({"gps": b"x"}, "unknown key"), ({"icc": "text"}, "bytes"),
                     ({"icc": b"x" * 200}, "ICC"), ({"exif": b"Exif\x00\x00MM"}, "TIFF header")]:
        with pytest.raises(IWaveError, match=why):
            iwave.compress(a, metadata=bad)


def test_metadata_size_limit(monkeypatch, tmp_path):
    monkeypatch.setattr(metadata, "MAX_BYTES", 1000)
    with pytest.raises(IWaveError, match="limit.*strip"):
        iwave.compress(photo_like(8, 8, 3), metadata={"icc": ICC, "xmp": XMP * 5})
    with pytest.raises(IWaveError, match="in.png.*limit"):
        iwave.compress(make(tmp_path / "in.png", "PNG", xmp=XMP * 5))


def test_corrupt_metadata_is_a_clear_error(capsys, tmp_path):
    data = (VECTORS / "lossless-rgb8-metadata.iwv").read_bytes()
    header, _ = bitstream.read(data)
    length = len(metadata.pack(header.metadata))
    block_at = len(data) - sum(header.chunk_lengths) - 4 - (length + 4)     # then the block's CRC
    for i in (block_at, block_at + length // 2, block_at + length + 2):
        bad = bytearray(data)
        bad[i] ^= 0x10
        with pytest.raises(IWaveError, match="metadata checksum"):
            bitstream.read(bytes(bad))
    (tmp_path / "bad.iwv").write_bytes(bytes(bad))
    code, _, err = run(capsys, "decompress", tmp_path / "bad.iwv", "-o", tmp_path / "back.png")
    assert code == 1 and "metadata checksum" in err and not (tmp_path / "back.png").exists()
    for n in (block_at + 3, block_at + length + 2):
        with pytest.raises(IWaveError, match="truncated"):
            bitstream.read(data[:n])


def write_with_block(monkeypatch, block):
    """A file whose metadata block is `block` (with a correct CRC)."""
    header = bitstream.Header(width=5, height=7, components=1, bit_depth=8, colour=0, has_alpha=False,
                              mode=0, levels=4, step=1.0, weights_id="0123456789abcdef", tile=64,
                              metadata={"xmp": b"x"}, chunk_lengths=[3])
    monkeypatch.setattr(bitstream.meta, "pack", lambda m: block)
    return bitstream.pack(header, [b"abc"])


@pytest.mark.parametrize("block, why", [
    (b"\x09" + struct.pack("<I", 1) + b"x", "unknown kind"),
    (b"\x03" + struct.pack("<I", 1) + b"x" + b"\x01" + struct.pack("<I", 1) + b"x", "order"),
    (b"\x03" + struct.pack("<I", 5) + b"x", "truncated"),
    (b"\x03" + struct.pack("<I", 0), "empty"),
    (b"\x83" + struct.pack("<I", 3) + b"xyz", "inflate"),
    (b"\x02" + struct.pack("<I", 4) + b"JPEG", "TIFF header"),
])
def test_malformed_records_are_refused(monkeypatch, block, why):
    data = write_with_block(monkeypatch, block)
    monkeypatch.undo()
    with pytest.raises(IWaveError, match=why):
        bitstream.read(data)


def test_a_metadata_bomb_is_refused(monkeypatch):
    bomb = zlib.compress(b"\x00" * (metadata.MAX_BYTES + 1), 9)
    data = write_with_block(monkeypatch, b"\x83" + struct.pack("<I", len(bomb)) + bomb)
    monkeypatch.undo()
    with pytest.raises(IWaveError, match="at most"):
        bitstream.read(data)


def test_files_without_metadata_are_as_before():
    """No metadata costs no byte: the file is a version-9 file but for the
    version byte (and so the header's CRC); old files have none. (A
    version-11 file is compared: version 12 adds the effort byte.)"""
    old = (VECTORS / "v9-lossless-rgb8.iwv").read_bytes()
    new = (VECTORS / "v11-lossless-rgb8.iwv").read_bytes()
    assert len(old) == len(new) and new[4] == 11 and old[4] == 9
    assert [i for i in range(len(old)) if old[i] != new[i]][0] == 4
    for path in VECTORS.glob("v*.iwv"):      # versions before metadata existed, and v10 without it
        if "metadata" not in path.name:
            assert iwave.read_metadata(path) == {}
    assert metadata.icc_description(bitstream.read_metadata(VECTORS / "lossless-rgb8-metadata.iwv")["icc"]) \
        == "iwave test profile"


def test_standard_input_keeps_metadata(tmp_path):
    import os
    import subprocess
    import sys
    src = make(tmp_path / "in.jpg", "JPEG")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    with open(src, "rb") as f:
        subprocess.run([sys.executable, "-m", "iwave", "compress", "-", "-o", str(tmp_path / "x.iwv")],
                       stdin=f, env=env, check=True, capture_output=True)
    assert iwave.read_metadata(tmp_path / "x.iwv") == read_image_metadata(src)


def test_pillow_plugin_reads_and_writes_metadata(tmp_path):
    with Image.open(make(tmp_path / "in.png", "PNG")) as img:
        img.save(tmp_path / "x.iwv", exif=img.info["exif"], xmp=XMP)        # ICC from img.info
    assert iwave.read_metadata(tmp_path / "x.iwv") == {"icc": ICC, "exif": unprefixed(EXIF), "xmp": XMP}
    with Image.open(tmp_path / "x.iwv") as img:
        assert img.info["icc_profile"] == ICC and img.info["xmp"] == XMP
        assert img.getexif()[0x0112] == 6


def _png_with_chunks(path, *extra):
    """A small PNG with these chunks ((type, body) pairs) put before IDAT."""
    buf = io.BytesIO()
    Image.fromarray(photo_like(8, 8, 3)).save(buf, format="PNG")
    data = buf.getvalue()
    at = data.index(b"IDAT") - 4
    path.write_bytes(data[:at] + b"".join(png_chunks.chunk(k, b) for k, b in extra) + data[at:])


def test_what_changes_how_an_image_looks_and_is_not_kept_is_said(tmp_path, capsys):
    gamma = (b"gAMA", struct.pack(">I", 100000))
    _png_with_chunks(tmp_path / "g.png", gamma)
    _png_with_chunks(tmp_path / "s.png", gamma, (b"sRGB", b"\x00"))
    assert main(["compress", str(tmp_path / "g.png")]) == 0
    assert "g.png: its gAMA chunk (how its colours are meant to be shown) is not kept" in \
        capsys.readouterr().err
    assert main(["compress", str(tmp_path / "s.png")]) == 0       # sRGB: readers ignore gAMA
    assert "warning" not in capsys.readouterr().err
    exif = b"II*\x00\x08\x00\x00\x00\x01\x00" + struct.pack("<HHIHH", 274, 3, 1, 6, 0) + b"\x00" * 4
    assert image_metadata.exif_orientation(exif) == 6
    rotated = Image.Exif()
    rotated[274] = 6
    Image.fromarray(photo_like(8, 8, 3)).save(tmp_path / "r.png", exif=rotated)
    assert main(["compress", str(tmp_path / "r.png")]) == 0        # kept: nothing to say
    assert "warning" not in capsys.readouterr().err
    assert main(["compress", str(tmp_path / "r.png"), "-o", str(tmp_path / "r2.iwv"), "--strip"]) == 0
    assert "--strip leaves out its EXIF orientation (6)" in capsys.readouterr().err
