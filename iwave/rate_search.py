"""--bpp: the step whose file comes closest to a target rate without
going over, in about two encodes instead of a search of twenty.

A cheap estimate of the rate at any step comes from the transform alone:
the zeroth-order entropy of each subband's dead-zone indices (no context
model, no coding), computed on blocks spread over the image (about ESTIMATE_PIXELS). The real
coder spends a step-dependent fraction of that estimate, so each real
encode calibrates it: the first encode at the estimate's step (under a
prior ratio) gives the ratio there, the next uses it, and later ones interpolate the ratio in log
step between the two nearest encodes. Encoder-only; the file is an
ordinary lossy file."""
import math

import numpy as np
import torch

from iwave.encoder import ENCODER_ROUNDING, component_groups
from iwave.quantisation import MAX_STEP, MIN_STEP

ESTIMATE_PIXELS = 9 * 128 * 128     # the estimate looks at about this many pixels (sample_blocks)
BLOCK = 128
MAX_ENCODES = 4                 # steered by the estimate
BRACKET_ENCODES = 6             # then bisecting between the nearest steps over and under the target
CLOSE_ENOUGH = 0.97             # a file of at least this fraction of the target is kept
# What the coder spends of the estimate before any encode says: 0.7-0.95 at
# steps 8-128 on the 16 held-out crops (docs/experiments/ratio.py)
PRIOR_RATIO = 0.8
AIM = 0.99                      # aim a little below the target, so the first encode seldom overshoots
BISECTIONS = 18                 # of log step over MIN_STEP..MAX_STEP: to 0.01% of a step
_MAGNITUDES = 1 << 16           # index magnitudes beyond this share one histogram bin


def sample_blocks(a, pixels=ESTIMATE_PIXELS, side=BLOCK):
    """The image itself if it has at most `pixels`, else about that many
    pixels of it as side x side blocks spread evenly over it (a crop of
    one part can misjudge the rest of a photo by half)."""
    h, w = a.shape[:2]
    if h * w <= pixels or h < side or w < side:
        return [a]
    count = max(1, pixels // (side * side))
    rows = min(h // side, max(1, round(math.sqrt(count * h / w))))
    cols = min(w // side, max(1, count // rows))
    ys = np.linspace(0, h - side, rows).astype(int)
    xs = np.linspace(0, w - side, cols).astype(int)
    return [a[y:y + side, x:x + side] for y in ys for x in xs]


class RateEstimate:
    """Zeroth-order bits per pixel of an 8-bit image's colour at any step."""

    def __init__(self, model, a):
        blocks = sample_blocks(a)
        per_block = []
        for block in blocks:
            x, _ = component_groups(block)[0]
            with torch.no_grad():
                bands = model.transform(torch.from_numpy(x).double()[:, None], 8, rounding=False)
            per_block.append([b[:, 0].reshape(x.shape[0], -1).numpy() for b in bands])
        self.model, self.n = model, per_block[0][0].shape[0]
        self.bands = [np.concatenate(parts, axis=1) for parts in zip(*per_block)]   # (n, count) each
        self.pixels = sum(b.shape[0] * b.shape[1] for b in blocks)

    def bpp(self, step):
        total = 0.0
        for band, steps in zip(self.bands, self.model.lossy_steps(step, self.n)):
            for c, s in enumerate(steps):
                q = np.floor(np.abs(band[c]) / s + ENCODER_ROUNDING).astype(np.int64)
                counts = np.bincount(np.minimum(q, _MAGNITUDES))
                counts = counts[counts > 0]
                p = counts / q.size
                total += float(-(counts * np.log2(p)).sum()) + float(np.count_nonzero(q))  # + signs
        return total / self.pixels


def _step_for(estimate, rate, log_ratio=lambda log_step: 0.0, lo=MIN_STEP, hi=MAX_STEP):
    """The step at which estimate.bpp x exp(log_ratio(log step)) falls to
    `rate` (bisection in log step over the codec's step range; both
    decrease with the step), or `hi` if it never does."""
    a, b = math.log(lo), math.log(hi)
    for _ in range(BISECTIONS):
        m = 0.5 * (a + b)
        if estimate.bpp(math.exp(m)) * math.exp(log_ratio(m)) > rate:
            a = m
        else:
            b = m
    return math.exp(b)


def search(encode, estimate, target, rate_of):
    """A file of at least CLOSE_ENOUGH of `target` bpp and not above it,
    from at most MAX_ENCODES encodes steered by `estimate` (a RateEstimate)
    and then, if those bracket the target without reaching it (rates that
    jump with the step), at most BRACKET_ENCODES bisections of log step;
    else the largest file not above the target found, or None if every
    file was above it. encode(step) -> file bytes; rate_of(file) -> bpp."""
    tried = []                           # (log step, log(actual / estimate))
    best, over, under = None, None, None     # under: the smallest step whose file fits
    step = _step_for(estimate, target * AIM / PRIOR_RATIO)
    for i in range(MAX_ENCODES + BRACKET_ENCODES):
        if i >= MAX_ENCODES:
            if over is None or under is None:
                break
            step = math.sqrt(over * under)
        data = encode(step)
        actual = rate_of(data)
        if actual <= target:
            under = step if under is None else min(under, step)
            if best is None or actual > rate_of(best):
                best = data
        else:
            over = step if over is None else max(over, step)
        if best is not None and rate_of(best) >= CLOSE_ENOUGH * target:
            break
        if i + 1 < MAX_ENCODES:
            tried.append((math.log(step), math.log(max(actual, 1e-9) / max(estimate.bpp(step), 1e-9))))
            step = _next_step(estimate, target * AIM, tried)
            if any(abs(math.log(step) - t) < 1e-4 for t, _ in tried):
                step = math.sqrt(over * under) if over and under else step * (1.1 if best else 0.9)
    return best


def _next_step(estimate, rate, tried):
    """The step where estimate x ratio reaches `rate`, the log ratio taken
    from the encodes `tried` (linear in log step between them, constant
    beyond)."""
    xs, ys = zip(*sorted(tried))
    return _step_for(estimate, rate, lambda log_step: float(np.interp(log_step, xs, ys)))
