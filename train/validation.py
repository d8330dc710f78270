"""Validation figures of a run: estimated bits of held-out crops, lossless
and at fixed lossy steps, and the denoiser's relative error."""
import numpy as np
import torch

from iwave.train.losses import bits_per_subpixel, denoiser_loss, encoder_indices, rd_loss

DENOISER_VAL_STEPS = (4.0, 16.0, 64.0)
LOSSY_VAL_STEPS = (8.0, 32.0, 128.0)


def validate(model, val_bands):
    model.eval()
    with torch.no_grad():
        lossless = bits_per_subpixel(model, val_bands).item()
    model.train()
    return lossless


def validate_lossy(model, val_lossy_bands, rounding, rd_lambda=0.0):
    """Mean estimated bits per sub-pixel of the validation crops quantised
    at LOSSY_VAL_STEPS (each step weighs alike in log-rate), as the lossy
    training batches are (train.losses.encoder_indices)."""
    model.eval()
    bits = []
    with torch.no_grad():
        for q in LOSSY_VAL_STEPS:
            steps = model.lossy_steps(q, 3)
            bands = encoder_indices(model, val_lossy_bands, steps, rounding, rd_lambda)
            bits.append(bits_per_subpixel(model, bands, steps=steps).item())
    model.train()
    return float(np.exp(np.mean(np.log(bits))))


def validate_rd(model, val_rgb, bit_cost, rounding, rd_lambda=0.0):
    """Mean rate-distortion objective of lossy stage 2 (train.losses.rd_loss)
    over the validation crops at LOSSY_VAL_STEPS."""
    model.eval()
    with torch.no_grad():
        rd = [rd_loss(model, val_rgb, q, bit_cost, rounding, rd_lambda)[2].item()
              for q in LOSSY_VAL_STEPS]
    model.train()
    return float(np.mean(rd))


def validate_denoiser(model, val_rgb, rounding=0.5, rd_lambda=0.0):
    """Mean relative RGB squared error of the denoised validation crops."""
    with torch.no_grad():
        return float(np.mean([denoiser_loss(model, val_rgb, q, rounding, rd_lambda).item()
                              for q in DENOISER_VAL_STEPS]))
