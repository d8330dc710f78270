"""Lossless groups coded pixel by pixel (file format 20): every kind of
image round-trips exactly through them, at any size; a preview shows what a
wavelet-coded group's would; the encoder keeps whichever of the two ways is
smaller; bad parameters or samples are a corrupt file."""
import struct
import zlib

import numpy as np
import pytest

from iwave import bitstream, lifting_paths, pixel_prediction, pixel_prediction_fit
from iwave.codec import Codec
from iwave.entropy import EntropyError
from iwave.entropy.laplace_coder import ValueDecoder, ValueEncoder
from iwave.errors import IWaveError
from tests.conftest import force_lossless_path as forced, photo_like



def smooth(h, w, channels=3, seed=0):
    """A smooth picture with a little noise: what pixel prediction codes best."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = [90 + 60 * np.sin(x / 23 + c) * np.cos(y / 31 - c) for c in range(channels)]
    return np.clip(np.stack(base, -1) + rng.normal(0, 0.7, (h, w, channels)), 0, 255).round().astype(np.uint8)


IMAGES = {
    "rgb8": lambda: photo_like(37, 45, 3, seed=31),
    "grey8": lambda: photo_like(29, 33, 1, seed=32),
    "rgba16": lambda: photo_like(30, 26, 4, seed=33, dtype=np.uint16),
    "grey16-sparse": lambda: (photo_like(33, 40, 1, seed=34, dtype=np.uint16) // 300 * 300 + 7
                              ).astype(np.uint16),
    "extremes": lambda: np.random.default_rng(35).choice([0, 255], (21, 19, 3)).astype(np.uint8),
    "1x1": lambda: np.array([[[200, 3, 77]]], np.uint8),
    "1x9": lambda: photo_like(1, 9, 3, seed=36),
    "9x1": lambda: photo_like(9, 1, 3, seed=37),
    "2x3-16bit": lambda: np.array([[0, 65535, 1], [65534, 2, 40000]], np.uint16),
}


@pytest.mark.parametrize("name", IMAGES)
def test_every_kind_of_image_round_trips_pixel_by_pixel(codec, monkeypatch, name):
    a = IMAGES[name]()
    forced(monkeypatch, lifting_paths.PIXELS)
    data = codec.compress(a)
    monkeypatch.undo()
    np.testing.assert_array_equal(codec.decompress(data), a)


def test_tiles_and_palettes_round_trip_pixel_by_pixel(model, monkeypatch):
    forced(monkeypatch, lifting_paths.PIXELS)
    a = photo_like(90, 140, 3, seed=38)
    tiled = Codec(model, tile=64)
    np.testing.assert_array_equal(tiled.decompress(tiled.compress(a)), a)
    few = (photo_like(40, 50, 3, seed=39) // 64 * 64).astype(np.uint8)       # 64 colours at most
    np.testing.assert_array_equal(tiled.decompress(tiled.compress(few)), few)


@pytest.mark.parametrize("scale", ["1/2", "1/4"])
def test_a_preview_is_the_low_pass_band_a_wavelet_coded_file_shows(codec, monkeypatch, scale):
    a = photo_like(45, 38, 3, seed=40)
    files = {}
    for path in (lifting_paths.PIXELS, lifting_paths.OWN):
        forced(monkeypatch, path)
        files[path] = codec.compress(a)
    monkeypatch.undo()
    assert files[lifting_paths.PIXELS] != files[lifting_paths.OWN]
    np.testing.assert_array_equal(codec.decompress(files[lifting_paths.PIXELS], scale=scale),
                                  codec.decompress(files[lifting_paths.OWN], scale=scale))


def test_the_encoder_keeps_the_smaller_way(codec, monkeypatch):
    """A smooth picture codes smaller pixel by pixel, a noisy one on the
    wavelet here; either way the file is the smaller of the two."""
    for a in (smooth(64, 80), photo_like(64, 80, 3, seed=41)):
        chosen = len(codec.compress(a))
        sizes = []
        for path in (lifting_paths.PIXELS, lifting_paths.OWN):
            forced(monkeypatch, path)
            sizes.append(len(codec.compress(a)))
        monkeypatch.undo()
        assert chosen == min(sizes)
    assert sizes[0] > sizes[1]                 # (the last: the noisy picture)
    forced(monkeypatch, lifting_paths.OWN)
    wavelet = len(codec.compress(smooth(64, 80)))
    monkeypatch.undo()
    assert len(codec.compress(smooth(64, 80))) < wavelet


def test_the_fitted_parameters_code_smallest_and_are_in_range(model):
    plane = smooth(40, 50, 1)[:, :, 0].astype(np.int64)
    means, logs, _, _ = pixel_prediction.analyse(plane, np.zeros(plane.shape, np.int64),
                                                 model.mean_resolution)
    values = plane.reshape(-1)
    best = pixel_prediction_fit.fit(values, means, logs, model.tables)
    assert best.slope in pixel_prediction.SLOPES and abs(best.shift) <= pixel_prediction.SHIFT_MAX
    bits = lambda p: pixel_prediction_fit._bits(values, means, logs, p, model.tables)  # noqa: E731
    for slope in (best.slope - 1, best.slope + 1):
        for shift in range(best.shift - 3, best.shift + 4):
            if slope in pixel_prediction.SLOPES:
                assert bits(best) <= bits(pixel_prediction.Parameters(slope, shift)) + 1e-6


@pytest.mark.parametrize("values", [[5, 0, 0], [-5, 0, 0], [0, 97, 0], [0, -97, 0], [0, 0, -1], [0, 0, 5]])
def test_parameters_out_of_range_are_refused(values):
    encoder = ValueEncoder()
    encoder.add(np.array(values), np.zeros(3, np.int64), pixel_prediction._SCALES)
    with pytest.raises(EntropyError, match="pixel prediction parameters out of range"):
        pixel_prediction.read_parameters(ValueDecoder(encoder.finish()))


def test_before_format_22_the_parameters_have_no_variant():
    encoder = ValueEncoder()
    pixel_prediction.write_parameters(encoder, pixel_prediction.Parameters(9, -4, 3))
    decoder = ValueDecoder(encoder.finish())
    assert pixel_prediction.read_parameters(decoder, pixel_prediction.LOCAL) == (9, -4, 0)


def _decoded(model, streams, shape):
    """The planes of a group's pixel-by-pixel streams (no sample maps)."""
    decoders = [ValueDecoder(s, model.tables) for s in streams]
    assert lifting_paths.read(decoders[0], pixels=True) == lifting_paths.PIXELS
    for d in decoders:
        d.decode(np.zeros(1, np.int64), np.full(1, pixel_prediction.ZERO_INDEX))     # the map flag
    planes = pixel_prediction.read(decoders, shape, 8, model.mean_resolution)
    for d in decoders:
        d.check_end()
    return planes


