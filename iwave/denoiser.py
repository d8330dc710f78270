"""Dequantisation denoiser: a small CNN that cleans a lossy reconstruction.

It runs after the inverse transform on the real-valued YCoCg planes, before
they are rounded to pixels, and adds a correction predicted from a
neighbourhood of about 10x10 pixels, conditioned on the quantisation step
(coarser steps leave stronger ringing and blur). To stay cheap it works on
2x2 blocks (space-to-depth: 12 channels at quarter resolution):

    depthwise 3x3 -> 1x1 to `hidden` (+ step bias) -> ReLU
    [-> depthwise 3x3 -> 1x1 hidden to hidden -> ReLU] x `depth`
    -> depthwise 3x3 -> 1x1 back to 12 -> depth-to-space -> added to the input

About 160 multiply-accumulates per pixel with hidden = 16 and depth 0; each
extra block adds (9 + hidden) * hidden / 4 and widens the view by 4 pixels. Built from the
exact layers of entropy.exact, so in float64 it gives the same pixels on
every machine, as the rest of the decoder does; on the CPU its layers run
compiled (entropy.exact_kernels.separable_stack), with the same numbers. The last layer
starts at zero: an untrained denoiser changes nothing.
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from iwave.entropy.context_model import Embedding
from iwave.entropy.exact_kernels import separable_stack
from iwave.entropy.exact import Conv, act, compiled, kernel_arrays, pl_log2

OUTPUT_SCALE = 16.0       # network output x 16 = correction in pixel values (grid 1/64)


class Denoiser(nn.Module):
    def __init__(self, hidden=16, min_step=None, input_scale=256.0, depth=0):
        super().__init__()
        self.min_step = min_step      # below the steps it was trained on, the decoder skips it
        # Inputs are pixel values / input_scale. Exact mode rounds them to 2**-10,
        # so 256 (the first models' value) loses a quarter of a pixel value: too
        # coarse to clean fine steps. 16 keeps 1/64.
        self.input_scale = float(input_scale)
        c = 12
        self.spatial1 = Conv(c, c, 3, groups=c)
        self.mix = Conv(c, hidden, 1)
        self.cond = Embedding(1, hidden)
        self.blocks = nn.ModuleList(
            nn.Sequential(Conv(hidden, hidden, 3, groups=hidden), Conv(hidden, hidden, 1))
            for _ in range(depth))
        self.spatial2 = Conv(hidden, hidden, 3, groups=hidden)
        self.out = Conv(hidden, c, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, ycc, step):
        """ycc: (B, 3, H, W) real-valued Y, Co, Cg planes; step: the user step."""
        b, _, h, w = ycc.shape
        x = ycc - ycc.new_tensor([128.0, 0.0, 0.0]).view(1, 3, 1, 1)
        x = F.pad(x, (0, w % 2, 0, h % 2), mode="replicate") if (h % 2 or w % 2) else x
        x = act(F.pixel_unshuffle(x / self.input_scale, 2))
        log_step = act(x.new_tensor(pl_log2(step)))
        if compiled(x) and len(x):
            cond = self.cond(0, x, log_step).reshape(-1).numpy()
            r = torch.stack([torch.from_numpy(separable_stack(xi.numpy(), cond, *self._kernel_parameters()))
                             for xi in x])
        else:
            y = act(F.relu(self.mix(self.spatial1(x)) + self.cond(0, x, log_step)))
            for block in self.blocks:
                y = act(F.relu(block(y)))
            r = self.out(self.spatial2(y))
        r = F.pixel_shuffle(r, 2)[..., :h, :w]
        return ycc + r * OUTPUT_SCALE

    def _kernel_parameters(self):
        """The exact parameters as entropy.exact_kernels.separable_stack takes them."""
        hidden = self.mix.out_channels
        shapes = ((hidden, 3, 3), (hidden,), (hidden, hidden), (hidden,))

        def build(p):
            # depthwise weights (k, 1, 3, 3) -> (k, 3, 3); 1x1 ones (k, m, 1, 1) -> (k, m)
            p = [t if t.ndim == 1 else t[:, 0] if t.shape[-1] == 3 else t[:, :, 0, 0] for t in p]
            head, blocks, tail = p[:4], p[4:-4], p[-4:]
            per_block = [np.stack(blocks[i::4]) if blocks else np.zeros((0,) + shape)
                         for i, shape in enumerate(shapes)]
            return head + per_block + tail
        layers = ([self.spatial1, self.mix] + [conv for block in self.blocks for conv in block]
                  + [self.spatial2, self.out])
        return kernel_arrays(self, None, layers, build)
