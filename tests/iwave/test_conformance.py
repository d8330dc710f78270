"""Lossless conformance: image files as cameras, scanners and image tools write
them go through `iwave compress` and `iwave decompress`, and come back with
exactly the samples that an independent reader (pypng, libpng/libtiff/
libjpeg/libwebp through imagecodecs, or the numpy array a file was written
from) reads from the original, alpha and transparency included; or
compression is refused with a one-line message and no output.

Each case is (file name, writer, expected): the writer makes the file in a
folder; expected is a reader of the original (returning the samples the
round trip must give back) or a string the refusal must contain."""
import struct
import zlib

import imagecodecs
import numpy as np
import png
import pytest
import tifffile
from PIL import Image

from iwave.cli import main
from tests.conftest import photo_like

SIZES = [(13, 17), (7, 5), (1, 9), (33, 20), (6, 1), (24, 31)]


def _random(shape, hi, seed):
    return np.random.default_rng(seed).integers(0, hi + 1, shape)


def _pixels(h, w, c, bits, seed):
    """Photo-like samples at any depth (random ones below 8 bits)."""
    if bits < 8:
        return _random((h, w, c), (1 << bits) - 1, seed).astype(np.uint8)
    a = photo_like(h, w, c, seed=seed, dtype=np.uint16 if bits == 16 else np.uint8)
    return a.reshape(h, w, c)


