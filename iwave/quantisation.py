"""Uniform scalar quantisation of subbands: coefficient / step, rounded,
where each (subband, component) has its own step. One place for the encoder,
the decoder and training.

`steps[b]` is a list with one step per component; `comp_dim` says which axis
of a subband tensor holds the components (0 in the codec, 1 in training)."""
import torch

MIN_STEP, MAX_STEP = 0.1, 1e6     # the steps a file may use (codec, --bpp's search)


def _shaped(steps_b, like, comp_dim):
    t = torch.as_tensor(steps_b, dtype=like.dtype, device=like.device)
    shape = [1] * like.dim()
    shape[comp_dim] = len(steps_b)
    return t.view(shape)


def in_steps(bands, steps, comp_dim=0):
    """Each subband divided by its steps: the real values quantise rounds
    (training passes gradients through them)."""
    return [b / _shaped(d, b, comp_dim) for b, d in zip(bands, steps)]


def quantise(bands, steps, comp_dim=0, rounding=0.5):
    """Quantisation indices. rounding 0.5 rounds to the nearest; below 0.5
    magnitudes are rounded down sooner (a dead zone: a wider zero bin and
    every index pulled towards zero), which costs a little distortion for
    fewer bits. The decoder does not need to know which was used."""
    if rounding == 0.5:
        return [torch.floor(b / _shaped(d, b, comp_dim) + 0.5) for b, d in zip(bands, steps)]
    # + 0.0 turns the -0.0 of small negative values into 0.0, as the decoder has it
    return [torch.sign(b) * torch.floor((b / _shaped(d, b, comp_dim)).abs() + rounding) + 0.0
            for b, d in zip(bands, steps)]


def dequantise(bands, steps, comp_dim=0, offsets=None):
    """Reconstruct q * step; `offsets` (same shapes as bands, in step units)
    move each value towards its predicted mean, to the centroid of its bin."""
    if offsets is None:
        return [b * _shaped(d, b, comp_dim) for b, d in zip(bands, steps)]
    return [(b + o) * _shaped(d, b, comp_dim) for b, d, o in zip(bands, steps, offsets)]
