"""Palettes and low bit depths (format 11): palette PNGs (with and without
transparency) and 1/2/4-bit grey PNGs, of photographs and of graphics,
round-trip exactly through the API and the CLI; a palette image codes
smaller than its full-colour coding; damaged palette tiles are refused."""
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from iwave import bitstream, palette
from iwave.cli import main
from iwave.entropy import ValueEncoder
from iwave.errors import IWaveError
from iwave.imageio import read_image
from tests.conftest import photo_like


def picture(kind, h=48, w=64):
    if kind == "photo":
        return Image.fromarray(photo_like(h, w, 3, seed=5))
    im = Image.new("RGB", (w, h), (250, 250, 240))
    d = ImageDraw.Draw(im)
    d.rectangle([4, 4, 30, 20], fill=(200, 30, 30))
    d.ellipse([30, 18, 60, 44], fill=(30, 90, 200))
    d.text((3, 30), "iwave 11", fill=(0, 0, 0))
    return im


def palette_png(path, kind, colours, transparent):
    im = picture(kind)
    if transparent:
        rgba = im.convert("RGBA")
        a = np.asarray(rgba).copy()
        a[:12, :20, 3] = 0
        a[:12, :20, :3] = 0                   # one transparent colour
        p = Image.fromarray(a).quantize(colours, method=Image.Quantize.FASTOCTREE)
    else:
        p = im.quantize(colours)
    p.save(path, optimize=True)
    return path


def grey_png(path, kind, bits):
    """A bits-deep greyscale PNG written by hand (Pillow writes no 2/4-bit grey)."""
    g = np.asarray(picture(kind).convert("L")).astype(np.int64) >> (8 - bits)
    h, w = g.shape
    per = 8 // bits
    padded = np.zeros((h, -(-w // per) * per), np.int64)
    padded[:, :w] = g
    packed = np.zeros((h, padded.shape[1] // per), np.int64)
    for k in range(per):
        packed |= padded[:, k::per] << (8 - bits * (k + 1))
    raw = b"".join(b"\0" + bytes(row.astype(np.uint8)) for row in packed)

    def chunk(kind_, data):
        return struct.pack(">I", len(data)) + kind_ + data + struct.pack(">I", zlib.crc32(kind_ + data))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bits, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    path.write_bytes(png)
    return path


def cli_round_trip(path, tmp_path):
    assert main(["compress", str(path), "-o", str(tmp_path / "x.iwv")]) == 0
    assert main(["decompress", str(tmp_path / "x.iwv"), "-o", str(tmp_path / "y.png")]) == 0
    return read_image(tmp_path / "y.png")


@pytest.mark.parametrize("kind", ["photo", "graphics"])
@pytest.mark.parametrize("colours", [2, 16, 256])
@pytest.mark.parametrize("transparent", [False, True])
def test_palette_pngs_round_trip(codec, tmp_path, kind, colours, transparent):
    path = palette_png(tmp_path / "p.png", kind, colours, transparent)
    original = read_image(path)
    assert original.shape[2] == (4 if transparent else 3)
    data = codec.compress(path)
    assert data[4] == bitstream.VERSION
    out = codec.decompress(data)
    assert out.dtype == original.dtype and out.shape == original.shape
    np.testing.assert_array_equal(out, original)
    if colours == 16:
        np.testing.assert_array_equal(cli_round_trip(path, tmp_path), original)


@pytest.mark.parametrize("kind", ["photo", "graphics"])
@pytest.mark.parametrize("bits", [1, 2, 4])
def test_low_bit_depth_grey_pngs_round_trip_near_their_depth(codec, tmp_path, kind, bits):
    path = grey_png(tmp_path / "g.png", kind, bits)
    original = read_image(path)
    assert original.ndim == 2 and len(np.unique(original)) <= 1 << bits
    data = codec.compress(path)
    np.testing.assert_array_equal(codec.decompress(data), original)
    assert len(data) * 8 < 1.3 * bits * original.size + 400     # near (or below) its own depth
    if bits == 1:
        np.testing.assert_array_equal(cli_round_trip(path, tmp_path), original)


def test_a_palette_image_codes_smaller_than_its_rgb_coding(codec, monkeypatch):
    a = np.asarray(picture("photo", 64, 80).quantize(16).convert("RGB"))
    with_palette = codec.compress(a)
    monkeypatch.setattr(palette, "candidate", lambda pixels: None)
    without = codec.compress(a)
    header, chunks = bitstream.read(with_palette)
    assert header.chunk_lengths[1:] == [0, 0]                      # a palette tile
    assert len(with_palette) < 0.6 * len(without)
    np.testing.assert_array_equal(codec.decompress(with_palette), a)


def test_palette_order_and_indices():
    pixels = np.array([[[9, 9, 9], [0, 0, 0]], [[200, 1, 3], [9, 9, 9]]], np.uint8)
    colours = palette.candidate(pixels)
    for order in palette.ORDERS:
        entries = palette.ordered(colours, pixels, order)
        idx = palette.to_indices(pixels, entries)
        np.testing.assert_array_equal(entries[idx], pixels)
    assert palette.ordered(colours, pixels, "first")[0].tolist() == [9, 9, 9]
    many = np.stack([np.arange(300) % 256, np.arange(300) // 256, np.zeros(300, np.int64)], -1)
    assert palette.candidate(many[None].astype(np.uint8)) is None          # 300 colours


@pytest.fixture
def palette_file(codec):
    a = np.asarray(picture("graphics").quantize(8).convert("RGB"))
    data = codec.compress(a)
    header, chunks = bitstream.read(data)
    assert chunks[1] == b"" and chunks[0]
    return header, chunks


def _repacked(header, chunks):
    header.chunk_lengths = [len(c) for c in chunks]
    return bitstream.pack(header, chunks)


@pytest.mark.parametrize("entries, message", [
    ([[1, 2, 3], [1, 2, 3]], "twice"),                 # a colour listed twice
    ([[250, 2, 3], [10, 2, 3]], "out of range"),        # deltas run past 255
])
def test_corrupt_palettes_are_refused(codec, palette_file, entries, message):
    header, chunks = palette_file
    enc = ValueEncoder(codec.model_for(False).tables)
    p = np.array(entries, np.int64)
    if message == "out of range":                       # write deltas that overflow
        enc.add(np.array([1, 6]), np.zeros(2, np.int64), np.array([24 + palette.COUNT_SCALE,
                                                                   24 + palette.SCALE_SCALE]))
        d = np.array([250, 2, 3, 10, 0, 0])
        enc.add(d, np.zeros_like(d), np.full_like(d, 30))
    else:
        palette.write(enc, p)
    bad = [enc.finish() + bytes(64)] + chunks[1:]
    with pytest.raises(IWaveError, match=f"corrupt.*{message}"):
        codec.decompress(_repacked(header, bad))


def test_malformed_palette_tiles_are_refused(codec, palette_file):
    header, chunks = palette_file
    with pytest.raises(IWaveError, match="palette tile"):           # empty second, not third
        codec.decompress(_repacked(header, [chunks[0], b"", b"x" * 8]))
    with pytest.raises(IWaveError, match="corrupt"):                # index plane cut short
        codec.decompress(_repacked(header, [chunks[0][:len(chunks[0]) // 2], b"", b""]))