@pytest.mark.parametrize("variant", range(len(pixel_prediction.VARIANTS)))
def test_each_blend_variant_round_trips(model, monkeypatch, variant):
    """Each of format 22's variants, named in every plane's stream, decodes
    to the same planes (and codes them otherwise than the default)."""
    planes = np.moveaxis(smooth(30, 34, seed=4), -1, 0).astype(np.int64)
    default = pixel_prediction_fit.encode(model, planes)
    monkeypatch.setattr(pixel_prediction, "DEFAULT_VARIANTS", (variant,) * 3)
    streams = pixel_prediction_fit.encode(model, planes)
    np.testing.assert_array_equal(_decoded(model, streams, planes.shape[1:]), planes)
    assert variant == 0 or streams != default


def test_effort_9_codes_each_plane_with_its_smallest_variant(model, codec, monkeypatch):
    planes = np.moveaxis(smooth(48, 40, seed=5), -1, 0).astype(np.int64)
    every = pixel_prediction_fit.encode(model, planes, every_variant=True)
    np.testing.assert_array_equal(_decoded(model, every, planes.shape[1:]), planes)
    assert len(every[0]) <= len(pixel_prediction_fit.encode(model, planes[:1])[0])
    assert sum(map(len, every)) <= sum(map(len, pixel_prediction_fit.encode(model, planes)))
    forced(monkeypatch, lifting_paths.PIXELS)
    image = np.moveaxis(planes, 0, -1).astype(np.uint8)
    assert np.array_equal(codec.decompress(codec.compress(image, effort=9)), image)


def test_samples_beyond_the_depth_are_a_corrupt_stream(model):
    """A plane whose samples an 8-bit group cannot hold (here one of 300)
    does not decode as 8 bits."""
    plane = photo_like(6, 7, 1, seed=42).astype(np.int64)
    plane[3, 4] = 300
    streams = pixel_prediction_fit.encode(model, plane[None])
    decoder = ValueDecoder(streams[0], model.tables)
    assert lifting_paths.read(decoder, pixels=True) == lifting_paths.PIXELS
    decoder.decode(np.zeros(1, np.int64), np.full(1, pixel_prediction.ZERO_INDEX))     # the map flag
    with pytest.raises(EntropyError):
        pixel_prediction.read([decoder], plane.shape, 8, model.mean_resolution)
    decoder = ValueDecoder(streams[0], model.tables)
    lifting_paths.read(decoder, pixels=True)
    decoder.decode(np.zeros(1, np.int64), np.full(1, pixel_prediction.ZERO_INDEX))
    np.testing.assert_array_equal(pixel_prediction.read([decoder], plane.shape, 9, model.mean_resolution)[0],
                                  plane)


def test_a_truncated_pixel_by_pixel_file_is_a_clear_error(codec, monkeypatch):
    forced(monkeypatch, lifting_paths.PIXELS)
    data = codec.compress(smooth(40, 40))
    monkeypatch.undo()
    for cut in (len(data) - 1, len(data) - 40, len(data) // 2):
        with pytest.raises(IWaveError, match="corrupt|truncated"):
            codec.decompress(data[:cut])


def test_damaged_samples_behind_a_valid_checksum_are_a_clear_error(codec, monkeypatch):
    """Bit flips in a pixel-by-pixel stream, the data's CRC written anew so
    that the decoder itself meets them: each file decodes to the picture or
    is refused with an IWaveError (corrupt stream or pixel checksum)."""
    forced(monkeypatch, lifting_paths.PIXELS)
    data = codec.compress(IMAGES["rgba16"]())
    monkeypatch.undo()
    _, chunks = bitstream.read(data)
    size = sum(map(len, chunks))
    start = len(data) - 4 - size
    rng = np.random.default_rng(7)
    for _ in range(60):
        damaged = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            damaged[start + int(rng.integers(0, size))] ^= 1 << int(rng.integers(0, 8))
        damaged[-4:] = struct.pack("<I", zlib.crc32(bytes(damaged[start:start + size])))
        try:
            np.testing.assert_array_equal(codec.decompress(bytes(damaged)), IMAGES["rgba16"]())
        except IWaveError:
            pass
