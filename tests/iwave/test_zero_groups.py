"""Subbands that are entirely zero (format 14): each stream flags them when
that is cheaper than coding them, and they decode to the same pixels."""
import numpy as np

import iwave
from iwave import encoder
from iwave.entropy import plan_format
from iwave.model import IWaveModel, resolve_model_paths
from tests.conftest import photo_like


def flags_written(monkeypatch):
    """Record the zero-group flags every stream writes."""
    written = []
    real = plan_format.write_zero_groups
    monkeypatch.setattr(plan_format, "write_zero_groups", lambda enc, zero: (written.append(list(zero)),
                                                                             real(enc, zero))[1])
    return written


def test_a_coarse_step_flags_zero_subbands_and_gets_smaller_with_the_same_pixels(monkeypatch):
    a = photo_like(96, 128, 3, seed=5)
    written = flags_written(monkeypatch)
    flagged = iwave.compress(a, step=320.0)
    assert any(any(zero) for zero in written)
    with monkeypatch.context() as m:
        m.setattr(encoder, "zero_groups", lambda model, cond_steps, plans, symbols: [False] * len(plans))
        plain = iwave.compress(a, step=320.0)
    assert len(flagged) < len(plain)
    assert np.array_equal(iwave.decompress(flagged), iwave.decompress(plain))


def test_fine_steps_flag_nothing_and_pay_one_flag_per_stream(monkeypatch):
    a = photo_like(64, 80, 3, seed=6)
    written = flags_written(monkeypatch)
    iwave.compress(a, step=4.0)
    assert written and not any(any(zero) for zero in written)
    assert plan_format.zero_group_side(written[0])[0].tolist() == [0]


def test_a_constant_alpha_plane_round_trips_exactly(monkeypatch):
    a = photo_like(72, 90, 4, seed=7)
    a[:, :, 3] = 255
    written = flags_written(monkeypatch)
    data = iwave.compress(a)
    assert any(all(zero[1:]) for zero in written)          # alpha: every subband but LL is zero
    assert np.array_equal(iwave.decompress(data), a)


def test_a_centroid_model_flags_nothing(monkeypatch):
    """Coded zeros get centroid offsets and flagged ones none, so a model
    with centroid reconstruction must not let bits choose: it flags no
    subband, even where a plain model would."""
    model = IWaveModel.load(resolve_model_paths()["lossy"])     # a copy of its own
    model.config = {**model.config, "lossy": {**model.config.get("lossy", {}), "centroid": True}}
    assert model.lossy_option("centroid")
    a = photo_like(96, 128, 3, seed=5)
    written = flags_written(monkeypatch)
    data = iwave.Codec(model=model).compress(a, step=320.0)
    assert written and not any(any(zero) for zero in written)
    assert iwave.Codec(model=model).decompress(data).shape == a.shape
