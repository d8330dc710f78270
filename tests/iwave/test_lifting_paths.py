"""Lossless lifting paths (format 13), and coding pixel by pixel (PIXELS,
format 20): a group coded on any path decodes exactly, the file says which,
effort 9 keeps the smallest, and a path the decoder does not know is a
corrupt file."""
import numpy as np
import pytest

from iwave import bitstream, decoder, encoder, lifting_paths, pixel_prediction_fit
from iwave.codec import Codec
from iwave.entropy.tables import zeroth_order_bits
from iwave.errors import IWaveError
from tests.conftest import force_lossless_path as forced, photo_like

IMAGES = {
    "rgb8": lambda: photo_like(37, 45, 3, seed=21),
    "rgba16": lambda: photo_like(30, 26, 4, seed=22, dtype=np.uint16),
    "grey16-sparse": lambda: (photo_like(33, 40, 1, seed=23, dtype=np.uint16) // 200 * 200 + 5
                              ).astype(np.uint16),
    "rgb16-of-8": lambda: photo_like(28, 36, 3, seed=24).astype(np.uint16) * 257,
}


EVERY_PATH = list(range(len(lifting_paths.PATHS))) + [lifting_paths.PIXELS]



@pytest.mark.parametrize("path", EVERY_PATH)
@pytest.mark.parametrize("name", IMAGES)
def test_every_path_round_trips_exactly(codec, monkeypatch, name, path):
    a = IMAGES[name]()
    forced(monkeypatch, path)
    data = codec.compress(a)
    np.testing.assert_array_equal(codec.decompress(data), a)


def test_the_decoder_follows_the_path_the_file_names(codec, monkeypatch):
    """Paths code the same image differently; each file decodes on its own."""
    a = IMAGES["rgb8"]()
    files = []
    for path in EVERY_PATH:
        forced(monkeypatch, path)
        files.append(codec.compress(a))
    assert len(set(files)) == len(files)
    monkeypatch.undo()
    for data in files:
        np.testing.assert_array_equal(codec.decompress(data), a)


def test_tiles_choose_their_own_paths_and_round_trip(model):
    a = photo_like(90, 140, 3, seed=25)
    tiled = Codec(model, tile=64)
    for level in (7, 9):
        np.testing.assert_array_equal(tiled.decompress(tiled.compress(a, effort=level)), a)


def test_effort_9_keeps_the_smallest_path(codec, monkeypatch):
    a = IMAGES["rgb8"]()
    best = len(codec.compress(a, effort=9))
    for path in EVERY_PATH:
        forced(monkeypatch, path)
        assert best <= len(codec.compress(a, effort=9))


def test_the_estimate_is_the_path_of_least_subband_entropy(codec):
    model = codec.model_for(False)
    x = encoder.component_groups(IMAGES["rgb8"]())[0][0]
    seen, bits = [], []

    def bands_on(transform):
        seen.append(transform.coeffs)
        bands = encoder.subbands(model, x, 8, None, transform=transform)[0]
        bits.append(sum(zeroth_order_bits(b[i].numpy()) for b in bands for i in range(b.shape[0])))
        return bands
    chosen, bands = lifting_paths.estimate(model, bands_on)
    assert len(set(seen)) == len(lifting_paths.PATHS) and 0 <= chosen < len(lifting_paths.PATHS)
    assert seen[0] == model.transform.coeffs                   # path 0: the model's own
    assert chosen == int(np.argmin(bits))
    want = encoder.subbands(model, x, 8, None, transform=lifting_paths.transform(model, chosen))[0]
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(bands, want))


def test_other_taps_leave_the_models_transform_alone(model):
    own = model.transform.coeffs
    other = model.transform.with_lossless_taps(lifting_paths.PATHS[1])
    assert model.transform.coeffs == own and other.coeffs != own
    assert other.steps is model.transform.steps and other.lossy_coeffs == model.transform.lossy_coeffs


def test_an_unknown_path_is_a_corrupt_file(codec, monkeypatch):
    write = lifting_paths.write
    monkeypatch.setattr(lifting_paths, "write", lambda enc, path: write(enc, 7))
    data = codec.compress(IMAGES["rgb8"]())
    with pytest.raises(IWaveError, match="corrupt.*bad lifting path"):
        codec.decompress(data)


def test_a_format_19_reader_refuses_pixel_by_pixel_coding(codec, monkeypatch):
    forced(monkeypatch, lifting_paths.PIXELS)
    data = codec.compress(IMAGES["rgb8"]())
    monkeypatch.setitem(decoder.STREAM_FORMATS, bitstream.VERSION, decoder.STREAM_FORMATS[19])
    with pytest.raises(IWaveError, match="corrupt.*bad lifting path"):
        codec.decompress(data)


def test_effort_9_codes_every_path_for_the_smaller_form_of_a_sparse_scan_only(codec, monkeypatch):
    """A scan of few values has two forms (mapped and not): effort 9 codes
    each pixel by pixel and on its estimated path, then the other lifting
    paths for the smaller form alone (8 or 9 codings, not 10)."""
    a = IMAGES["grey16-sparse"]()
    sizes = []
    original, pixels = encoder.encode_group, pixel_prediction_fit.encode

    def counted(*args, **kwargs):
        streams = original(*args, **kwargs)
        sizes.append((kwargs["path"], kwargs["sample_maps"][0] is not None, sum(map(len, streams))))
        return streams

    def counted_pixels(model, planes, head, maps, **kwargs):
        assert kwargs == {"every_variant": True}     # (effort 9: each plane's every blend variant)
        streams = pixels(model, planes, head, maps, **kwargs)
        sizes.append((lifting_paths.PIXELS, maps[0] is not None, sum(map(len, streams))))
        return streams
    monkeypatch.setattr(encoder, "encode_group", counted)
    monkeypatch.setattr(pixel_prediction_fit, "encode", counted_pixels)
    data = codec.compress(a, effort=9)
    np.testing.assert_array_equal(codec.decompress(data), a)
    first, rest = sizes[:4], sizes[4:]
    assert len({(p, m) for p, m, _ in sizes}) == len(sizes)
    assert sum(p == lifting_paths.PIXELS for p, _, _ in first) == 2
    winner = min(first, key=lambda s: s[2])
    assert {m for _, m, _ in rest} == {winner[1]}
    assert {p for p, _, _ in rest} | {winner[0]} >= set(range(len(lifting_paths.PATHS)))
    assert len(rest) == len(lifting_paths.PATHS) - (winner[0] != lifting_paths.PIXELS)
