"""Rate of a batch under the model: the same context walk the codec runs, with
the true coefficients fed back (teacher forcing) and bits estimated by the
differentiable discretised-Laplace likelihood."""
import torch

from entropy.context_model import PHASES, laplace_bits
from iwave.colour import rgb_to_ycocg


def analyse(model, rgb_uint8, rounding=True):
    """(B, H, W, 3) uint8 -> list of subbands (B, 3, h, w), float64: integer
    (lossless) or real-valued (rounding=False, as lossy coding uses)."""
    b, h, w, _ = rgb_uint8.shape
    ycc = torch.from_numpy(rgb_to_ycocg(rgb_uint8.numpy())).permute(0, 3, 1, 2).double()
    ycc = ycc.to(next(model.parameters()).device)
    with torch.no_grad():
        bands = model.transform(ycc.reshape(b * 3, 1, h, w), 8, rounding=rounding)
    return [t.reshape(b, 3, *t.shape[-2:]) for t in bands]


def bits_per_subpixel(model, bands, dtype=torch.float32, steps=None):
    """Mean bits per coded sample (bits per sub-pixel in lossless mode).
    `steps`: per-subband quantisation steps (None for lossless)."""
    batch, n = bands[0].shape[:2]
    total = []
    src = [t.to(dtype) for t in bands]

    def emit(b, c, p, mean, log2_scale):
        dy, dx = PHASES[p]
        v = src[b][:, c, dy::2, dx::2]
        total.append(laplace_bits(v, mean, log2_scale).sum())
        return v

    model.context.walk([tuple(t.shape[-2:]) for t in bands], n, batch, 8, emit, dtype=dtype,
                       band_steps=steps)
    count = sum(t.numel() for t in bands)
    return torch.stack(total).sum() / count
