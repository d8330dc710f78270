"""The indices the denoiser learns on are the ones the encoder sends."""
import numpy as np
import pytest
import torch

from iwave.quantisation import quantise
from iwave.train.losses import analyse, encoder_indices


@pytest.fixture
def lossy_batch(codec, sample):
    """The shipped lossy model and two crops of the sample's subbands at step 24."""
    model = codec.model_for(True)
    rgb = torch.from_numpy(np.stack([sample[:48, :64], sample[16:64, 32:96]]))
    bands = analyse(model, rgb, rounding=False)
    return model, bands, model.lossy_steps(24.0, 3)


def test_without_rate_distortion_rounding_they_are_the_dead_zone_indices(lossy_batch):
    model, bands, steps = lossy_batch
    for a, b in zip(encoder_indices(model, bands, steps, 0.4, 0.0),
                    quantise(bands, steps, comp_dim=1, rounding=0.4)):
        assert torch.equal(a, b)


def test_rate_distortion_rounding_agrees_with_the_encoders(lossy_batch):
    """Each index stays on one of the two integers around its coefficient,
    heavier weights on bits zero more of them, and the batch's choices are
    nearly all the codec's own (which also fits a coding adjustment per
    subband first): of the indices either moves off the dead-zone index,
    nine in ten or more move alike."""
    from iwave.encoder import rd_quantise
    model, bands, steps = lossy_batch
    dead_zone = quantise(bands, steps, comp_dim=1, rounding=0.4)
    light, heavy = (encoder_indices(model, bands, steps, 0.4, lam) for lam in (0.1, 1.0))
    scaled = [b / torch.tensor(s).view(1, 3, 1, 1) for b, s in zip(bands, steps)]
    for out in (light, heavy):
        assert all(((o - s).abs() < 1).all() for o, s in zip(out, scaled))
    zeros = lambda q: sum(int((t == 0).sum()) for t in q)
    assert zeros(dead_zone) < zeros(light) < zeros(heavy)
    first = [t[0].unsqueeze(1) for t in bands]             # (3, 1, h, w): the codec's layout
    codec_q = rd_quantise(model, first, [t[0].unsqueeze(1) for t in dead_zone], steps,
                          model.condition_steps(24.0, 3), 0.1)
    moved = [(a[:, 0] != d[0]) | (b[0] != d[0]) for a, b, d in zip(codec_q, light, dead_zone)]
    alike = sum(int((m & (a[:, 0] == b[0])).sum()) for m, a, b in zip(moved, codec_q, light))
    assert alike > 0.9 * sum(int(m.sum()) for m in moved) > 0
