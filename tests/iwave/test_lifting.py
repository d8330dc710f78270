import math

import pytest
import torch
from hypothesis import given, settings, strategies as st

from iwave.lifting import LiftingTransform, subband_shapes


def random_transform(seed, std, wavelet="cdf97", levels=4):
    t = LiftingTransform(levels=levels, wavelet=wavelet)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * std)
    return t


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), seed=st.integers(0, 2**31),
       std=st.sampled_from([0.0, 0.3, 3.0]), bit_depth=st.sampled_from([8, 16]),
       wavelet=st.sampled_from(["cdf97", "cdf53", "cdf97m", "cdf137t"]), levels=st.integers(1, 5))
def test_inverse_is_exact_for_any_size_and_weights(h, w, seed, std, bit_depth, wavelet, levels):
    t = random_transform(seed, std, wavelet, levels)
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 2 ** bit_depth, (3, 1, h, w), generator=g).double()
    with torch.no_grad():
        bands = t(x, bit_depth)
        assert [tuple(b.shape[-2:]) for b in bands] == subband_shapes(h, w, levels)
        for b in bands:                                   # integer-to-integer
            assert torch.equal(b, torch.floor(b))
        assert torch.equal(t.inverse(bands, bit_depth), x)


def test_one_by_one_and_strips():
    t = random_transform(1, 0.5)
    with torch.no_grad():
        for shape in [(1, 1), (1, 97), (64, 1), (2, 2)]:
            x = torch.randint(0, 256, (1, 1) + shape).double()
            assert torch.equal(t.inverse(t(x)), x)


def test_large_image_4000x3000():
    t = random_transform(2, 0.5)
    x = torch.randint(0, 256, (1, 1, 3000, 4000)).double()
    with torch.no_grad():
        assert torch.equal(t.inverse(t(x)), x)


def test_zero_cnn_is_plain_integer_wavelet():
    """With zero CNN weights the transform is the integer 9/7 lifting: a
    constant image has (almost) no detail energy."""
    t = LiftingTransform()
    with torch.no_grad():
        for p in t.parameters():
            p.zero_()
        bands = t(torch.full((1, 1, 32, 32), 100.0, dtype=torch.float64))
    assert all(b.abs().max() <= 1 for b in bands[1:])


def test_unrounded_mode_inverts_up_to_float_error():
    """Lossy mode: no rounding, so a small perturbation of the subbands gives
    a small change of the image (no +-1 jumps from .5 boundaries)."""
    t = random_transform(3, 0.3, "cdf53")
    x = torch.randint(0, 256, (1, 1, 40, 56)).double()
    with torch.no_grad():
        bands = t(x, rounding=False)
        assert (t.inverse(bands, rounding=False) - x).abs().max() < 1e-9
        noisy = [b + 1e-6 for b in bands]
        # The CNN's inputs sit on a 2**-10 grid, so a perturbation can move a
        # correction by a few thousandths -- but never by a whole integer.
        assert (t.inverse(noisy, rounding=False) - x).abs().max() < 0.05


def test_zero_corrections_are_skipped_without_changing_a_coefficient(monkeypatch):
    """A transform whose CNN output layers round to zero (a model trained
    without stage 2) skips the CNNs: identical coefficients and inverse, in
    both modes, for a fraction of the work."""
    from torch.utils.flop_counter import FlopCounterMode
    from iwave.lifting import StepCNN
    t = random_transform(3, 0.5, "cdf53")
    with torch.no_grad():
        for s in t.steps:
            s.conv2.weight.fill_(2.0 ** -14)       # below the exact weight grid (2**-12)
            s.conv2.bias.zero_()
    g = torch.Generator().manual_seed(1)
    x = torch.randint(0, 256, (3, 1, 37, 50), generator=g).double()

    def run(rounding):
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            bands = t(x, 8, rounding=rounding)
            back = t.inverse(bands, 8, rounding=rounding)
        return bands, back, counter.get_total_flops()

    for rounding in (True, False):
        skipped = run(rounding)
        with monkeypatch.context() as m:
            m.setattr(StepCNN, "is_zero_in_exact_mode", lambda self: False)
            full = run(rounding)
        assert all(torch.equal(a, b) for a, b in zip(skipped[0], full[0]))
        assert torch.equal(skipped[1], full[1])
        assert skipped[2] == 0 < full[2]


