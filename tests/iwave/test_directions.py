"""Direction-adaptive lifting (iwave.directions, file format 17): the
transform along any direction maps inverts, d = 0 is the separable
transform, the maps' syntax round-trips and refuses what is out of range,
and the encoder uses directions where an image's edges run diagonally."""
import numpy as np
import pytest
import torch

import iwave
from iwave import bitstream, directions, directions_fit
from iwave.entropy import EntropyError, ValueDecoder, ValueEncoder
from iwave.entropy.tables import ZERO_INDEX
from iwave.encoder import component_groups
from iwave.model import IWaveModel, resolve_model_path


@pytest.fixture(scope="module")
def model():
    return IWaveModel.load(resolve_model_path("iwave-lossy"))


def level_shapes(h, w):
    return [directions.block_shape((h + (1 << k) - 1) >> k, (w + (1 << k) - 1) >> k, k)
            for k in range(directions.LEVELS)]


def diagonal(h, w, period=6):
    """Stripes running at 45 degrees, with a little texture."""
    y, x = np.mgrid[:h, :w]
    a = np.where((x + y) % period < period // 2, 200, 50) + (7 * x + 3 * y) % 5
    return np.repeat(a[:, :, None], 3, 2).astype(np.uint8)


@pytest.mark.parametrize("h,w", [(101, 77), (64, 64), (1, 1), (1, 9), (9, 1), (2, 3), (300, 190)])
def test_any_direction_maps_invert_and_previews_match(model, h, w):
    t = model.transform
    rng = np.random.default_rng(h * 1000 + w)
    x = torch.from_numpy(rng.random((3, 1, h, w)) * 255)
    maps = [rng.integers(-directions.MAX_SHIFT, directions.MAX_SHIFT + 1, s) for s in level_shapes(h, w)]
    bands = t.forward(x, 8, rounding=False, directions=maps)
    assert [tuple(b.shape) for b in bands] == [tuple(b.shape) for b in t.forward(x, 8, rounding=False)]
    back = t.inverse(bands, 8, rounding=False, directions=maps)
    np.testing.assert_allclose(back.numpy(), x.numpy(), atol=1e-9)
    # a preview of the coarser levels gives the low band the finest level left
    low, _ = t.analysis_level(x, 8, directions.expand(maps[0], 0, h, w))
    preview = t.inverse(bands[:1 + 3 * (t.levels - 1)], 8, rounding=False, directions=maps)
    np.testing.assert_allclose(preview.numpy(), low.numpy(), atol=1e-9)


def test_no_direction_is_the_separable_transform(model):
    x = torch.from_numpy(np.random.default_rng(1).random((3, 1, 70, 45)) * 255)
    zero = [np.zeros(s, np.int64) for s in level_shapes(70, 45)]
    for a, b in zip(model.transform.forward(x, 8, rounding=False, directions=zero),
                    model.transform.forward(x, 8, rounding=False)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-9)


def test_directions_are_lossy_only(model):
    x = torch.zeros((1, 1, 8, 8), dtype=torch.float64)
    with pytest.raises(ValueError, match="lossy"):
        model.transform.forward(x, 8, rounding=True, directions=[np.zeros((1, 1), np.int64)] * 2)


def _coded(model, maps, offsets):
    encoder = ValueEncoder(model.tables)
    directions.write(encoder, maps, offsets)
    return ValueDecoder(encoder.finish(), model.tables)


@pytest.mark.parametrize("h,w", [(100, 70), (1, 1), (33, 200)])
def test_maps_round_trip(model, h, w):
    rng = np.random.default_rng(w)
    maps = [rng.integers(-2, 3, s) * (rng.random(s) < 0.3) for s in level_shapes(h, w)]
    offsets = directions_fit.offsets(maps, model.tables)
    decoder = _coded(model, maps, offsets)
    got = directions.read(decoder, h, w)
    decoder.check_end()
    assert all(np.array_equal(a, b) for a, b in zip(got, maps))
    decoder = _coded(model, None, None)
    assert directions.read(decoder, h, w) is None


def test_out_of_range_maps_are_refused(model):
    maps = [np.array([[0, 3]]), np.zeros((1, 1), np.int64)]
    with pytest.raises(EntropyError, match="direction out of range"):
        directions.read(_coded(model, maps, [0, 0]), 20, 40)
    with pytest.raises(EntropyError, match="scale out of range"):
        directions.read(_coded(model, [np.zeros((1, 2), np.int64)] * 2, [directions.SCALE_MAX + 1, 0]),
                        20, 40)
    encoder = ValueEncoder(model.tables)
    encoder.add(np.array([2]), np.zeros(1, np.int64), np.array([ZERO_INDEX + directions.FLAG_SCALE]))
    with pytest.raises(EntropyError, match="flag out of range"):
        directions.read(ValueDecoder(encoder.finish(), model.tables), 20, 40)


def test_the_encoder_lifts_diagonal_edges_along_them(model):
    a = diagonal(96, 128)
    maps = directions_fit.choose(model, component_groups(a)[0][0], 12.0)
    assert maps is not None and (maps[0] != 0).mean() > 0.5
    flat = np.repeat(np.tile(np.where(np.arange(128) % 6 < 3, 200, 50), (96, 1))[:, :, None], 3, 2)
    assert directions_fit.choose(model, component_groups(flat.astype(np.uint8))[0][0],
                                 12.0) is None      # vertical edges: the separable transform


def test_files_with_directions_decode_smaller_and_as_well(model, monkeypatch):
    codec = iwave.Codec(model="iwave-lossy")
    a = diagonal(96, 128)
    with_directions = codec.compress(a, step=12)
    monkeypatch.setattr(directions_fit, "choose", lambda *args: None)
    plain = codec.compress(a, step=12)
    decoder = ValueDecoder(bitstream.read(with_directions)[1][0], model.tables)
    assert directions.read(decoder, 96, 128) is not None
    assert len(with_directions) < 0.9 * len(plain)
    error = lambda d: np.abs(codec.decompress(d).astype(int) - a).mean()  # noqa: E731
    assert error(with_directions) < 1.2 * error(plain)
    assert codec.decompress(with_directions, scale=0.25).shape == (24, 32, 3)


def test_effort_9_keeps_the_cheaper_of_both_ways(model):
    from iwave import effort
    from iwave.encoder import encode_lossy_group, plan_search
    a = diagonal(64, 96, period=10)
    x = component_groups(a)[0][0]
    step = bitstream.stored_step(20.0)
    maps = directions_fit.choose(model, x, step)
    assert maps is not None
    keep = (slice(0, 64), slice(0, 96))
    search = plan_search(effort.settings(9))
    coded = [encode_lossy_group(model, x, step, keep, True, search, m, with_cost=True) for m in (maps, None)]
    data = iwave.Codec(model="iwave-lossy").compress(a, step=20.0, effort=9)
    assert bitstream.read(data)[1] == min(coded, key=lambda c: c[0])[1]
