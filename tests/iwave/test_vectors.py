"""Frozen test files (tests/vectors/), as CompressAI keeps tests/expected/:
small .iwv files of every file-format version the decoder reads, with the
SHA-256 of each decoded image, and for the current version the SHA-256 of
the file the encoder writes. A refactor that changes one decoded sample or
one encoded byte fails here.

`IWAVE_REGENERATE_VECTORS=1 python -m pytest tests/iwave/test_vectors.py`
rewrites the current version's (only when a change of format or of a
shipped model means to change them; say so in the commit). The files of
older versions were made, in the commit that added this test, by iwave
0.11's encoder set up as each version wrote (with the switches the
compatibility tests then used; version 1 as a one-tile version-2 file with
version 1's header, which is all that version 2 changed); they are never
rewritten."""
import hashlib
import json
import os
import struct

import numpy as np
import pytest

from iwave import bitstream
from iwave.imageio import encode_png, read_image
from tests.conftest import ROOT, photo_like

VECTORS = ROOT / "tests" / "vectors"
MANIFEST = VECTORS / "manifest.json"
REGENERATE = os.environ.get("IWAVE_REGENERATE_VECTORS") == "1"

# input name -> (height, width, channels, dtype, seed); stored as PNG beside the vectors
INPUTS = {"rgb8": (48, 64, 3, np.uint8, 1), "grey8": (33, 40, 1, np.uint8, 2),
          "greyalpha8": (26, 30, 2, np.uint8, 3), "rgba8": (40, 48, 4, np.uint8, 4),
          "grey16": (30, 36, 1, np.uint16, 5), "rgb16": (24, 30, 3, np.uint16, 6),
          "rgba16": (20, 28, 4, np.uint16, 7), "tiles": (100, 150, 3, np.uint8, 8),
          "sparse16": (40, 52, 1, np.uint16, 9), "palette8": (44, 56, 3, np.uint8, 10),
          "palettea8": (36, 42, 4, np.uint8, 11), "rgb8in16": (32, 40, 3, np.uint16, 12),
          "diagonal8": (64, 96, 3, np.uint8, 13), "ycbcr8": (40, 56, 3, np.uint8, 14),
          "ycbcr420": (45, 62, 3, np.uint8, 15), "ycbcr422": (36, 52, 3, np.uint8, 16),
          "smooth8": (48, 64, 3, np.uint8, 17)}

# inputs that are files of the package: the demo photo (the only input large
# enough for per-class post filters to pay, version 15 on)
FILE_INPUTS = {"sample": ROOT / "iwave" / "data" / "sample.png"}

CURRENT = [  # (name, input, options)
    ("lossless-rgb8", "rgb8", {}), ("lossless-grey8", "grey8", {}),
    ("lossless-grey8-axis", "grey8", {"channel_axis": True}),
    ("lossless-greyalpha8", "greyalpha8", {}), ("lossless-rgba8", "rgba8", {}),
    ("lossless-grey16", "grey16", {}), ("lossless-rgb16", "rgb16", {}),
    ("lossless-rgba16", "rgba16", {}), ("lossless-tiles", "tiles", {"tile": 64}),
    ("lossless-sparse16", "sparse16", {}),        # few used values: a sample map
    ("lossless-rgb8in16", "rgb8in16", {}),        # one map for R, G and B (version 13 on)
    ("lossless-palette8", "palette8", {}),        # few colours: a palette (version 11 on)
    ("lossless-palettea8", "palettea8", {}),
    ("lossy-rgb8-step8", "rgb8", {"step": 8.0}), ("lossy-rgb8-step60", "rgb8", {"step": 60.0}),
    ("lossy-grey8-step12", "grey8", {"step": 12.0}), ("lossy-rgba8-step20", "rgba8", {"step": 20.0}),
    ("lossy-tiles-step16", "tiles", {"step": 16.0, "tile": 64}),
    ("lossless-rgb8-metadata", "rgb8", {"metadata": True}),     # with METADATA (version 10 on)
    ("lossy-rgb8-step20-metadata", "rgb8", {"step": 20.0, "metadata": True}),
    ("lossless-rgb8-effort1", "rgb8", {"effort": 1}),     # effort levels (version 12 on)
    ("lossless-rgb8-effort9", "rgb8", {"effort": 9}),
    ("lossy-rgb8-step20-effort1", "rgb8", {"step": 20.0, "effort": 1}),
    ("lossy-rgb8-step20-effort9", "rgb8", {"step": 20.0, "effort": 9}),
    ("lossy-sample-step16", "sample", {"step": 16.0}),       # per-class post filters (version 15 on)
    ("lossy-diagonal8-step12", "diagonal8", {"step": 12.0}),  # direction maps (version 17 on)
    ("lossless-ycbcr8", "ycbcr8", {}),        # the YCbCr planes it came from (version 18 on)
    ("lossless-ycbcr420", "ycbcr420", {}),    # ... with chroma at half resolution (version 19 on)
    ("lossless-ycbcr422", "ycbcr422", {}),    # ... at half resolution across (version 19 on)
    ("lossless-smooth8", "smooth8", {}),      # coded pixel by pixel (version 20 on)
]


