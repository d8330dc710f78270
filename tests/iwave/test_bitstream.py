
import struct
import zlib

import pytest

from iwave import bitstream
from iwave.errors import IWaveError
from tests.conftest import ROOT


def make(**kw):
    h = dict(width=5, height=7, components=3, bit_depth=8, colour=bitstream.COLOUR_YCOCG_R,
             has_alpha=False, mode=bitstream.MODE_LOSSLESS, levels=4, step=1.0,
             weights_id="0123456789abcdef", pixel_crc=1234, tile=64)
    h.update(kw)
    return bitstream.Header(**h)


def test_roundtrip_header_and_chunks():
    chunks = [b"abc", b"", b"\x00" * 100]
    data = bitstream.write(make(), chunks)
    h, c = bitstream.read(data)
    assert c == chunks and h.width == 5 and h.height == 7 and h.weights_id == "0123456789abcdef"
    assert h.to_dict()["mode"] == "lossless"


def test_unknown_version_and_bad_magic():
    data = bytearray(bitstream.write(make(), [b"x"]))
    data[4] = 99
    with pytest.raises(IWaveError, match="version 99"):
        bitstream.read(bytes(data))
    with pytest.raises(IWaveError, match="not an iwave file"):
        bitstream.read(b"PNG....")


def test_every_truncation_is_an_error():
    data = bitstream.write(make(), [b"hello", b"world"])
    for n in range(len(data)):
        with pytest.raises(IWaveError):
            bitstream.read(data[:n])


def test_every_bit_flip_is_an_error():
    data = bitstream.write(make(), [b"hello", b"world"])
    for i in range(len(data)):
        for bit in (0, 7):
            bad = bytearray(data)
            bad[i] ^= 1 << bit
            with pytest.raises(IWaveError):
                bitstream.read(bytes(bad))


def test_absurd_size_is_refused_before_allocation():
    body = bytearray(bitstream.write(make(width=100_000, height=100_000), [b"x"]))
    with pytest.raises(IWaveError, match="limit"):
        bitstream.read(bytes(body))


def test_appended_junk_is_an_error():
    with pytest.raises(IWaveError, match="after the last chunk"):
        bitstream.read(bitstream.write(make(), [b"x"] * 3) + b"junk")


def test_inconsistent_fields_are_refused_even_with_valid_crc():
    """Refused by the reader or, where the layout cannot even hold them
    (since version 7), by the writer."""
    for kw in [dict(bit_depth=12), dict(components=2, has_alpha=False), dict(mode=7),
               dict(step=0.0, mode=bitstream.MODE_LOSSY), dict(mode=bitstream.MODE_LOSSLESS, step=3.0),
               dict(width=0)]:
        with pytest.raises((IWaveError, ValueError)):
            bitstream.read(bitstream.write(make(**kw), [b"x"]))


def test_version_1_files_still_read():
    """iwave 0.1 wrote version 1: no tile fields, the whole image one tile."""
    import struct
    import zlib
    chunks = [b"abc", b"de", b"f"]
    body = struct.pack("<IIBBBBBBd8sIB", 5, 7, 3, 8, 1, 0, 0, 4, 1.0,
                       bytes.fromhex("0123456789abcdef"), 1234, 3)
    body += struct.pack("<3I", 3, 2, 1)
    head = b"IWAV\x01" + struct.pack("<H", len(body)) + body
    data = head + struct.pack("<I", zlib.crc32(head))
    for c in chunks:
        data += c + struct.pack("<I", zlib.crc32(c))
    h, c = bitstream.read(data)
    assert c == chunks and (h.width, h.height, h.overlap) == (5, 7, 0)
    assert h.tiles() == [(0, 7, 0, 5)]


