"""Integer-to-integer 2-D lifting wavelet transform with learned corrections.

One 1-D stage splits a signal into even/odd samples and applies four lifting
steps in CDF 9/7 order (P1, U1, P2, U2). Each step adds to one half
    round(linear(other half) + DAMPING * cnn(linear(other half)))
where `linear` is the fixed symmetric filter of the wavelet (two taps for
9/7 and 5/3, four for the predict step of 9/7-M) and `cnn` a tiny 2-D
CNN. Because every step only adds a rounded function of the *other* half, the
inverse subtracts the same value and the transform is exactly invertible for
any weights and any size. In float64 the CNN is exact (entropy.exact), so the
inverse computes bit-identical corrections on any machine.

Tensors are (components, 1, H, W); a level transforms rows, then columns of
both halves. Subbands per level are ordered HL (high along x), LH, HH.
"""
import copy
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from iwave.entropy.exact import (A_FRAC, A_MAX, W_FRAC, W_MAX, Conv, act, hard_tanh, is_exact,
                           quantise, round_half_up)
from iwave.directions import expand
from iwave.lifting_kernel import lift

# Lifting coefficients of P1, U1, P2, U2, rounded to multiples of 2**-12 so the
# linear path is exact. A step is one coefficient (the two nearest samples of
# the other half) or a pair (nearest two, next two). 9/7-M (JPEG 2000 part 2's
# integer 9/7) predicts from four samples: it leaves less detail energy than
# 5/3 on photographs and costs one more multiply per odd sample.
WAVELETS = {
    "cdf97": (-1.586134342, -0.052980118, 0.882911075, 0.443506852),
    "cdf53": (-0.5, 0.25, 0.0, 0.0),
    "cdf97m": ((-9 / 16, 1 / 16), 0.25, 0.0, 0.0),
    "cdf137t": ((-9 / 16, 1 / 16), (9 / 32, -1 / 32), 0.0, 0.0),
}
DAMPING_SHIFT = 3            # CNN corrections are scaled by 2**-3 (about 0.1)
INPUT_SHIFT = 4              # CNN inputs are scaled by 2**-(4 + bit_depth - 8)


def _q12(c):
    return round(c * 4096) / 4096


def _taps(wavelet):
    """Per step, (near, far) coefficients on the 2**-12 grid."""
    return tuple(tuple(_q12(c) for c in (step if isinstance(step, tuple) else (step, 0.0)))
                 for step in WAVELETS[wavelet])


def _mirror(n_x, parity, offset, count):
    """Indices into one half (even: parity 0, odd: 1) of a length-n_x signal
    for samples at x positions 2*k + offset, k < count, with whole-sample
    symmetric extension (x[-t] = x[t], x[n-1+t] = x[n-1-t]), which keeps the
    parity of a position, so the mirrored sample lies in the same half."""
    t = 2 * torch.arange(count) + offset
    period = 2 * (n_x - 1)
    t = torch.remainder(t, period)
    t = torch.where(t > n_x - 1, period - t, t)
    return (t - parity) // 2


class StepCNN(nn.Module):
    """Correction for one lifting step: 3x3 conv 1->h, hard tanh, 1x1 h->1."""

    def __init__(self, hidden=2):
        super().__init__()
        self.conv1 = Conv(1, hidden, 3)
        self.conv2 = Conv(hidden, 1, 1)
        nn.init.zeros_(self.conv2.weight)     # zero output: starts as the plain transform
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x):
        return self.conv2(act(hard_tanh(self.conv1(x))))

    def is_zero_in_exact_mode(self):
        """Whether the output layer's weights and bias round to zero, so the
        exact (float64) correction is exactly 0 for every input. Models
        trained without stage 2 are like that, and their transform then
        skips the CNNs: same coefficients, none of the CNN's work."""
        w = quantise(self.conv2.weight.detach().double(), W_FRAC, W_MAX)
        b = quantise(self.conv2.bias.detach().double(), A_FRAC, A_MAX)
        return not (w.any() or b.any())


class _Step(NamedTuple):
    """How a transform call evaluates each lifting step."""
    shift: int           # CNN inputs are scaled by 2**-shift
    rounding: bool       # integer-to-integer (lossless) or real-valued (lossy)
    cnn: bool = True     # False: the linear path alone (the plain wavelet)


