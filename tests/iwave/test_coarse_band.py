"""The LL band coded sequentially (file format 16): the coder round-trips
any band, bad side data is a clear error, and the encoder's choice between
it and the context model changes bytes, never pixels."""
import numpy as np
import pytest

import iwave
from iwave import coarse_band, coarse_band_fit
from iwave.entropy import EntropyError, ValueDecoder, ValueEncoder
from iwave.entropy.tables import ZERO_INDEX
from iwave.errors import IWaveError
from iwave.model import IWaveModel, resolve_model_paths
from tests.conftest import photo_like


@pytest.fixture(scope="module")
def lossy_model():
    return IWaveModel.load(resolve_model_paths(None)["lossy"])


def round_trip(plane, choice, tables, resolution):
    enc = ValueEncoder(tables)
    coarse_band.write_choice(enc, choice)
    enc.add(plane.reshape(-1), *coarse_band.parameters(plane, choice, resolution))
    enc.add(np.array([5]), np.zeros(1, np.int64), np.array([ZERO_INDEX]))    # what follows LL
    dec = ValueDecoder(enc.finish(), tables)
    assert coarse_band.read_choice(dec) == choice
    out = coarse_band.read(dec, plane.shape, choice, resolution)
    assert dec.decode(np.zeros(1, np.int64), np.array([ZERO_INDEX])).tolist() == [5]
    dec.check_end()
    return out


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (5, 9), (16, 24)])
def test_any_band_round_trips_under_either_predictor_and_mean_resolution(shape, lossy_model):
    rng = np.random.default_rng(sum(shape))
    smooth = np.cumsum(np.cumsum(rng.integers(-3, 4, shape), 0), 1)
    for plane in (smooth, rng.integers(-70000, 70000, shape), np.zeros(shape, np.int64)):
        for tables, resolution in ((None, 1), (lossy_model.tables, lossy_model.mean_resolution)):
            for choice in (coarse_band.Sequential(0, 0), coarse_band.Sequential(1, -24),
                           coarse_band.Sequential(1, 48)):
                np.testing.assert_array_equal(round_trip(plane, choice, tables, resolution), plane)


def test_the_search_finds_a_cheaper_choice_than_a_poor_one(lossy_model):
    plane = np.cumsum(np.cumsum(np.random.default_rng(1).integers(-2, 3, (12, 16)), 0), 1) + 40
    bits, choice = coarse_band_fit.best(plane, lossy_model.tables, lossy_model.mean_resolution)
    assert isinstance(choice, coarse_band.Sequential) and 0 < bits < plane.size * 6
    poor = coarse_band.Sequential(0, 48)
    enc = ValueEncoder(lossy_model.tables)
    enc.add(plane.reshape(-1), *coarse_band.parameters(plane, poor, lossy_model.mean_resolution))
    assert bits < len(enc.finish()) * 8


def stream(values, scales):
    enc = ValueEncoder()
    enc.add(np.array(values), np.zeros(len(values), np.int64), ZERO_INDEX + np.array(scales))
    return ValueDecoder(enc.finish())


def test_bad_choices_and_truncated_bands_are_errors():
    scales = [coarse_band.FLAG_SCALE, coarse_band.PREDICTOR_SCALE, coarse_band.SHIFT_SCALE]
    for bad in ([1, 2, 0], [1, -1, 0], [1, 0, 61], [1, 1, -61]):
        with pytest.raises(EntropyError):
            coarse_band.read_choice(stream(bad, scales))
    enc = ValueEncoder()
    plane = np.arange(400, dtype=np.int64).reshape(20, 20) * 37
    enc.add(plane.reshape(-1), *coarse_band.parameters(plane, coarse_band.Sequential(0, 0), 1))
    data = enc.finish()
    with pytest.raises(EntropyError):
        coarse_band.read(ValueDecoder(data[:len(data) // 3]), plane.shape, coarse_band.Sequential(0, 0), 1)


def forced(monkeypatch, sequential):
    """Make the encoder code every LL band sequentially, or never."""
    real = coarse_band_fit.choice

    def choose(model, plane, plan, symbols):
        got = real(model, plane, plan, symbols)
        if isinstance(got[0], coarse_band.Sequential) == sequential:
            return got
        if not sequential:
            return plan, symbols
        choice = coarse_band_fit.best(plane, model.tables, model.mean_resolution)[1]
        return choice, [(plane.astype(np.int64).reshape(-1),
                         *coarse_band.parameters(plane, choice, model.mean_resolution))]
    monkeypatch.setattr(coarse_band_fit, "choice", choose)


@pytest.mark.parametrize("step", [None, 40.0, 320.0])
def test_coding_ll_either_way_decodes_to_the_same_pixels(step, monkeypatch):
    a = photo_like(72, 88, 3, seed=9)
    files = {}
    for sequential in (True, False):
        with monkeypatch.context() as m:
            forced(m, sequential)
            files[sequential] = iwave.compress(a, step=step)
    assert files[True] != files[False]
    out = iwave.decompress(files[True])
    np.testing.assert_array_equal(out, iwave.decompress(files[False]))
    if step is None:
        np.testing.assert_array_equal(out, a)
    # a preview reads only the coarse subbands, LL among them
    np.testing.assert_array_equal(iwave.decompress(files[True], scale=0.5),
                                  iwave.decompress(files[False], scale=0.5))


def test_coarse_steps_choose_sequential_coding_and_get_smaller(monkeypatch):
    a = photo_like(128, 160, 3, seed=4)
    chosen = []
    real = coarse_band_fit.choice
    monkeypatch.setattr(coarse_band_fit, "choice",
                        lambda *args: (lambda got: (chosen.append(got[0]), got)[1])(real(*args)))
    small = iwave.compress(a, step=200.0)
    assert any(isinstance(c, coarse_band.Sequential) for c in chosen)
    with monkeypatch.context() as m:
        forced(m, False)
        assert len(small) < len(iwave.compress(a, step=200.0))


def test_a_corrupt_choice_in_a_file_is_a_clear_error(monkeypatch):
    a = photo_like(40, 48, 3, seed=2)
    monkeypatch.setattr(coarse_band, "choice_side",
                        lambda choice: (np.array([1, 3, 0]), ZERO_INDEX + np.array([-8, -8, 12])))
    with monkeypatch.context() as m:
        forced(m, True)
        data = iwave.compress(a, step=30.0)
    monkeypatch.undo()
    with pytest.raises(IWaveError, match="corrupt"):
        iwave.decompress(data)