def test_tiles_and_chunk_count_must_agree():
    h = make(width=200, height=70, tile=64)          # 4 x 2 tiles, 3 components
    assert len(h.tiles()) == 8
    bitstream.read(bitstream.write(make(width=200, height=70, tile=64), [b"x" * 9] * 24))
    with pytest.raises(IWaveError, match="chunks"):
        bitstream.read(bitstream.write(make(width=200, height=70, tile=64), [b"x" * 9] * 23))
    for bad in (dict(tile=32), dict(tile=8192), dict(overlap=300, mode=bitstream.MODE_LOSSY, step=2.0),
                dict(overlap=4)):
        with pytest.raises((IWaveError, ValueError), match="tile"):
            bitstream.read(bitstream.write(make(**bad), [b"x"] * 3))


def test_compact_header_keeps_every_field():
    lossy = make(width=768, height=512, mode=bitstream.MODE_LOSSY, step=bitstream.stored_step(61.3),
                 pixel_crc=0, tile=1024, overlap=16)
    chunks = [b"y" * 5000, b"o" * 300, b"g" * 200]
    data = bitstream.write(lossy, chunks)
    assert len(data) - sum(map(len, chunks)) <= 45        # version 6: 79 bytes
    h, c = bitstream.read(data)
    assert c == chunks and h.to_dict() == dict(lossy.to_dict(), version=bitstream.VERSION)
    alpha16 = make(components=4, has_alpha=True, bit_depth=16, pixel_crc=0xDEADBEEF)
    h, _ = bitstream.read(bitstream.write(alpha16, [b"ab"] * 4))
    assert h.to_dict() == dict(alpha16.to_dict(), version=bitstream.VERSION)


def test_older_headers_still_read():
    """The frozen files of versions 1 (no tile fields) and 6 (the longer
    header, with a CRC after each chunk)."""
    vectors = ROOT / "tests" / "vectors"
    h, chunks = bitstream.read((vectors / "v6-lossy-tiles-step16.iwv").read_bytes())
    assert (h.version, h.width, h.height, h.tile, h.overlap, h.step) == (6, 150, 100, 64, 16, 16.0)
    assert h.mode == bitstream.MODE_LOSSY and len(chunks) == 6 * 3 and len(h.tiles()) == 6
    h, chunks = bitstream.read((vectors / "v1-lossless-rgb8.iwv").read_bytes())
    assert (h.version, h.width, h.height, h.tile, h.overlap) == (1, 64, 48, 64, 0)
    assert h.tiles() == [(0, 48, 0, 64)] and len(chunks) == 3


def as_version(data, version):
    """A compact header's bytes under another version number (CRC redone)."""
    data = bytearray(data)
    h = bitstream.read(bytes(data))[0]
    if version < 12:                      # the effort byte after `levels` came in version 12
        varint_bytes = lambda v: max(1, (v.bit_length() + 6) // 7)
        del data[5 + varint_bytes(h.width) + varint_bytes(h.height) + 2]
    data[4] = version
    head_end = len(data) - 4 - sum(h.chunk_lengths) - 4
    data[head_end:head_end + 4] = struct.pack("<I", zlib.crc32(bytes(data[:head_end])))
    return bytes(data)


def test_version_8_records_an_explicit_channel_axis():
    """(H, W, 1) arrays come back as (H, W, 1): version 8 keeps a layout bit
    for it; version 7 files have none, and in a version-7 header the bit is
    corruption."""
    grey = make(components=1, colour=bitstream.COLOUR_NONE, has_alpha=False, channel_axis=True)
    h, _ = bitstream.read(bitstream.write(grey, [b"ab"]))
    assert h.channel_axis and h.to_dict()["shape"] == [7, 5, 1]
    plain = make(components=1, colour=bitstream.COLOUR_NONE, has_alpha=False)
    assert bitstream.read(bitstream.write(plain, [b"ab"]))[0].to_dict()["shape"] == [7, 5]
    with pytest.raises(ValueError):
        bitstream.write(make(channel_axis=True), [b"x"] * 3)         # only for one component
    old = as_version(bitstream.write(plain, [b"ab"]), 7)
    assert old[4] == 7 and not bitstream.read(old)[0].channel_axis
    with pytest.raises(IWaveError, match="component layout"):
        bitstream.read(as_version(bitstream.write(grey, [b"ab"]), 7))
