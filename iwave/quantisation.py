"""Uniform scalar quantisation of subbands: coefficient / step, rounded,
where each (subband, component) has its own step. One place for the encoder,
the decoder and training.

`steps[b]` is a list with one step per component; `comp_dim` says which axis
of a subband tensor holds the components (0 in the codec, 1 in training)."""
import torch


def _shaped(steps_b, like, comp_dim):
    t = torch.as_tensor(steps_b, dtype=like.dtype, device=like.device)
    shape = [1] * like.dim()
    shape[comp_dim] = len(steps_b)
    return t.view(shape)


def quantise(bands, steps, comp_dim=0):
    return [torch.floor(b / _shaped(d, b, comp_dim) + 0.5) for b, d in zip(bands, steps)]


def dequantise(bands, steps, comp_dim=0, offsets=None):
    """Reconstruct q * step; `offsets` (same shapes as bands, in step units)
    move each value towards its predicted mean, to the centroid of its bin."""
    if offsets is None:
        return [b * _shaped(d, b, comp_dim) for b, d in zip(bands, steps)]
    return [(b + o) * _shaped(d, b, comp_dim) for b, d, o in zip(bands, steps, offsets)]
