"""Layers whose float64 evaluation is exact, hence identical on every machine.

Weights are rounded to multiples of 2**-W_FRAC and activations to multiples of
2**-A_FRAC, and both are clamped, so every product and every partial sum is a
multiple of 2**-(A_FRAC + W_FRAC) below 2**53: float64 adds and multiplies them
without rounding, in any order, with or without FMA, on any thread count or
instruction set. Non-linearities are piecewise linear with dyadic slopes
(ReLU, hard tanh, hard sigmoid with slope 1/4) so they stay exact too.

In float32 (training) the same modules run unquantised, with a
straight-through estimator where they round.
"""
import contextlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

W_FRAC = 12
A_FRAC = 10
W_MAX = 8.0                  # |weight| <= 8      -> integer part <= 2**15
A_MAX = 2048.0               # |activation| <= 2**11 -> integer part <= 2**21
MAX_FAN_IN = 1024            # 2**21 * 2**15 * 2**10 = 2**46 < 2**53


def is_exact(x: torch.Tensor) -> bool:
    return x.dtype == torch.float64


_COMPILED = [True]


@contextlib.contextmanager
def in_tensor_operations():
    """Within it, exact mode runs in torch's operations instead of the
    compiled kernels (entropy.exact_kernels; the same numbers): what a FLOP
    counter can see (iwave.complexity), and the reference the kernels are
    tested against."""
    _COMPILED[0], before = False, _COMPILED[0]
    try:
        yield
    finally:
        _COMPILED[0] = before


def compiled(x: torch.Tensor) -> bool:
    """Whether exact-mode work on tensor x runs compiled (float64, on the
    CPU, and no gradient wanted: autograd needs torch's operations)."""
    return _COMPILED[0] and is_exact(x) and x.device.type == "cpu" and not x.requires_grad


def round_half_up(x: torch.Tensor) -> torch.Tensor:
    """floor(x + 0.5): exact in float64; straight-through gradient otherwise."""
    r = torch.floor(x + 0.5)
    return r if is_exact(x) else x + (r - x).detach()


def quantise(x: torch.Tensor, frac: int, bound: float) -> torch.Tensor:
    x = x.clamp(-bound, bound)
    if not is_exact(x):
        return x
    s = float(1 << frac)
    # in place on clamp's new tensor: the same operations, fewer allocations
    return x.mul_(s).add_(0.5).floor_().div_(s)


def exact_parameter(p: torch.Tensor, frac: int, bound: float) -> torch.Tensor:
    """A parameter on its exact grid, in float64, computed once per value of
    the parameter (decoding calls each layer thousands of times)."""
    key = (p._version, p.data_ptr(), frac, bound)
    cached = getattr(p, "_exact_copy", None)
    if cached is None or cached[0] != key:
        cached = (key, quantise(p.detach().double(), frac, bound))
        p._exact_copy = cached
    return cached[1]


def kernel_arrays(owner, key, layers, build):
    """The exact parameters of `layers` (Conv modules: weight and bias of
    each, in order) as a compiled kernel takes them: build(numpy arrays) ->
    a tuple of arrays, kept on `owner` under `key` while the parameters
    last (rebuilt once any of them changes, as in training)."""
    exact = tuple(t for conv in layers for t in conv.exact_parameters())
    cache = owner.__dict__.setdefault("_kernel_arrays", {})
    cached = cache.get(key)
    if cached is None or any(a is not b for a, b in zip(cached[0], exact)):
        arrays = build([t.numpy() for t in exact])
        cached = cache[key] = (exact, tuple(np.ascontiguousarray(a) for a in arrays))
    return cached[1]


def act(x: torch.Tensor) -> torch.Tensor:
    """Requantise an activation to the A_FRAC grid (exact mode) and bound it."""
    return quantise(x, A_FRAC, A_MAX)


def hard_sigmoid(x):
    return (0.25 * x + 0.5).clamp(0.0, 1.0)


def hard_tanh(x):
    return x.clamp(-1.0, 1.0)


class Conv(nn.Conv2d):
    """Conv2d with exact float64 evaluation; output is requantised by `act`."""

    def __init__(self, cin, cout, k=1, groups=1, bias=True):
        super().__init__(cin, cout, k, padding=k // 2, groups=groups, bias=bias)
        assert (cin // groups) * k * k <= MAX_FAN_IN

    def exact_parameters(self):
        """Weight and bias (or None) on their exact grids, in float64."""
        b = None if self.bias is None else exact_parameter(self.bias, A_FRAC, A_MAX)
        return exact_parameter(self.weight, W_FRAC, W_MAX), b

    def forward(self, x):
        w, b = self.exact_parameters() if is_exact(x) else (self.weight, self.bias)
        if x.numel() == 0:
            shape = (x.shape[0], self.out_channels) + tuple(x.shape[2:])
            return x.new_zeros(shape)
        return act(F.conv2d(x, w.to(x.dtype), None if b is None else b.to(x.dtype),
                            padding=self.padding, groups=self.groups))


def magnitude_class(v: torch.Tensor) -> torch.Tensor:
    """Bit length of |v| for integer-valued v (0 for 0): a log-magnitude
    feature computed exactly (frexp only reads the float's exponent)."""
    return torch.frexp(v.abs())[1].to(v.dtype)


def pl_log2(x: float) -> float:
    """Piecewise-linear log2 (exact at powers of two, monotonic), computed
    from the float's mantissa and exponent so it is bit-identical everywhere,
    unlike libm's log2. Used to condition networks on a quantisation step."""
    import math
    m, e = math.frexp(float(x))        # x = m * 2**e, 0.5 <= m < 1
    return (e - 1) + 2.0 * (m - 0.5)