# ----------------------------------------------------------- independent readers
def pypng_samples(path):
    """A PNG's samples by pypng's raw reader (no sBIT rescaling), expanded as
    the PNG specification defines: palette to RGB(A), 1/2/4-bit grey to 8
    bits, a tRNS key colour to an alpha channel."""
    reader = png.Reader(filename=str(path))
    w, h, rows, info = reader.read()
    raw = np.vstack([np.asarray(r, dtype=np.int64) for r in rows]).reshape(h, w, -1)
    depth = info["bitdepth"]
    if info.get("palette"):
        pal = [tuple(p) + (255,) * (4 - len(p)) for p in info["palette"]]
        keep = 4 if any(len(p) == 4 for p in info["palette"]) else 3
        out = np.asarray(pal, np.int64)[raw[:, :, 0]][:, :, :keep]
        return out.astype(np.uint8)
    top = 65535 if depth == 16 else 255
    key = info.get("transparent")
    out = raw * (255 // ((1 << depth) - 1)) if depth < 8 else raw
    if key is not None:
        key = np.atleast_1d(np.asarray(key, np.int64))
        alpha = np.where((raw == key).all(-1), 0, top)
        out = np.concatenate([out, alpha[:, :, None]], -1)
    out = out.astype(np.uint16 if depth == 16 else np.uint8)
    return out[:, :, 0] if out.shape[2] == 1 else out


def _squeeze(a):
    a = np.asarray(a)
    return a[:, :, 0] if a.ndim == 3 and a.shape[2] == 1 else a


def libtiff_samples(path):
    a = imagecodecs.tiff_decode(path.read_bytes())
    with tifffile.TiffFile(path) as t:        # only to know where the sample axis is
        planar = t.pages[0].planarconfig == 2 and t.pages[0].samplesperpixel > 1
    return _squeeze(np.moveaxis(a, 0, -1) if planar else a)


def libjpeg_samples(path):
    return _squeeze(imagecodecs.jpeg8_decode(path.read_bytes()))


def libwebp_samples(path):
    return _squeeze(imagecodecs.webp_decode(path.read_bytes()))


def the_array(a):
    """Files written from a numpy array by a trivial format (PNM, BMP): the
    array itself is the independent truth."""
    return lambda path: _squeeze(a)


# ----------------------------------------------------------- writers
def add_png_chunk(path, kind, data):
    """Insert an ancillary chunk before the first IDAT."""
    b = path.read_bytes()
    i = b.index(b"IDAT") - 4
    chunk = struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    path.write_bytes(b[:i] + chunk + b[i:])


def png_case(name, size, planes, bits, seed, sbit=None, key=False, interlace=False, palette=None):
    h, w = size

    def write(path):
        if palette:
            a = _random((h, w, 1), len(palette) - 1, seed)
            writer = png.Writer(w, h, palette=palette, bitdepth=bits, interlace=interlace)
        else:
            a = _pixels(h, w, planes, bits, seed)
            a[0, 0] = (1 << bits) - 1          # the top of the range (what sBIT once rescaled)
            transparent = None
            if key:       # a key colour that some pixels really have
                transparent = tuple(int(v) for v in a[h // 2, w // 2][:planes])
                transparent = transparent[0] if planes == 1 else transparent
            writer = png.Writer(w, h, greyscale=planes <= 2, alpha=planes in (2, 4), bitdepth=bits,
                                transparent=transparent, interlace=interlace)
        with open(path, "wb") as f:
            writer.write(f, a.reshape(h, -1).tolist())
        if sbit:
            add_png_chunk(path, b"sBIT", bytes([sbit] * min(planes, 3) + [sbit] * (planes in (2, 4))))
    return (name + ".png", write, pypng_samples)


def tiff_case(name, size, planes, bits, seed, **options):
    h, w = size

    def write(path):
        a = _pixels(h, w, planes, bits, seed)
        kw = dict(options)
        if planes in (2, 4):
            kw["extrasamples"] = ["unassalpha"]
        if kw.get("planarconfig") == "separate":
            a = np.moveaxis(a, -1, 0)
        else:
            a = _squeeze(a)
        tifffile.imwrite(path, a, photometric="rgb" if planes >= 3 else "minisblack", **kw)
    return (name + ".tif", write, libtiff_samples)


def pnm_case(name, size, planes, maxval, seed):
    h, w = size
    a = _random((h, w, planes), maxval, seed).astype(np.uint16 if maxval > 255 else np.uint8)
    # a maxval value somewhere: the full range is used
    a[0, 0, 0] = maxval

    def write(path):
        body = a.astype(">u2").tobytes() if maxval > 255 else a.tobytes()
        path.write_bytes(b"P%d\n# made by a test\n%d %d\n%d\n" % (6 if planes == 3 else 5, w, h, maxval)
                         + body)
    full = 65535 if maxval > 255 else 255      # a sample means v / maxval: widened to the full range
    wide = np.floor(a.astype(float) * full / maxval + 0.5).astype(a.dtype)
    return (f"{name}.{'ppm' if planes == 3 else 'pgm'}", write, the_array(wide))


def pillow_case(name, size, planes, seed, fmt, reader, **options):
    h, w = size
    a = _squeeze(_pixels(h, w, planes, 8, seed))

    def write(path):
        Image.fromarray(a).save(path, format=fmt, **options)
    return (name, write, reader if reader is not None else the_array(a))


def refused(name, write, reason):
    return (name, write, reason)


def _float_tiff(path):
    tifffile.imwrite(path, np.linspace(0, 1, 12 * 7, dtype=np.float32).reshape(12, 7))


def _signed_tiff(path):
    tifffile.imwrite(path, np.arange(-20, 20, dtype=np.int16).reshape(5, 8))


def _int32_tiff(path):
    tifffile.imwrite(path, np.arange(40, dtype=np.uint32).reshape(5, 8))


def _cmyk_tiff(path):
    tifffile.imwrite(path, _pixels(6, 9, 4, 8, 1), photometric="separated")


def _premultiplied_tiff(path):
    a = _pixels(6, 9, 4, 8, 1)
    a[..., :3] = np.minimum(a[..., :3], a[..., 3:])
    tifffile.imwrite(path, a, photometric="rgb", extrasamples=["assocalpha"])


def _two_page_tiff(path):
    with tifffile.TiffWriter(path) as t:
        t.write(_pixels(6, 9, 3, 8, 1), photometric="rgb")
        t.write(_pixels(6, 9, 3, 8, 2), photometric="rgb")


def _cmyk_jpeg(path):
    Image.new("CMYK", (9, 6), (10, 20, 30, 40)).save(path, format="JPEG")


def _float_pillow_tiff(path):
    Image.new("F", (9, 6), 0.5).save(path, format="TIFF")


def _animated(fmt):
    def write(path):
        frames = [Image.fromarray(_pixels(8, 10, 3, 8, s)) for s in (1, 2)]
        frames[0].save(path, format=fmt, save_all=True, append_images=frames[1:], lossless=True)
    return write


def _text_file(path):
    path.write_text("not an image at all\n")


def _truncated_png(path):
    Image.fromarray(photo_like(30, 30, 3)).save(path, format="PNG")
    path.write_bytes(path.read_bytes()[:80])


PALETTE = [(255, 0, 0), (0, 128, 255), (12, 200, 40), (250, 250, 250)]
PALETTE_ALPHA = [(255, 0, 0, 0), (0, 128, 255, 128), (12, 200, 40), (250, 250, 250)]

CASES = [
    # PNG: every colour type and depth, palettes, tRNS, sBIT, interlacing
    png_case("grey1", SIZES[0], 1, 1, 1), png_case("grey2", SIZES[1], 1, 2, 2),
    png_case("grey4", SIZES[2], 1, 4, 3), png_case("grey8", SIZES[3], 1, 8, 4),
    png_case("grey16", SIZES[4], 1, 16, 5),
    png_case("greyalpha8", SIZES[5], 2, 8, 6), png_case("greyalpha16", SIZES[0], 2, 16, 7),
    png_case("rgb8", SIZES[1], 3, 8, 8), png_case("rgb16", SIZES[3], 3, 16, 9),
    png_case("rgba8", SIZES[5], 4, 8, 10), png_case("rgba16", SIZES[0], 4, 16, 11),
    png_case("palette1", SIZES[3], 1, 1, 12, palette=PALETTE[:2]),
    png_case("palette2", SIZES[0], 1, 2, 13, palette=PALETTE),
    png_case("palette4", SIZES[5], 1, 4, 14, palette=PALETTE * 3),
    png_case("palette8", SIZES[1], 1, 8, 15, palette=PALETTE * 40),
    png_case("palette4-trns", SIZES[3], 1, 4, 16, palette=PALETTE_ALPHA),
    png_case("palette8-trns", SIZES[0], 1, 8, 17,
             palette=[(i, 255 - i, 3 * i % 256, 4 * i % 256) for i in range(60)] + PALETTE * 20),
    png_case("grey2-trns", SIZES[5], 1, 2, 18, key=True),
    png_case("grey8-trns", SIZES[3], 1, 8, 19, key=True),
    png_case("grey16-trns", SIZES[0], 1, 16, 20, key=True),
    png_case("rgb8-trns", SIZES[5], 3, 8, 21, key=True),
    png_case("rgb16-trns", SIZES[3], 3, 16, 22, key=True),
    png_case("rgb16-sbit13", SIZES[0], 3, 16, 23, sbit=13),
    png_case("grey16-sbit12", SIZES[5], 1, 16, 24, sbit=12),
    png_case("rgb8-sbit5", SIZES[3], 3, 8, 25, sbit=5),
    png_case("rgba16-sbit10", SIZES[1], 4, 16, 26, sbit=10),
    png_case("rgb8-interlaced", SIZES[5], 3, 8, 27, interlace=True),
    png_case("grey16-interlaced", SIZES[3], 1, 16, 28, interlace=True),
    # TIFF: 8/16-bit grey, grey + alpha, RGB, RGBA; chunky and planar; compressed
    tiff_case("tgrey8", SIZES[0], 1, 8, 30), tiff_case("tgrey16", SIZES[3], 1, 16, 31),
    tiff_case("tgreyalpha8", SIZES[5], 2, 8, 32), tiff_case("trgb8", SIZES[1], 3, 8, 33),
    tiff_case("trgb16", SIZES[5], 3, 16, 34), tiff_case("trgba8", SIZES[3], 4, 8, 35),
    tiff_case("trgba16", SIZES[0], 4, 16, 36),
    tiff_case("trgb8-planar", SIZES[3], 3, 8, 37, planarconfig="separate"),
    tiff_case("trgb16-planar", SIZES[0], 3, 16, 38, planarconfig="separate"),
    tiff_case("trgba16-planar", SIZES[5], 4, 16, 39, planarconfig="separate"),
    tiff_case("trgb16-lzw", SIZES[3], 3, 16, 40, compression="lzw"),
    tiff_case("tgrey16-deflate", SIZES[5], 1, 16, 41, compression="zlib"),
    # PPM/PGM, 8 and 16 bits, full and partial ranges
    pnm_case("p5-8", SIZES[0], 1, 255, 50), pnm_case("p5-16", SIZES[3], 1, 65535, 51),
    pnm_case("p6-8", SIZES[5], 3, 255, 52), pnm_case("p6-16", SIZES[1], 3, 65535, 53),
    pnm_case("p5-12bit", SIZES[5], 1, 4095, 54), pnm_case("p6-10bit", SIZES[3], 3, 1023, 55),
    pnm_case("p5-4bit", SIZES[1], 1, 15, 56), pnm_case("p6-maxval-1", SIZES[0], 3, 1, 57),
    # BMP, JPEG, WebP (their decoded samples are the image)
    pillow_case("rgb.bmp", SIZES[5], 3, 60, "BMP", None),
    pillow_case("grey.bmp", SIZES[3], 1, 61, "BMP", None),
    pillow_case("rgb444.jpg", SIZES[5], 3, 62, "JPEG", libjpeg_samples, quality=90, subsampling=0),
    pillow_case("rgb420.jpg", SIZES[3], 3, 63, "JPEG", libjpeg_samples, quality=75, subsampling=2),
    pillow_case("grey.jpg", SIZES[0], 1, 64, "JPEG", libjpeg_samples),
    pillow_case("lossless.webp", SIZES[5], 3, 65, "WEBP", libwebp_samples, lossless=True),
    pillow_case("alpha.webp", SIZES[3], 4, 66, "WEBP", libwebp_samples, lossless=True),
    pillow_case("lossy.webp", SIZES[3], 3, 67, "WEBP", libwebp_samples, quality=80),
    # refused, each with its reason
    refused("float.tif", _float_tiff, "floating-point"), refused("signed.tif", _signed_tiff, "signed"),
    refused("int32.tif", _int32_tiff, "32-bit"), refused("cmyk.tif", _cmyk_tiff, "CMYK"),
    refused("premultiplied.tif", _premultiplied_tiff, "premultiplied"),
    refused("pages.tif", _two_page_tiff, "2 images"), refused("cmyk.jpg", _cmyk_jpeg, "CMYK"),
    refused("float-pillow.tif", _float_pillow_tiff, "floating-point"),
    refused("anim.gif", _animated("GIF"), "frames"), refused("anim.png", _animated("PNG"), "frames"),
    refused("anim.webp", _animated("WEBP"), "frames"),
    refused("text.png", _text_file, "not an image"), refused("truncated.png", _truncated_png, "cannot read"),
]


def test_enough_cases():
    assert len(CASES) >= 40
    assert len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize("name,write,expected", CASES, ids=[c[0] for c in CASES])
def test_round_trip_is_exact_or_refused(tmp_path, capsys, name, write, expected):
    src = tmp_path / name
    write(src)
    packed, back = tmp_path / "out.iwv", tmp_path / "back.png"
    code = main(["compress", str(src), "-o", str(packed)])
    _, err = capsys.readouterr()
    if isinstance(expected, str):
        assert code == 1, f"{name} was not refused"
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and expected in lines[0] and name in lines[0], err
        assert sorted(p.name for p in tmp_path.iterdir()) == [name]       # no output, no temporary
        return
    assert code == 0, err
    assert main(["decompress", str(packed), "-o", str(back)]) == 0
    want, got = expected(src), pypng_samples(back)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.dtype, want.shape)
    np.testing.assert_array_equal(got, want)
