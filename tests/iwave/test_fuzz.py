"""Hostile files: hypothesis mutates valid .iwv files (bit flips, truncation,
appended junk, swapped chunks, extreme header values with a valid header CRC,
random bytes). Decoding must return an image or raise IWaveError: never
another exception, never a hang, never a huge allocation (header fields are
range-checked and compared with the data's size before any work)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iwave import bitstream, ycbcr
from iwave.codec import Codec
from iwave.errors import IWaveError
from tests.conftest import photo_like

CASES = 2000
FUZZ_MAX_PIXELS = 1 << 14


@pytest.fixture(scope="module")
def codec():
    # A small pixel limit keeps each example fast: a mutated header may claim
    # any size up to the limit, and decoding that much takes time. Refusal of
    # sizes over the (default) limit is tested on its own below.
    return Codec(max_pixels=FUZZ_MAX_PIXELS)


@pytest.fixture(scope="module")
def samples(codec):
    rgb = photo_like(14, 18, 3, seed=3)
    grey16 = photo_like(9, 7, 1, seed=4, dtype=np.uint16)
    rgba = photo_like(8, 10, 4, seed=5)
    # decoded from YCbCr planes, one pixel edited since: its planes and a mended pixel (format 18)
    planes = np.stack([photo_like(16, 20, 1, seed=6).astype(np.int64), np.full((16, 20), -20),
                       np.arange(320).reshape(16, 20) % 7 - 3])
    jpeg_like = np.moveaxis(ycbcr.to_rgb(planes), 0, -1).astype(np.uint8)
    jpeg_like[5, 6] = (3, 250, 7)
    # ... from 4:2:0: Y and upsampled half-resolution chroma (format 19)
    half = [np.pad(photo_like(8, 10, 1, seed=s).astype(np.int64) // 4 + 100, 1, mode="edge") for s in (7, 8)]
    sub = np.stack([photo_like(16, 20, 1, seed=9).astype(np.int64)]
                   + [ycbcr.upsample(h, 16, 20, 0, 0) - 128 for h in half])
    jpeg420 = np.moveaxis(ycbcr.to_rgb(sub), 0, -1).astype(np.uint8)
    files = [codec.compress(rgb), codec.compress(rgb, step=6.0), codec.compress(grey16),
             codec.compress(rgba), codec.compress(rgba, step=20.0), codec.compress(jpeg_like),
             codec.compress(jpeg420)]
    for f in files:           # compile numba paths now, not inside a timed example
        codec.decompress(f)
    return files


# extreme values for the header fields, written with a valid header CRC
EXTREMES = {"width": [0, 1, 2, 65535, 100_000, 2**31, 2**32 - 1],
            "height": [0, 1, 2, 65535, 100_000, 2**31, 2**32 - 1],
            "components": [1, 2, 3, 4], "bit_depth": [8, 16], "colour": [0, 1],
            "has_alpha": [False, True], "mode": [0, 1], "levels": [0, 1, 2, 5, 9, 255],
            "step": [0.0, -1.0, 1e-30, 0.09, 0.1, 1.0, 1e6, 1e7, float("inf"), float("nan")],
            "tile": [0, 1, 63, 64, 65, 4096, 4097, 2**32 - 1],
            "overlap": [0, 1, 255, 256, 257, 2**32 - 1]}


def with_fields(data, **fields):
    """The file with these header fields, its CRCs valid."""
    header, chunks = bitstream.read(bytes(data))
    for k, v in fields.items():
        setattr(header, k, v)
    return bytearray(bitstream.pack(header, chunks))


@st.composite
def mutated(draw, samples):
    data = bytearray(draw(st.sampled_from(samples)))
    kind = draw(st.sampled_from(["flip", "truncate", "append", "swap", "header", "header2",
                                 "random", "splice"]))
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
    elif kind == "truncate":
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif kind == "append":
        data += draw(st.binary(min_size=1, max_size=64))
    elif kind == "swap":           # exchange two chunks (each keeps its own valid CRC)
        header, chunks = bitstream.read(bytes(data))
        if len(chunks) > 1:
            i, j = draw(st.permutations(range(len(chunks))))[:2]
            chunks[i], chunks[j] = chunks[j], chunks[i]
        data = bytearray(bitstream.write(header, chunks))
    elif kind in ("header", "header2"):   # extreme values that pass the header CRC
        fields = {}
        for _ in range(1 if kind == "header" else draw(st.integers(2, 4))):
            key = draw(st.sampled_from(sorted(EXTREMES)))
            fields[key] = draw(st.sampled_from(EXTREMES[key]))
        data = with_fields(data, **fields)
    elif kind == "splice":         # a valid header with another file's chunks
        other = draw(st.sampled_from(samples))
        data = data[:min(len(data), 60)] + other[60:]
    else:
        data = bytearray(draw(st.binary(min_size=0, max_size=300)))
        if draw(st.booleans()):
            data[:5] = draw(st.sampled_from([b"IWAV\x01", b"IWAV\x06", b"IWAV\x07"]))[:len(data)]
    return bytes(data)


def _decode_or_error(codec, data):
    try:
        out = codec.decompress(data)
    except IWaveError as e:
        assert str(e), "errors carry a message"
        return None
    assert out.dtype in (np.uint8, np.uint16) and out.size > 0
    return out


@settings(max_examples=CASES, deadline=60_000, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_mutated_files_never_crash(codec, samples, data):
    _decode_or_error(codec, data.draw(mutated(samples)))


@settings(max_examples=150, deadline=60_000, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_cli_reports_mutated_files_in_one_line(samples, data, tmp_path_factory, capsys):
    from iwave.cli import main
    d = tmp_path_factory.mktemp("fuzz")
    f = d / "x.iwv"
    f.write_bytes(data.draw(mutated(samples)))
    code = main(["decompress", str(f), "-o", str(d / "x.png"), "--force",
                 "--max-pixels", str(FUZZ_MAX_PIXELS)])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert code in (0, 1)
    if code:
        assert len(err.strip().splitlines()) == 1 and err.startswith("iwave: error:")


def test_huge_claimed_size_is_refused_before_any_work(samples):
    codec = Codec()           # the default limit
    with pytest.raises(IWaveError, match="limit"):
        codec.decompress(bytes(with_fields(samples[0], width=100_000, height=100_000)))
    # one 4096 x 4096 tile: under the limit and consistent, but the data is far too short
    data = Codec(tile=4096).compress(photo_like(14, 18, 3, seed=3))
    with pytest.raises(IWaveError, match="too short"):
        codec.decompress(bytes(with_fields(data, width=4096, height=4096)))