@pytest.mark.parametrize("wavelet", ["cdf53", "cdf97m", "cdf137t"])
def test_linear_lifting_count_matches_the_work_done(monkeypatch, wavelet):
    """The complexity report adds the fixed path's elementwise multiplies
    (FlopCounterMode misses them): one per updated sample per tap pair."""
    from iwave.complexity import linear_lifting_macs
    t = LiftingTransform(levels=3, wavelet=wavelet)
    done = []
    original = LiftingTransform._delta

    def counting(self, i, src, predict, n_dst, mode):
        done.append(src[..., :1].numel() * n_dst * (1 + bool(self.coeffs[i][1])))
        return original(self, i, src, predict, n_dst, mode)

    monkeypatch.setattr(LiftingTransform, "_delta", counting)
    monkeypatch.setattr(LiftingTransform, "_compiled", lambda self, x, mode: False)   # count torch's path
    with torch.no_grad():
        t(torch.zeros((3, 1, 64, 96), dtype=torch.float64))
    assert sum(done) == linear_lifting_macs(3, 64, 96, multiplies=t.linear_multiplies())


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 30), w=st.integers(1, 30), seed=st.integers(0, 2**31),
       bit_depth=st.sampled_from([8, 16]), levels=st.integers(1, 5),
       wavelet=st.sampled_from(["cdf97", "cdf53", "cdf97m", "cdf137t"]))
def test_compiled_steps_give_torchs_coefficients_and_pixels(h, w, seed, bit_depth, levels, wavelet):
    """With zero CNNs a lossless transform runs its steps compiled
    (iwave.lifting_kernel): the same subbands and the same inverse as the
    tensor code, for any size, depth and wavelet."""
    t = LiftingTransform(levels=levels, wavelet=wavelet)
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 2 ** bit_depth, (3, 1, h, w), generator=g).double()
    with torch.no_grad():
        for p in t.parameters():
            p.zero_()
        compiled = t(x, bit_depth)
        assert t._compiled(x, t._mode(bit_depth, True))
        with pytest.MonkeyPatch.context() as m:
            m.setattr(LiftingTransform, "_compiled", lambda self, x, mode: False)
            plain = t(x, bit_depth)
            assert torch.equal(t.inverse(plain, bit_depth), x)
        assert all(torch.equal(a, b) for a, b in zip(compiled, plain))
        assert torch.equal(t.inverse(compiled, bit_depth), x)
        assert all(torch.equal(b, c) for b, c in zip(compiled, t(x, bit_depth)))   # inputs untouched


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 30), w=st.integers(1, 30), seed=st.integers(0, 2**31), levels=st.integers(1, 5),
       wavelet=st.sampled_from(["cdf97", "cdf53", "cdf97m"]))
def test_compiled_real_valued_steps_give_torchs_numbers(h, w, seed, levels, wavelet):
    """Lossy (real-valued) steps compiled give torch's float64 numbers bit
    for bit, forward on pixels and inverse on dequantised subbands."""
    t = LiftingTransform(levels=levels, wavelet="cdf53", lossy_wavelet=wavelet)
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (3, 1, h, w), generator=g).double()
    with torch.no_grad():
        for p in t.parameters():
            p.zero_()
        compiled = t(x, 8, rounding=False)
        noisy = [b + torch.randn(b.shape, generator=g, dtype=torch.float64) for b in compiled]
        back = t.inverse(noisy, 8, rounding=False)
        with pytest.MonkeyPatch.context() as m:
            m.setattr(LiftingTransform, "_compiled", lambda self, x, mode: False)
            plain = t(x, 8, rounding=False)
            plain_back = t.inverse(noisy, 8, rounding=False)
        assert all(torch.equal(a, b) for a, b in zip(compiled, plain))
        assert torch.equal(back, plain_back)


def _mirrored(x, t):
    n = len(x)
    while not 0 <= t < n:
        t = -t if t < 0 else 2 * (n - 1) - t
    return x[t]


@pytest.mark.parametrize("wavelet", ["cdf97m", "cdf137t"])
def test_four_tap_steps_are_the_textbook_integer_wavelets(wavelet):
    """With zero CNNs, 9/7-M and 13/7-T are JPEG 2000 part 2's integer
    wavelets with whole-sample symmetric extension, at every length."""
    t = LiftingTransform(levels=1, wavelet=wavelet)
    with torch.no_grad():
        for p in t.parameters():
            p.zero_()
    g = torch.Generator().manual_seed(5)
    for n in range(2, 24):
        x = torch.randint(0, 256, (n,), generator=g).tolist()
        y = list(x)
        for k in range(1, n, 2):
            near = _mirrored(x, k - 1) + _mirrored(x, k + 1)
            far = _mirrored(x, k - 3) + _mirrored(x, k + 3)
            y[k] = x[k] + math.floor((-9 * near + far) / 16 + 0.5)
        z = list(y)
        for k in range(0, n, 2):
            near = _mirrored(y, k - 1) + _mirrored(y, k + 1)
            if wavelet == "cdf97m":
                z[k] = y[k] + math.floor(near / 4 + 0.5)
            else:
                far = _mirrored(y, k - 3) + _mirrored(y, k + 3)
                z[k] = y[k] + math.floor((9 * near - far) / 32 + 0.5)
        row = torch.tensor(x, dtype=torch.float64).view(1, 1, 1, n)
        with torch.no_grad():
            bands = t(row)
        low = bands[0].view(-1).tolist()
        high = bands[1].view(-1).tolist()            # HL: high along x
        assert low == z[0::2] and high == z[1::2], n
