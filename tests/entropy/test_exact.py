"""The exact-arithmetic layers give bit-identical float64 results whatever the
thread count, batch composition or memory layout."""
import pytest
import torch

from iwave.entropy.context_model import ContextModel


def test_context_outputs_are_dyadic_and_thread_independent():
    torch.manual_seed(0)
    m = ContextModel(levels=1)
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.7)
    g = torch.Generator().manual_seed(1)
    shapes = [(9, 13), (9, 12), (8, 13), (8, 12)]
    bands = [torch.randint(-300, 300, (2, 3, h, w), generator=g).double() for h, w in shapes]

    def run(threads, batch_slice):
        torch.set_num_threads(threads)
        outs = []

        def emit(b, c, p, mean, ls):
            outs.append((mean, ls))
            from iwave.entropy.context_model import PHASES
            dy, dx = PHASES[p]
            return bands[b][batch_slice, c, dy::2, dx::2]
        with torch.no_grad():
            m.walk(shapes, 3, bands[0][batch_slice].shape[0], 8, emit)
        return outs

    caller = torch.get_num_threads()
    try:
        a = run(1, slice(0, 1))
        b = run(2, slice(0, 1))
        both = run(2, slice(0, 2))      # the same image inside a bigger batch
    finally:
        torch.set_num_threads(caller)
    for (m1, s1), (m2, s2), (m3, s3) in zip(a, b, both):
        assert torch.equal(m1, m2) and torch.equal(s1, s2)
        assert torch.equal(m1, m3[:1]) and torch.equal(s1, s3[:1])
        for x in (m1, s1):     # dyadic rationals, hence computed exactly
            assert torch.equal(x * 2 ** 22, torch.floor(x * 2 ** 22))


def test_training_bits_of_fractional_means_are_the_discretised_laplace():
    """laplace_bits with means on a quarter grid: -log2 of the Laplace mass
    of each unit bin, whichever side of the mean the bin lies."""
    from iwave.entropy.context_model import laplace_bits
    values = torch.arange(-5, 6, dtype=torch.float64)
    for mean in (0.0, 0.25, 0.5, 0.75, -1.25):
        for log2_scale in (-2.0, 0.0, 2.0):
            b = 2.0 ** log2_scale
            cdf = lambda x: torch.where(x < 0, 0.5 * torch.exp(x / b), 1 - 0.5 * torch.exp(-x / b))
            ref = -torch.log2(cdf(values - mean + 0.5) - cdf(values - mean - 0.5))
            got = laplace_bits(values, torch.full_like(values, mean),
                               torch.full_like(values, log2_scale), resolution=4)
            keep = ref < 20          # the reference loses precision far out
            assert torch.allclose(got[keep], ref[keep], atol=1e-9)


def test_the_phase_nets_constant_inputs_computed_once_give_the_same_outputs():
    """walk() passes a phase net the sum of its first two layers over the
    inputs that stay fixed for a component's four phases, computed once;
    in exact arithmetic that is the very same as the whole input each time."""
    from iwave.entropy.context_model import N_OWN_INPUTS, PhaseNet
    torch.manual_seed(3)
    net = PhaseNet(N_OWN_INPUTS + 14, 8, 5)
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.8)
    g = torch.Generator().manual_seed(4)
    own = torch.randint(-40, 40, (2, N_OWN_INPUTS, 7, 9), generator=g).double() / 8
    fixed = torch.randint(-40, 40, (2, 14, 7, 9), generator=g).double() / 16
    log_step = torch.tensor(1.5, dtype=torch.float64)
    with torch.no_grad():
        whole = net(torch.cat([own, fixed], 1), 6, log_step)
        split = net(own, 6, log_step, net.constant_part(fixed, N_OWN_INPUTS))
    assert torch.equal(whole, split)


@pytest.mark.parametrize("seed,shape,crop,spread", [(5, (1, 1), (1, 1), 8), (6, (7, 9), (6, 9), 8),
                                                    (7, (12, 5), (12, 4), 8), (8, (10, 11), (9, 10), 4000)])
