import pytest
import torch

from iwave.complexity import macs_per_pixel
from iwave.denoiser import OUTPUT_SCALE, Denoiser
from iwave.entropy.exact import in_tensor_operations
from iwave.model import IWaveModel


def random_denoiser(seed=0):
    torch.manual_seed(seed)
    d = Denoiser(hidden=16)
    with torch.no_grad():
        for p in d.parameters():
            p.normal_(0, 0.5)
    return d


def planes(h, w, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 1024, (1, 3, h, w), generator=g).double() / 4   # quarter-pixel values
    return x - torch.tensor([0.0, 128.0, 128.0], dtype=torch.float64).view(1, 3, 1, 1)


def test_untrained_denoiser_changes_nothing():
    x = planes(33, 20)
    assert torch.equal(Denoiser()(x, 8.0), x)


def test_corrections_are_exact_and_independent_of_batching():
    d = random_denoiser()
    a, b = planes(17, 24, 1), planes(17, 24, 2)
    one = d(torch.cat([a, b]), 16.0)
    assert torch.equal(one[1:], d(b, 16.0))          # same pixels whatever else is in the batch
    grid = (one - torch.cat([a, b])) * (1024 / OUTPUT_SCALE)
    assert torch.equal(grid, torch.round(grid))     # corrections on the activation grid: exact
    assert not torch.equal(one, torch.cat([a, b]))


def test_odd_sizes_keep_their_shape_and_the_step_matters():
    d = random_denoiser(3)
    x = planes(7, 9)
    assert d(x, 4.0).shape == x.shape
    assert not torch.equal(d(x, 4.0), d(x, 64.0))


def test_denoiser_is_counted_in_the_decoder_budget():
    plain = IWaveModel({"levels": 4, "wavelet": "cdf53"})
    with_dn = IWaveModel({"levels": 4, "wavelet": "cdf53", "denoiser": {"hidden": 16}})
    a, b = (macs_per_pixel(m, lossy=True)["decoder"] for m in (plain, with_dn))
    assert "denoiser" not in a and 100 < b["denoiser"] < 200
    assert b["total"] == a["total"] + b["denoiser"]
    assert "denoiser" not in macs_per_pixel(with_dn)["decoder"]    # lossless files skip it


def test_denoiser_is_skipped_below_its_trained_steps():
    m = IWaveModel({"levels": 4, "wavelet": "cdf53", "denoiser": {"hidden": 16, "min_step": 6.0}})
    assert m.denoiser_applies(6.0) and m.denoiser_applies(300.0)
    assert not m.denoiser_applies(2.0)
    assert not IWaveModel({"levels": 4}).denoiser_applies(50.0)


def test_deeper_denoiser_is_exact_and_counted():
    torch.manual_seed(4)
    d = Denoiser(hidden=8, depth=2, input_scale=16.0)
    with torch.no_grad():
        for p in d.parameters():
            p.normal_(0, 0.5)
    a, b = planes(13, 22, 1), planes(13, 22, 2)
    one = d(torch.cat([a, b]), 16.0)
    assert torch.equal(one[1:], d(b, 16.0))
    assert not torch.equal(one, torch.cat([a, b]))
    cfg = {"levels": 4, "wavelet": "cdf53"}
    shallow, deep = (macs_per_pixel(IWaveModel(dict(cfg, denoiser={"hidden": 8, "depth": n})),
                                    lossy=True)["decoder"]["denoiser"] for n in (0, 2))
    assert abs(deep - shallow - 2 * (9 + 8) * 8 / 4) < 1       # each block: (9 + hidden) hidden / 4


@pytest.mark.parametrize("hidden, depth", [(16, 0), (24, 1), (8, 2)])
def test_the_compiled_layers_give_torchs_numbers(hidden, depth):
    """On the CPU in float64 the layers run compiled (entropy.exact_kernels.separable_stack);
    with weights large enough to clamp, any size, and two images at once,
    they must give the pixels of torch's operations bit for bit."""
    torch.manual_seed(hidden + depth)
    d = Denoiser(hidden=hidden, depth=depth, input_scale=1.0)     # pixel-sized inputs: layers clamp
    with torch.no_grad():
        for p in d.parameters():
            p.normal_(0, 0.7)
    for h, w in ((1, 1), (2, 3), (7, 9), (24, 17)):
        x = torch.cat([planes(h, w, 5), planes(h, w, 6)])
        compiled = d(x, 24.0)
        with in_tensor_operations():
            assert torch.equal(compiled, d(x, 24.0))
        assert not torch.equal(compiled, x)


def test_float64_inputs_that_want_gradients_or_no_images_take_torchs_path():
    d = random_denoiser(9)
    x = planes(6, 10).requires_grad_()
    y = d(x, 24.0)
    y.sum().backward()                      # autograd through torch's operations
    assert x.grad is not None and torch.equal(y.detach(), d(x.detach(), 24.0))
    assert d(planes(6, 10)[:0], 24.0).shape == (0, 3, 6, 10)