class LiftingTransform(nn.Module):
    """The wavelet transform: `levels` 2-D decompositions, each a 1-D lifting
    stage along rows then columns (split even/odd, predict, update, ...) on
    a fixed linear path (CDF 5/3, 9/7 or 9/7-M taps) plus a small learned CNN
    correction per step (zero in every shipped model). With rounding, each
    step's update is rounded before it is added, so the transform maps
    integers to integers and `inverse` undoes it exactly for any image size
    (lossless); without, it is real-valued (lossy, which may use another
    linear path, `lossy_wavelet`)."""

    def __init__(self, levels=4, wavelet="cdf97", hidden=2, lossy_wavelet=None):
        super().__init__()
        self.levels = levels
        self.wavelet = wavelet
        self.coeffs = _taps(wavelet)
        # Real-valued (lossy) mode may use another linear path: like JPEG 2000,
        # 5/3 suits integer lossless coding and 9/7 suits lossy coding.
        self.lossy_coeffs = _taps(lossy_wavelet or wavelet)
        self.steps = nn.ModuleList(StepCNN(hidden) for _ in range(4))

    def with_lossless_taps(self, taps):
        """This transform with another lossless (rounding) linear path:
        `taps` per step as (near, far), put on the 2**-12 grid; the CNNs and
        the lossy path are shared with this one."""
        other = copy.copy(self)
        other.coeffs = tuple((_q12(near), _q12(far)) for near, far in taps)
        return other

    def linear_multiplies(self, rounding=True):
        """Multiplies of the fixed path per updated sample, summed over the
        four steps (4 for two-tap wavelets, one more per four-tap step)."""
        return sum(1 + bool(far) for _, far in (self.coeffs if rounding else self.lossy_coeffs))

    # -- one lifting step -------------------------------------------------
    @staticmethod
    def _gather(n_src, n_dst, predict, far):
        """Where a step reads the other half: the indices of its mirror-
        extended samples (one gather), and the start in them of each tap's
        slice of length n_dst, near pair then far pair (0s if no far taps)."""
        # x positions of the other half's samples, relative to 2n: predict
        # odd[n] (at 2n+1) from even[n], even[n+1] and even[n-1], even[n+2];
        # update even[n] (at 2n) from odd[n-1], odd[n] and odd[n-2], odd[n+1].
        parity, near_at, far_at = (0, (0, 2), (-2, 4)) if predict else (1, (-1, 1), (-3, 3))
        lo, hi = far_at if far else near_at
        index = _mirror(n_src + n_dst, parity, lo, n_dst + (hi - lo) // 2)
        return index, tuple((o - lo) // 2 for o in near_at + (far_at if far else (lo, lo)))

    def _delta(self, i, src, predict, n_dst, mode: _Step):
        """Value added to the destination half (length n_dst along x)."""
        near, far = (self.coeffs if mode.rounding else self.lossy_coeffs)[i]
        index, starts = self._gather(src.shape[-1], n_dst, predict, far)
        ext = src[..., index]

        def pair(a, b):
            return ext[..., a:a + n_dst] + ext[..., b:b + n_dst]

        value = near * pair(*starts[:2])
        if far:
            value = value + far * pair(*starts[2:])
        if mode.cnn and not (is_exact(value) and self.steps[i].is_zero_in_exact_mode()):
            scale = 2.0 ** mode.shift
            value = value + self.steps[i](act(value / scale)) * (scale / 2 ** DAMPING_SHIFT)
        return round_half_up(value) if mode.rounding else value

    def _compiled(self, x, mode):
        """Whether the steps are the linear path alone, which
        iwave.lifting_kernel computes (float64 on the CPU, no CNN)."""
        return (is_exact(x) and x.device.type == "cpu"
                and (not mode.cnn or all(s.is_zero_in_exact_mode() for s in self.steps)))

    def _lift_compiled(self, even, odd, forward, mode):
        """Four linear steps on copies of the halves (numpy, (rows, len))."""
        e = np.array(even.numpy(), order="C").reshape(-1, even.shape[-1])
        o = np.array(odd.numpy(), order="C").reshape(-1, odd.shape[-1])
        for i in range(4) if forward else range(3, -1, -1):
            near, far = (self.coeffs if mode.rounding else self.lossy_coeffs)[i]
            dst, src = (o, e) if i % 2 == 0 else (e, o)
            index, starts = self._gather(src.shape[-1], dst.shape[-1], i % 2 == 0, far)
            lift(dst, src, index.numpy(), np.array(starts), near, far, 1.0 if forward else -1.0,
                 mode.rounding)
        return e, o

    def _forward_1d(self, x, mode):
        even, odd = x[..., 0::2], x[..., 1::2]
        ne, no = even.shape[-1], odd.shape[-1]
        if no == 0:
            return even, odd
        if self._compiled(x, mode):
            e, o = self._lift_compiled(even, odd, True, mode)
            return torch.from_numpy(e).view(even.shape), torch.from_numpy(o).view(odd.shape)
        odd = odd + self._delta(0, even, True, no, mode)
        even = even + self._delta(1, odd, False, ne, mode)
        odd = odd + self._delta(2, even, True, no, mode)
        even = even + self._delta(3, odd, False, ne, mode)
        return even, odd

    def _inverse_1d(self, even, odd, mode):
        ne, no = even.shape[-1], odd.shape[-1]
        if no > 0 and self._compiled(even, mode):
            e, o = self._lift_compiled(even, odd, False, mode)
            even, odd = torch.from_numpy(e).view(even.shape), torch.from_numpy(o).view(odd.shape)
        elif no > 0:
            even = even - self._delta(3, odd, False, ne, mode)
            odd = odd - self._delta(2, even, True, no, mode)
            even = even - self._delta(1, odd, False, ne, mode)
            odd = odd - self._delta(0, even, True, no, mode)
        x = even.new_empty(even.shape[:-1] + (ne + no,))
        x[..., 0::2] = even
        x[..., 1::2] = odd
        return x

    # -- 2-D, multi-level --------------------------------------------------
    @staticmethod
    def _mode(bit_depth, rounding):
        return _Step(INPUT_SHIFT + max(bit_depth - 8, 0), rounding)

    def forward(self, x, bit_depth=8, rounding=True, directions=None):
        """x: (C, 1, H, W) integer-valued tensor -> [LL, (HL, LH, HH) coarse..fine].

        rounding=True (lossless) makes the transform integer-to-integer. Lossy
        coding uses rounding=False: the decoder's input is then not the
        encoder's output, and rounding a value that sits on a .5 boundary (as
        5/3 predictions of integers often do) would turn tiny dequantisation
        offsets into +-1 errors that grow through the levels.

        directions (real-valued only): per level, finest first, the block
        directions of iwave.directions, along which those levels lift their
        columns first."""
        return self._analyse(x, self._mode(bit_depth, rounding), directions)

    def inverse(self, bands, bit_depth=8, rounding=True, directions=None):
        """bands -> (C, 1, H, W). Given only [LL, (HL, LH, HH) of the coarsest
        j levels], it inverts those j levels: the low-pass band of level
        levels - j, exactly as `forward` made it (a reduced-size preview);
        `directions` as forward's."""
        return self._synthesise(bands, self._mode(bit_depth, rounding), directions)

    def linear_inverse(self, bands):
        """Inverse of the lossy linear path alone (no rounding, no CNN): the
        real wavelet's synthesis, used to measure subband gains."""
        return self._synthesise(bands, _Step(0, rounding=False, cnn=False))

    def _shifts(self, directions, level, h, w, mode):
        """A level's per-sample directions (None: the separable transform)."""
        if directions is None or level >= len(directions):
            return None
        if mode.rounding:
            raise ValueError("directional lifting is real-valued (lossy) only")
        return expand(directions[level], level, h, w)

    def _along(self, i, src, n_dst, shifts):
        """What real-valued step i adds to the n_dst rows of one half (C, n,
        W) from the other half's rows above and below each (mirrored as the
        separable steps', _gather), read at x - d and x + d for the
        destination's direction d in `shifts` (H, W) (clamped to the row)."""
        predict = i % 2 == 0
        index, starts = self._gather(src.shape[1], n_dst, predict, False)
        d = shifts[(1 if predict else 0)::2][:n_dst]
        w = src.shape[-1]
        x = np.arange(w)

        def read(start, at):
            rows = src[:, index[start:start + n_dst].numpy()]
            return np.take_along_axis(rows, np.broadcast_to(np.clip(at, 0, w - 1), rows.shape), -1)
        return self.lossy_coeffs[i][0] * (read(starts[0], x - d) + read(starts[1], x + d))

    def analyse_columns(self, x, shifts):
        """x (C, H, W) float64 lifted along its columns by the four
        real-valued steps, along `shifts` (H, W): the (even, odd) rows,
        which are the (low, high) halves."""
        even, odd = x[:, 0::2].copy(), x[:, 1::2].copy()
        if odd.shape[1]:
            for i in range(4):
                if i % 2 == 0:
                    odd += self._along(i, even, odd.shape[1], shifts)
                else:
                    even += self._along(i, odd, even.shape[1], shifts)
        return even, odd

    def synthesise_columns(self, even, odd, shifts):
        """The inverse of analyse_columns: (C, H, W) from its halves."""
        even, odd = even.copy(), odd.copy()
        if odd.shape[1]:
            for i in range(3, -1, -1):
                if i % 2 == 0:
                    odd -= self._along(i, even, odd.shape[1], shifts)
                else:
                    even -= self._along(i, odd, even.shape[1], shifts)
        x = np.empty((even.shape[0], even.shape[1] + odd.shape[1], even.shape[2]))
        x[:, 0::2], x[:, 1::2] = even, odd
        return x

    def analysis_level(self, low, bit_depth=8, shifts=None):
        """One real-valued level of `low` (C, 1, H, W), along `shifts` (H, W)
        if given: (its low band, (HL, LH, HH))."""
        return self._level(low, self._mode(bit_depth, False), shifts)

    def _level(self, low, mode, shifts):
        t = lambda a: a.transpose(-1, -2)
        if shifts is None:
            lo_x, hi_x = self._forward_1d(low, mode)
            ll, lh = (t(b) for b in self._forward_1d(t(lo_x), mode))
            hl, hh = (t(b) for b in self._forward_1d(t(hi_x), mode))
        else:
            even, odd = self.analyse_columns(low[:, 0].numpy(), shifts)
            ll, hl = self._forward_1d(torch.from_numpy(even)[:, None], mode)
            lh, hh = self._forward_1d(torch.from_numpy(odd)[:, None], mode)
        return ll, (hl, lh, hh)

    def _analyse(self, x, mode, directions=None):
        details = []
        low = x
        for level in range(self.levels):
            low, bands = self._level(low, mode, self._shifts(directions, level, *low.shape[-2:], mode))
            details.append(bands)
        return [low] + [b for bands in reversed(details) for b in bands]

    def _synthesise(self, bands, mode, directions=None):
        t = lambda a: a.transpose(-1, -2)
        low = bands[0]
        for j in range((len(bands) - 1) // 3):      # all levels, or the coarsest ones given
            hl, lh, hh = bands[1 + 3 * j: 4 + 3 * j]
            level = self.levels - 1 - j
            shifts = self._shifts(directions, level, hl.shape[-2] + hh.shape[-2],
                                  low.shape[-1] + hl.shape[-1], mode)
            if shifts is None:
                lo_x = t(self._inverse_1d(t(low), t(lh), mode))
                hi_x = t(self._inverse_1d(t(hl), t(hh), mode))
                low = self._inverse_1d(lo_x, hi_x, mode)
            else:
                even = self._inverse_1d(low, hl, mode)[:, 0].numpy()
                odd = self._inverse_1d(lh, hh, mode)[:, 0].numpy()
                low = torch.from_numpy(self.synthesise_columns(even, odd, shifts))[:, None]
        return low


def subband_shapes(h, w, levels):
    """Shapes of [LL, HL, LH, HH (coarse) ... HL, LH, HH (fine)] for an h x w input."""
    shapes = []
    for _ in range(levels):
        lw, hw = (w + 1) // 2, w // 2
        lh, hh = (h + 1) // 2, h // 2
        shapes.append(((lh, hw), (hh, lw), (hh, hw)))
        h, w = lh, lw
    return [(h, w)] + [s for level in reversed(shapes) for s in level]