def test_the_compiled_phase_net_gives_torchs_numbers(seed, shape, crop, spread):
    """PhaseNet.fused (entropy.exact_kernels) computes forward's outputs,
    cropped to a phase's size, bit for bit: random weights, inputs large
    enough to hit the activations' clamp (spread 4000), grids of one pixel up."""
    from iwave.entropy.context_model import N_OWN_INPUTS, PhaseNet
    torch.manual_seed(seed)
    net = PhaseNet(N_OWN_INPUTS + 14, 8, 5)
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.8)
    g = torch.Generator().manual_seed(seed)
    own = torch.randint(-spread, spread, (2, N_OWN_INPUTS) + shape, generator=g).double() / 8
    fixed = torch.randint(-spread, spread, (2, 14) + shape, generator=g).double() / 16
    log_step = torch.tensor(2.25, dtype=torch.float64)
    every = own
    for coded in range(5):      # phases from `coded` on not coded yet: their channels zero
        own = every.clone()
        own[:, [k for k in range(N_OWN_INPUTS) if k % 4 >= coded]] = 0
        with torch.no_grad():
            whole = net(torch.cat([own, fixed], 1), 13, log_step)[:, :, :crop[0], :crop[1]]
            fused = net.fused(own, 13, log_step, net.constant_part(fixed, N_OWN_INPUTS), *crop, coded)
        assert whole.abs().max() > 0 and torch.equal(whole, fused)


@pytest.mark.parametrize("seed,shape,spread", [(9, (1, 1), 8), (10, (6, 13), 8), (11, (9, 4), 4000)])
def test_the_compiled_context_lstm_gives_torchs_numbers(seed, shape, spread):
    """ConvLSTM.forward in exact mode on the CPU (entropy.exact_kernels.lstm_step)
    gives the state torch's operations give, bit for bit."""
    from iwave.entropy.context_model import ConvLSTM
    from iwave.entropy.exact import in_tensor_operations
    torch.manual_seed(seed)
    lstm = ConvLSTM(24, 4, 13)
    for p in lstm.parameters():
        torch.nn.init.normal_(p, std=0.8)
    g = torch.Generator().manual_seed(seed)
    x, h, c = (torch.randint(-spread, spread, (2, n) + shape, generator=g).double() / 16 for n in (24, 4, 4))
    log_step = torch.tensor(-0.75, dtype=torch.float64)
    with torch.no_grad():
        got = lstm(x, (h, c), 7, log_step)
        with in_tensor_operations():
            want = lstm(x, (h, c), 7, log_step)
    assert all(torch.equal(a, b) for a, b in zip(got, want)) and want[1].abs().max() > 0


def test_a_whole_walk_compiled_gives_the_tensor_walks_predictions():
    """The context model's walk with its compiled kernels (exact mode on the
    CPU) and in torch's operations predicts the very same means and scales
    for every phase: random weights, three components, a parent band, odd
    sizes."""
    from iwave.entropy.exact import in_tensor_operations
    torch.manual_seed(12)
    model = ContextModel(levels=3, width=6, lstm_hidden=3, parent=True)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.6)
    shapes = [(5, 6), (5, 6), (5, 6), (5, 6), (9, 12), (10, 11), (9, 11), (19, 23), (18, 22), (18, 23)]

    def run():
        seen = []

        def emit(b, c, p, mean, log2_scale):
            seen.append((mean.clone(), log2_scale.clone()))
            gen = torch.Generator().manual_seed(len(seen))
            return torch.randint(-60, 60, mean.shape, generator=gen).double()
        with torch.no_grad():
            bands = model.walk(shapes, 3, 2, 10, emit, band_steps=[[2.0, 3.0, 5.0]] * len(shapes))
        return seen, bands
    compiled, bands_c = run()
    with in_tensor_operations():
        plain, bands_t = run()
    assert len(compiled) == len(plain) == 4 * 3 * len(shapes)
    assert all(torch.equal(a, b) for x, y in zip(compiled, plain) for a, b in zip(x, y))
    assert all(torch.equal(a, b) for a, b in zip(bands_c, bands_t))