def _icc_profile():
    """A small ICC v2 display profile with only a description: fixed bytes
    (a profile made by lcms carries the time it was made)."""
    text = b"iwave test profile"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text) + 1) + text + bytes(1 + 8 + 3 + 67)
    size = 128 + 4 + 12 + len(desc)
    head = struct.pack(">I4sI4s4s4s12s4s", size, b"none", 0x02100000, b"mntr", b"RGB ", b"XYZ ",
                       bytes(12), b"acsp").ljust(128, b"\0")
    return head + struct.pack(">I4sII", 1, b"desc", 144, len(desc)) + desc


# EXIF: little-endian TIFF structure, one IFD with Orientation = 6 (pixels are never rotated)
METADATA = {"icc": _icc_profile(),
            "exif": b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x06\0\0\0\0\0\0\0",
            "xmp": b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>\n<x:xmpmeta xmlns:x="adobe:ns:meta/">'
                   + b"<!-- iwave test packet -->" * 8 + b'</x:xmpmeta>\n<?xpacket end="w"?>'}


def image_hash(a):
    return hashlib.sha256(f"{a.dtype.str}{a.shape}".encode() + np.ascontiguousarray(a).tobytes()).hexdigest()


def make_input(name, h, w, c, dtype, seed):
    a = photo_like(h, w, c, seed=seed, dtype=dtype)
    if name.startswith("sparse"):        # as a scanner's: a few hundred values, ~100 apart
        a = (a // 128 * 128 + 7).astype(dtype)
    if name == "rgb8in16":               # 8-bit data in 16-bit samples, as many PNGs are
        a = (a >> 8) * 257
    if name.startswith("palette"):       # at most 4 levels a component: a few dozen colours
        a = (a // 64 * 64 + 32).astype(dtype)
    if name == "diagonal8":              # stripes at 45 degrees: lifted along them (version 17 on)
        y, x = np.mgrid[:h, :w]
        a = (a // 4 + np.where((x + y) % 6 < 3, 150, 20)[:, :, None]).astype(dtype)
    if name == "ycbcr8":                 # decoded from YCbCr, as a JPEG is, but for two pixels (18 on)
        from iwave import ycbcr, ycbcr_fit
        a = np.moveaxis(ycbcr.to_rgb(ycbcr_fit._forward(np.moveaxis(a, -1, 0))), 0, -1).astype(dtype)
        a[3, 5], a[30, 40] = (255, 0, 10), (1, 2, 3)
    if name in ("ycbcr420", "ycbcr422"):     # ... from 4:2:0 or 4:2:2, as most JPEGs are, but for two pixels
        from iwave import ycbcr, ycbcr_fit   # (19 on)
        y, cb, cr = ycbcr_fit._forward(np.moveaxis(a, -1, 0))
        vertical = name == "ycbcr420"
        half = [np.pad(p[::2, ::2] + 128, 1, mode="edge") if vertical else
                np.pad(p[:, ::2] + 128, ((0, 0), (1, 1)), mode="edge") for p in (cb, cr)]
        planes = np.stack([y] + [ycbcr.upsample(p, h, w, 0, 0, vertical) - 128 for p in half])
        a = np.moveaxis(ycbcr.to_rgb(planes), 0, -1).astype(dtype)
        a[3, 5], a[30, 40] = (255, 0, 10), (1, 2, 3)
    if name == "smooth8":                # smooth, a little noise: coded pixel by pixel (20 on)
        y, x = np.mgrid[:h, :w]
        a = np.stack([90 + 60 * np.sin(x / 23 + k) * np.cos(y / 31 - k) for k in range(c)], -1)
        a = np.clip(a + np.random.default_rng(seed).normal(0, 0.7, a.shape), 0, 255).round().astype(dtype)
    return a


def load_input(name, channel_axis=False):
    a = read_image(FILE_INPUTS.get(name, VECTORS / f"{name}.png"))
    return a[:, :, None] if channel_axis else a


@pytest.fixture(scope="module")
def codecs():
    """The shipped models as a user gets them (iwave-lossless for lossless,
    iwave-lossy for lossy files), by tile size."""
    from iwave.codec import Codec
    cache = {}

    def get(tile=1024):
        if tile not in cache:
            cache[tile] = Codec(tile=tile)
        return cache[tile]
    return get


def encode(codecs, input_name, options):
    options = dict(options)
    a = load_input(input_name, options.pop("channel_axis", False))
    if options.pop("metadata", False):
        options["metadata"] = METADATA
    return codecs(options.pop("tile", 1024)).compress(a, **options)


def regenerate(codecs):
    """Rewrite the current version's vectors (and their inputs); the files
    of older versions stay as they are: no encoder writes them any more."""
    from iwave.codec import Codec
    VECTORS.mkdir(exist_ok=True)
    for name, (h, w, c, dtype, seed) in INPUTS.items():
        (VECTORS / f"{name}.png").write_bytes(encode_png(make_input(name, h, w, c, dtype, seed)))
    older = [e for e in manifest() if e["version"] < bitstream.VERSION] if MANIFEST.exists() else []
    entries = []
    for name, inp, opts in CURRENT:
        data = encode(codecs, inp, opts)
        (VECTORS / f"{name}.iwv").write_bytes(data)
        entries.append({"file": f"{name}.iwv", "input": f"{inp}.png", "options": opts,
                        "version": bitstream.VERSION, "file_sha256": hashlib.sha256(data).hexdigest(),
                        "decoded_sha256": image_hash(Codec().decompress(data))})
    MANIFEST.write_text(json.dumps(entries + older, indent=1) + "\n")


def manifest():
    return json.loads(MANIFEST.read_text())


@pytest.fixture(scope="module", autouse=True)
def vectors(codecs):
    if REGENERATE:
        regenerate(codecs)
    assert MANIFEST.exists(), "no frozen vectors: run with IWAVE_REGENERATE_VECTORS=1"


def test_every_version_the_decoder_reads_has_vectors():
    versions = {e["version"] for e in manifest()}
    assert versions == set(range(1, bitstream.VERSION + 1))
    modes = {(e["version"], "step" in e["options"]) for e in manifest()}
    assert all((v, lossy) in modes for v in versions for lossy in (False, True))


def test_vectors_decode_to_their_recorded_images(codecs):
    from iwave.codec import Codec
    decoder = Codec()
    for e in manifest():
        data = (VECTORS / e["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == e["file_sha256"], f"{e['file']} was changed"
        assert data[4] == e["version"]
        out = decoder.decompress(data)
        assert image_hash(out) == e["decoded_sha256"], f"{e['file']} decodes differently"
        assert bitstream.read_metadata(data) == (METADATA if e["options"].get("metadata") else {})
        if "step" not in e["options"]:
            original = load_input(e["input"][:-4], e["options"].get("channel_axis", False))
            np.testing.assert_array_equal(out, original)
            assert out.shape == original.shape and out.dtype == original.dtype


def test_current_version_encodes_byte_for_byte(codecs):
    current = [e for e in manifest() if e["version"] == bitstream.VERSION]
    assert len(current) == len(CURRENT)
    for e in current:
        data = encode(codecs, e["input"][:-4], e["options"])
        assert hashlib.sha256(data).hexdigest() == e["file_sha256"], f"{e['file']} encodes differently"

