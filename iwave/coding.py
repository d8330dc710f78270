"""What the encoder and the decoder compute alike, so that the range coder
sees the same parameters on both sides: the coded neighbours, residuals and
activities that the coding plans read, the plans' integer means and scale
indices, the lossy reconstruction (the post filter is fitted to it and
applied after it), the tile geometry and the pixel checksum."""
import zlib

import numpy as np
import torch

from iwave.entropy.context_model import PHASES
from iwave.quantisation import dequantise


def pixel_crc(a: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes())


def tile_window(core, overlap, h, w):
    """The area (y0, y1, x0, x1) a tile is coded over, its own pixels `core`
    extended by `overlap` within the image, and the slices of its own pixels
    in that area (what the decoder keeps)."""
    y0, y1, x0, x1 = (max(core[0] - overlap, 0), min(core[1] + overlap, h),
                      max(core[2] - overlap, 0), min(core[3] + overlap, w))
    return (y0, y1, x0, x1), (slice(core[0] - y0, core[1] - y0), slice(core[2] - x0, core[3] - x0))


def planned_parameters(plan, p, mean, log2_scale, resolution, references=None, part_references=None,
                       activities=None):
    """The coder's integer means and scale indices of phase p of a subband
    under its coding plan (references as for coding_plan, of phase p)."""
    m, k = plan.coder_parameters(p, mean.detach().double().cpu().numpy(),
                                 log2_scale.detach().double().cpu().numpy(), resolution,
                                 references, part_references, activities)
    return torch.from_numpy(m).view(mean.shape), torch.from_numpy(k).view(mean.shape)


# For each phase, its coded neighbours in earlier phases of the same subband,
# as (phase, row offset, column offset) on the phase grids
NEIGHBOURS = {1: ((0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1)),
               2: ((0, 0, 0), (0, 0, 1), (1, -1, 0), (1, 0, 0)),
               3: ((0, 0, 0), (0, 1, 0), (1, 0, -1), (1, 0, 0), (2, 0, 0), (2, 1, 0), (2, 0, -1),
                   (2, 1, -1))}
PART_REFERENCES = [len(NEIGHBOURS.get(p, ())) for p in range(len(PHASES))]


def residual(v, mean):
    """A coded value less its rounded predicted mean, on its phase grid."""
    return np.asarray(v, dtype=np.int64).reshape(mean.shape[-2:]) - \
        torch.floor(mean + 0.5).to(torch.int64).numpy().reshape(mean.shape[-2:])


def neighbour_residuals(residuals, p, shape):
    """(n, h*w) residuals of phase p's coded neighbours (zero outside)."""
    h, w = shape
    taps = NEIGHBOURS.get(p, ())
    out = np.zeros((len(taps), h, w), np.int64)
    for t, (q, dy, dx) in enumerate(taps):
        r = residuals[q]
        y0, y1 = max(0, -dy), min(h, r.shape[0] - dy)
        x0, x1 = max(0, -dx), min(w, r.shape[1] - dx)
        if y1 > y0 and x1 > x0:
            out[t, y0:y1, x0:x1] = r[y0 + dy:y1 + dy, x0 + dx:x1 + dx]
    return out.reshape(len(taps), h * w)


ACTIVITIES = 3     # neighbours, earlier components, earlier subbands of the level


def _on_grid(r, shape):
    """r cropped or zero-padded to shape (subbands of a level can differ by one)."""
    out = np.zeros(shape, np.int64)
    h, w = min(shape[0], r.shape[0]), min(shape[1], r.shape[1])
    out[:h, :w] = r[:h, :w]
    return out


def activities_of(residuals, c, b, p, shape, neighbours):
    """(ACTIVITIES, h*w) magnitudes of coded residuals near each value of
    phase p (grid `shape`) of subband b, component c, from the residual grids
    residuals[c][b][p] coded before it: summed over its neighbours
    (`neighbours`, from neighbour_residuals), over the earlier components at
    the same position, and over the earlier subbands of the same level at
    the same position."""
    first = b - (b - 1) % 3 if b else b          # the level's first subband (LL is alone)
    zero = np.zeros(shape, np.int64)
    return np.stack([np.abs(neighbours).sum(0),
                     sum((np.abs(residuals[j][b][p]) for j in range(c)), zero).reshape(-1),
                     sum((np.abs(_on_grid(residuals[c][q][p], shape)) for q in range(first, b)),
                         zero).reshape(-1)])


def references_of(decoded, c, b, p):
    """The values of components before c at phase p of subband b, (c, n)."""
    return np.stack([decoded[j][b][p].reshape(-1) for j in range(c)]) if c else None


def plan_inputs(values, residuals, c, b, p, shape):
    """What the coding plan of phase p (grid `shape`) of subband b, component
    c reads from what is coded before it (values[c][b][p] and their
    residuals): the earlier components' values (None for the first), its
    neighbours' residuals and its activities, as Plan.arrays takes them."""
    neighbours = neighbour_residuals(residuals[c][b], p, shape)
    return (references_of(values, c, b, p), neighbours,
            activities_of(residuals, c, b, p, shape, neighbours))


def reconstruct(model, bands, step, offsets=None, directions=None):
    """The real-valued planes (n, 1, H, W) of one lossy component group's
    quantised bands: dequantised, inverse transformed (along the group's
    direction maps, if any) and, for colour at the steps the model's
    denoiser serves, denoised; what the post filter works on."""
    n = bands[0].shape[0]
    with torch.no_grad():
        x = model.transform.inverse(dequantise(bands, model.lossy_steps(step, n), offsets=offsets),
                                    8, rounding=False, directions=directions)
        if n == 3 and model.denoiser_applies(step):
            x = model.denoiser(x.transpose(0, 1), step).transpose(0, 1)
    return x
