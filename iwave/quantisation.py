"""Uniform scalar quantisation of subbands: coefficient / (step * w_b), rounded.
One place for the encoder, the decoder and training."""
import torch


def band_steps(band_weights, step):
    """Each subband's quantisation step: the user's step times its weight."""
    return [step * w for w in band_weights]


def quantise(bands, steps):
    return [torch.floor(b / d + 0.5) for b, d in zip(bands, steps)]


def dequantise(bands, steps):
    return [b * d for b, d in zip(bands, steps)]
