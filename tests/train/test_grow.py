"""A context model grown wider from a trained one computes exactly what the
narrow one did (same coding parameters, so same files), and so does a
transform whose lifting CNNs grew and a denoiser grown wider and deeper;
nothing else may grow."""
import pytest
import torch

from iwave.entropy.context_model import ContextModel
from iwave.model import IWaveModel
from iwave.train.grow import grow_state, grown, grown_denoiser


def _walk_outputs(model, values):
    outs = []

    def emit(b, c, p, mean, log2_scale):
        outs.append((mean.clone(), log2_scale.clone()))
        return values[b][:, c].new_zeros(mean.shape) + b + c + p   # any fixed values

    shapes = [tuple(v.shape[-2:]) for v in values]
    with torch.no_grad():
        model.walk(shapes, 3, 1, 8, emit)        # float64: the coder's exact arithmetic
    return outs


def _trained_like(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    return model


def test_grown_context_model_gives_identical_coding_parameters():
    narrow = _trained_like(ContextModel(levels=2, width=4, lstm_hidden=2, parent=True), 0)
    torch.manual_seed(1)
    wide = ContextModel(levels=2, width=7, lstm_hidden=2, parent=True)
    wide.load_state_dict(grow_state(narrow.state_dict(), wide.state_dict()))
    assert wide.phase_nets[0].mix.weight[4:].abs().sum() > 0     # new units are live
    shapes = [(5, 6), (5, 6), (5, 6), (5, 6), (9, 11), (9, 11), (9, 11)]
    values = [torch.zeros((1, 3) + s, dtype=torch.float64) for s in shapes]
    a, b = _walk_outputs(narrow, values), _walk_outputs(wide, values)
    assert len(a) == len(b) == 7 * 3 * 4
    for (m1, s1), (m2, s2) in zip(a, b):
        assert torch.equal(m1, m2) and torch.equal(s1, s2)


def test_only_the_width_may_grow():
    base = IWaveModel({"levels": 2, "ctx_width": 4, "lstm_hidden": 2})
    deeper_lstm = IWaveModel({"levels": 2, "ctx_width": 4, "lstm_hidden": 3})
    with pytest.raises(ValueError, match="only model.ctx_width and model.lift_hidden may grow"):
        grown(base.state_dict(), deeper_lstm)
    narrower = IWaveModel({"levels": 2, "ctx_width": 3, "lstm_hidden": 2})
    with pytest.raises(ValueError, match="cannot grow"):
        grown(base.state_dict(), narrower)


def test_grown_lifting_cnns_give_identical_coefficients():
    narrow = _trained_like(IWaveModel({"levels": 2, "wavelet": "cdf97m", "lift_hidden": 2}), 2)
    torch.manual_seed(3)
    wide = IWaveModel({"levels": 2, "wavelet": "cdf97m", "lift_hidden": 4})
    wide.load_state_dict(grown(narrow.state_dict(), wide))
    assert wide.transform.steps[0].conv1.weight[2:].abs().sum() > 0     # new units are live
    x = torch.randint(0, 256, (3, 1, 23, 30), generator=torch.Generator().manual_seed(4)).double()
    with torch.no_grad():
        for a, b in zip(narrow.transform(x), wide.transform(x)):
            assert torch.equal(a, b)


def _lossy(hidden, depth):
    return IWaveModel({"levels": 2, "lossy": {"wavelet": "cdf97"},
                       "denoiser": {"hidden": hidden, "depth": depth, "input_scale": 16.0}})


def test_grown_denoiser_gives_identical_pixels():
    narrow = _trained_like(_lossy(4, 0), 5)
    torch.manual_seed(6)
    wide = _lossy(7, 2)
    wide.load_state_dict(grown_denoiser(narrow.state_dict(), wide), strict=False)
    assert wide.denoiser.mix.weight[4:].abs().sum() > 0       # new units are live
    ycc = torch.rand((2, 3, 13, 18), generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    ycc = ycc * torch.tensor([255.0, 100.0, 100.0], dtype=torch.float64).view(1, 3, 1, 1)
    with torch.no_grad():
        a, b = narrow.denoiser(ycc, 40.0), wide.denoiser(ycc, 40.0)
    assert not torch.equal(a, ycc) and torch.equal(a, b)


def test_a_denoiser_grows_only_from_a_smaller_one():
    with pytest.raises(ValueError, match="smaller than the init's"):
        grown_denoiser(_lossy(4, 2).state_dict(), _lossy(4, 1))
    with pytest.raises(ValueError, match="cannot grow"):
        grown_denoiser(_lossy(4, 0).state_dict(), _lossy(3, 0))
    with pytest.raises(ValueError, match="no denoiser"):
        grown_denoiser(IWaveModel({"levels": 2}).state_dict(), _lossy(4, 0))
