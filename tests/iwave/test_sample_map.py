"""Sample maps (histogram packing, format 9): sparse components are coded as
indices into the values they use, exactly, and only where that is smaller."""
import numpy as np
import pytest

from iwave.entropy import EntropyError, ValueDecoder, ValueEncoder
from iwave.entropy.tables import load_tables
from iwave import bitstream, encoder, index_coder, lifting_paths, sample_map
from tests.conftest import photo_like


def sparse(h, w, channels=1, seed=0, spacing=128):
    """A scan-like 16-bit image: smooth content on a coarse grid of values."""
    a = photo_like(h, w, channels, seed=seed, dtype=np.uint16)
    return (a // spacing * spacing + 7).astype(np.uint16)


def sizes_with_and_without_maps(codec, a, monkeypatch):
    with_map = codec.compress(a)
    with monkeypatch.context() as m:
        m.setattr(sample_map, "candidate", lambda x, bit_depth: None)
        m.setattr(index_coder, "MAX_VALUES", 0)          # nor context-coded indices (format 11)
        without = codec.compress(a)
    return with_map, without


def test_a_sparse_scan_round_trips_and_gets_much_smaller(codec, monkeypatch):
    a = sparse(70, 90)
    with_map, without = sizes_with_and_without_maps(codec, a, monkeypatch)
    assert with_map[4] == without[4] == bitstream.VERSION >= 9
    np.testing.assert_array_equal(codec.decompress(with_map), a)
    np.testing.assert_array_equal(codec.decompress(without), a)
    assert len(with_map) < 0.7 * len(without)


@pytest.mark.parametrize("make", [
    lambda: np.where(photo_like(40, 50, 1) > 128, 255, 0).astype(np.uint8),          # two levels
    lambda: np.dstack([photo_like(40, 50, 3), np.where(photo_like(40, 50, 1, seed=3) > 120, 255, 0)
                       .astype(np.uint8)]),                                        # keyed alpha
    lambda: sparse(33, 47, 2, spacing=300),                                        # grey + alpha
    lambda: photo_like(36, 44, 1, dtype=np.uint16)])                               # dense: no map
def test_layouts_with_and_without_maps_round_trip(codec, make):
    a = make()
    np.testing.assert_array_equal(codec.decompress(codec.compress(a)), a)


def test_a_map_is_sent_only_where_it_is_smaller(codec, monkeypatch):
    chosen = []
    group = encoder.encode_lossless_group

    def spy(model, x, bit_depth, **kw):
        out = group(model, x, bit_depth, **kw)
        chosen.append(out)
        return out
    monkeypatch.setattr(encoder, "encode_lossless_group", spy)
    a = sparse(50, 60)
    codec.compress(a)
    plain_codec = encoder.encode_group
    bands, _ = encoder.subbands(codec.model_for(False), a.astype(np.int64)[None], 16, None)
    plain = plain_codec(codec.model_for(False), bands, 16, None, sample_maps=[None])
    assert len(chosen[0][0]) <= len(plain[0])


def _stream(write):
    enc = ValueEncoder(load_tables())
    write(enc)
    return ValueDecoder(enc.finish(), load_tables())


@pytest.mark.parametrize("values", [None, [0], [3, 4, 9, 65535], list(range(0, 60000, 97))])
def test_maps_read_back(values):
    d = _stream(lambda e: sample_map.write(e, values))
    got = sample_map.read(d, 16)
    assert (got is None) if values is None else got.tolist() == values


def test_malformed_maps_are_refused():
    def raw(values, scales):
        def write(e):
            v = np.array(values, np.int64)
            e.add(v, np.zeros_like(v), np.array(scales, np.int64))
        return _stream(write)
    from iwave.entropy.tables import ZERO_INDEX as Z
    head = [Z, Z + sample_map.COUNT_SCALE, Z + sample_map.FIRST_SCALE, Z + sample_map.GAP_SCALE_SCALE]
    with pytest.raises(EntropyError, match="out of range"):       # beyond 8 bits
        sample_map.read(raw([1, 0, 300, 0], head), 8)
    with pytest.raises(EntropyError, match="out of order"):       # a negative gap
        sample_map.read(raw([1, 1, 10, 0, -2], head + [Z]), 16)
    with pytest.raises(EntropyError, match="out of range"):       # runs past the top
        sample_map.read(raw([1, 1, 250, 0, 10], head + [Z]), 8)
    with pytest.raises(EntropyError, match="outside the map"):
        sample_map.from_indices(np.array([0, 3]), np.array([5, 9, 11]))


def test_a_two_level_image_codes_at_a_fraction_of_its_unmapped_size(codec, monkeypatch):
    """A 1-bit image read as 8-bit grey (0 and 255) was coded as a photo."""
    a = np.where(photo_like(60, 80, 1, seed=3) > 128, 255, 0).astype(np.uint8)
    with_map, without = sizes_with_and_without_maps(codec, a, monkeypatch)
    np.testing.assert_array_equal(codec.decompress(with_map), a)
    assert len(with_map) < 0.3 * len(without)


@pytest.mark.parametrize("count, depth", [(2, 8), (256, 8), (257, 9), (300, 9), (4096, 12),
                                          (4097, 13), (32768, 15)])
def test_mapped_indices_are_coded_at_the_fewest_bits_that_hold_them(count, depth):
    values = np.arange(count)
    assert sample_map.coded_depth(values, 16, tight=True) == depth
    assert sample_map.coded_depth(values, 16, tight=False) == (8 if count <= 256 else 16)
    assert sample_map.coded_depth(None, 16, tight=True) == 16


def test_a_scan_of_a_few_hundred_values_codes_smaller_than_at_16_bits(codec, monkeypatch):
    """Version 12 coded the indices of more than 256 values as 16-bit
    samples, which the context model scales down 256 times: it saw a
    nearly flat image, and coded a scan's empty background as dearly as
    the body beside it. (On the wavelet: pixel by pixel, format 20, the
    depth changes nothing but the range a decoder accepts.)"""
    tried = lifting_paths.tried
    monkeypatch.setattr(lifting_paths, "tried", lambda m, p, b, pixels=True: tried(m, p, b, pixels=False))
    a = sparse(64, 80, spacing=90)
    a[:, :36] = 0
    assert 256 < len(np.unique(a)) <= 512
    new = codec.compress(a)
    np.testing.assert_array_equal(codec.decompress(new), a)
    depth = sample_map.coded_depth
    monkeypatch.setattr(sample_map, "coded_depth", lambda v, d, tight: depth(v, d, False))
    assert len(new) < 0.95 * len(codec.compress(a))


def test_12_bit_data_in_16_bit_samples_is_mapped_and_round_trips(codec, monkeypatch):
    rng = np.random.default_rng(4)
    a = (photo_like(48, 60, 1, seed=8).astype(np.uint16) * 16 + rng.integers(0, 16, (48, 60))
         ).astype(np.uint16)
    values = np.unique(a)
    assert 2 * len(values) > int(values[-1] - values[0]) + 1    # dense: not "sparse" by range
    assert sample_map.candidate(a.astype(np.int64), 16) is not None
    assert sample_map.candidate(a.astype(np.int64), 11) is None   # no lower depth to gain
    with_map, without = sizes_with_and_without_maps(codec, a, monkeypatch)
    np.testing.assert_array_equal(codec.decompress(with_map), a)
    assert len(with_map) <= len(without)


def _colour_photo(h=48, w=60, seed=12):
    return photo_like(h, w, 3, seed=seed).astype(np.int64)


@pytest.mark.parametrize("make", [
    lambda p: (p * 257).astype(np.uint16),                                  # 8-bit data, 16-bit PNG
    lambda p: (p * 16).astype(np.uint16),                                   # 8 of 12 bits used
    lambda p: np.dstack([p * 257, (p[:, :, 0] > 100) * 65535]).astype(np.uint16)])   # + alpha
def test_16_bit_colour_of_8_bit_data_codes_about_as_small_as_the_8_bit_image(codec, make):
    """One map of the values the three RGB planes use, applied before the
    colour transform (format 13): 16-bit RGB of 8-bit data was ~3x larger."""
    p = _colour_photo()
    a = make(p)
    data = codec.compress(a)
    np.testing.assert_array_equal(codec.decompress(data), a)
    eight_bit = codec.compress(np.dstack([p, (p[:, :, 0] > 100) * 255][:a.shape[2] - 2]).astype(np.uint8))
    assert len(data) < 1.1 * len(eight_bit)


def test_colour_maps_round_trip_in_tiles_and_previews():
    from iwave.codec import Codec
    a = (_colour_photo(100, 150, seed=13) * 64 + 3).astype(np.uint16)
    tiled = Codec(tile=64)
    data = tiled.compress(a)
    np.testing.assert_array_equal(tiled.decompress(data), a)
    preview = tiled.decompress(data, scale="1/2")
    assert preview.shape == (50, 75, 3) and set(np.unique(preview)) <= set(np.unique(a))


def test_a_map_on_a_later_stream_of_a_colour_group_is_corruption(codec, monkeypatch):
    from iwave.errors import IWaveError
    a = (_colour_photo() * 257).astype(np.uint16)
    write = sample_map.write
    monkeypatch.setattr(sample_map, "write", lambda enc, values, direct=False: write(
        enc, np.arange(300) if values is None else values, direct))
    data = codec.compress(a)
    with pytest.raises(IWaveError, match="corrupt.*sample map on a colour group"):
        codec.decompress(data)


@pytest.mark.parametrize("make", [
    lambda: np.full((23, 31), 40000, np.uint16),                               # one value, grey
    lambda: np.full((17, 19, 3), (65535, 0, 1234), np.uint16),                  # one value a channel
    lambda: np.full((9, 14, 4), 7, np.uint16),                                  # RGBA, one value
    lambda: np.random.default_rng(5).integers(0, 65536, (21, 26), dtype=np.uint16),   # dense, noise
    lambda: np.random.default_rng(6).integers(0, 65536, (13, 15, 3), dtype=np.uint16),
    lambda: (np.arange(600, dtype=np.uint16) * 97).reshape(20, 30)])           # 600 values, 97 apart
def test_sixteen_bit_histograms_single_dense_and_sparse_round_trip(codec, make):
    a = make()
    np.testing.assert_array_equal(codec.decompress(codec.compress(a)), a)


@pytest.mark.parametrize("kind", ["photo", "two-level"])
def test_the_index_coders_early_estimate_is_close_to_the_whole_plane(kind):
    """index_coder.hopeless estimates the plane's cost from four bands of
    rows: it refuses when its rival is well below that cost and not when
    the rival is about as large."""
    a = photo_like(400, 300, 1, seed=31).astype(np.int64)
    if kind == "two-level":
        a = np.where(a > 128, 255, 0)
    values = np.unique(a)
    plane = sample_map.to_indices(a, values)
    bits = index_coder.index_bits(len(values))
    whole = index_coder._cost(index_coder._modelled(plane, bits, index_coder.CONTEXT_BITS[0])[1]) / 8
    assert index_coder.hopeless(plane, len(values), whole / 2.5)
    assert not index_coder.hopeless(plane, len(values), whole)


def test_a_large_two_level_image_is_still_coded_as_indices(codec, monkeypatch):
    """The early estimate (images over 256 rows) lets graphics through."""
    a = np.where(photo_like(300, 280, 1, seed=32) > 128, 255, 0).astype(np.uint8)
    calls = []
    original = encoder.encode_direct
    monkeypatch.setattr(encoder, "encode_direct", lambda *x, **k: calls.append(1) or original(*x, **k))
    data = codec.compress(a)
    np.testing.assert_array_equal(codec.decompress(data), a)
    assert calls and len(data) < a.size / 8 / 2
