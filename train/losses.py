"""Rate of a batch under the model: the same context walk the codec runs, with
the true coefficients fed back (teacher forcing) and bits estimated by the
differentiable discretised-Laplace likelihood."""
import torch

from iwave.entropy.context_model import PHASES, laplace_bits
from iwave.colour import YCOCG_LINEAR_INVERSE, rgb_to_ycocg
from iwave.encoder import encoder_quantise, teacher_forced
from iwave.quantisation import dequantise, in_steps


def analyse(model, rgb_uint8, rounding=True, learn=False):
    """(B, H, W, 3) uint8 -> list of subbands (B, 3, h, w), float64: integer
    (lossless) or real-valued (rounding=False, as lossy coding uses).
    learn=True: float32 with gradients for the lifting CNNs (stage 2; the
    roundings pass gradients straight through)."""
    b, h, w, _ = rgb_uint8.shape
    ycc = torch.from_numpy(rgb_to_ycocg(rgb_uint8.numpy())).permute(0, 3, 1, 2)
    ycc = ycc.to(next(model.parameters()).device, torch.float32 if learn else torch.float64)
    with torch.set_grad_enabled(learn):
        bands = model.transform(ycc.reshape(b * 3, 1, h, w), 8, rounding=rounding)
    return [t.reshape(b, 3, *t.shape[-2:]) for t in bands]


def bits_per_subpixel(model, bands, dtype=torch.float32, steps=None, expected_rounding=False,
                      coded=None):
    """Mean bits per coded sample (bits per sub-pixel in lossless mode).
    `steps`: per-subband quantisation steps (None for lossless);
    `expected_rounding`: see entropy.context_model.laplace_bits; `coded`:
    the values whose bits count, shaped as `bands`, if not `bands`
    themselves (the context model then predicts from `bands` without
    gradients: lossy stage 2, train.losses.rd_loss)."""
    total = []
    for b, c, p, v, mean, log2_scale in teacher_forced(model, bands, 8, steps, dtype, batched=True,
                                                       grad=coded is None):
        if coded is not None:
            v = coded[b][:, c, PHASES[p][0]::2, PHASES[p][1]::2]
        total.append(laplace_bits(v, mean, log2_scale, expected_rounding,
                                  model.context.mean_resolution).sum())
    count = sum(t.numel() for t in bands)
    return torch.stack(total).sum() / count


def encoder_indices(model, bands, steps, rounding=0.5, rd_lambda=0.0):
    """Quantisation indices of a batch of subbands (B, 3, h, w) as the
    codec's encoder makes them (iwave.encoder.encoder_quantise: the dead
    zone `rounding`, then, if rd_lambda > 0, rate-distortion rounding) under
    the model's own float32 predictions for the whole batch at once. The
    encoder also fits one coding adjustment per subband first; that is left
    out here, which changes few of the choices."""
    return encoder_quantise(model, bands, steps, steps, rounding, rd_lambda, batched=True,
                            dtype=torch.float32, adjust=False)


def rd_loss(model, rgb_uint8, step, bit_cost, rounding=0.5, rd_lambda=0.0, noise_seed=None):
    """Lossy stage 2: (bits per sub-pixel, RGB squared error per sub-pixel,
    their sum as the objective), for the lifting CNNs to learn; the context
    model and the denoiser stay as they are. The error is that of the decoded
    image, denoised where the codec denoises; it counts bits + error /
    (bit_cost * step**2), bit_cost being the squared RGB error one bit is
    worth at step 1 (train.loop: as the encoder's rate-distortion rounding
    weighs them). The quantised values are the encoder's (`rounding`,
    `rd_lambda`: see encoder_indices): the decoder reconstructs from them,
    with gradients passed straight through to the real-valued transform, and
    the context model predicts from them. The rate is that of the values plus
    uniform noise in (-1/2, 1/2) (seeded by `noise_seed`; None: the indices
    themselves, for validation): at an integer, most often 0, the discretised
    Laplace's bits have no slope, and with the indices alone only the
    distortion would pull the transform, towards larger coefficients."""
    bands = analyse(model, rgb_uint8, rounding=False, learn=True)
    steps = model.lossy_steps(step, bands[0].shape[1])
    with torch.no_grad():
        indices = [i.float() for i in
                   encoder_indices(model, [b.detach() for b in bands], steps, rounding, rd_lambda)]
    scaled = in_steps(bands, steps, comp_dim=1)
    values = [v + (i - v).detach() for v, i in zip(scaled, indices)]
    if noise_seed is None:
        coded = values
    else:
        g = torch.Generator(device=scaled[0].device).manual_seed(int(noise_seed))
        coded = [v + torch.rand(v.shape, generator=g, device=v.device) - 0.5 for v in scaled]
    bits = bits_per_subpixel(model, indices, steps=steps, coded=coded)
    ycc = decoded(model, values, steps)
    if model.denoiser_applies(step):
        ycc = model.denoiser(ycc, step)
    error = rgb_squared_error(ycc, rgb_uint8)
    return bits, error, bits + error / (bit_cost * step ** 2)


def decoded(model, values, steps):
    """The lossy reconstruction (B, n, H, W) of quantised subbands (B, n, h,
    w): dequantised, then the real-valued inverse transform."""
    batch, n = values[0].shape[:2]
    rec = dequantise(values, steps, comp_dim=1)
    ycc = model.transform.inverse([t.reshape(batch * n, 1, *t.shape[-2:]) for t in rec], 8,
                                  rounding=False)
    return ycc.reshape(batch, n, *ycc.shape[-2:])


def rgb_squared_error(ycc, rgb_uint8):
    """Mean squared error against the original (B, H, W, 3) of YCoCg planes
    (B, 3, H, W), converted by YCoCg-R's inverse without its floor shifts."""
    to_rgb = torch.tensor(YCOCG_LINEAR_INVERSE, dtype=ycc.dtype, device=ycc.device)
    target = rgb_uint8.to(ycc.device).permute(0, 3, 1, 2).to(ycc.dtype)
    return ((torch.einsum("rc,bchw->brhw", to_rgb, ycc) - target) ** 2).mean()


def denoiser_loss(model, rgb_uint8, step, rounding=0.5, rd_lambda=0.0):
    """RGB squared error of the denoised lossy reconstruction relative to the
    undenoised one (1 = no gain), so every step counts alike however large
    its errors. The transform and quantisation (`rounding` and `rd_lambda`:
    see encoder_indices) run as the codec runs them;
    the RGB conversion is YCoCg-R's inverse without its floor shifts."""
    bands = analyse(model, rgb_uint8, rounding=False)
    steps = model.lossy_steps(step, bands[0].shape[1])
    with torch.no_grad():
        ycc = decoded(model, encoder_indices(model, bands, steps, rounding, rd_lambda), steps).float()
    return (rgb_squared_error(model.denoiser(ycc, step), rgb_uint8)
            / rgb_squared_error(ycc, rgb_uint8).clamp_min(1e-6))
