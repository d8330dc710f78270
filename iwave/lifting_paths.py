"""Lossless lifting paths chosen per component group (file format 13 on).

Every lossless model is trained on one linear lifting path (CDF 5/3 for the
shipped ones), but the image decides which predictor leaves the least
detail: a longer predict step (9/7-M's four taps) suits some photographs, a
lighter update step others. The encoder codes a lossless group with one of
a few paths and says which, as one integer at the start of the group's
first stream (after a palette tile's palette); the context model is the
same. Measured on held-out photographs (docs/effort.md): the best of these
four codes 0.8% smaller on average than 5/3 alone.

Path 0 is the model's own; the others are fixed (P1, U1) taps on the 2^-12
grid, so every path is exact and integer-to-integer."""
import numpy as np

from iwave.entropy import EntropyError
from iwave.entropy.tables import ZERO_INDEX, zeroth_order_bits

OWN = 0
PIXELS = 4      # format 20 on: no transform; the group is coded pixel by pixel (iwave.pixel_prediction)
# path -> the four steps' (near, far) taps; path 0 (None) is the model's own
PATHS = (None,
         ((-9 / 16, 1 / 16), (1 / 4, 0.0), (0.0, 0.0), (0.0, 0.0)),    # 9/7-M
         ((-1 / 2, 0.0), (3 / 16, 0.0), (0.0, 0.0), (0.0, 0.0)),       # 5/3, lighter update
         ((-9 / 16, 1 / 16), (3 / 16, 0.0), (0.0, 0.0), (0.0, 0.0)))   # 9/7-M, lighter update


def transform(model, path):
    """The model's transform on lossless path `path`."""
    return model.transform if path == OWN else model.transform.with_lossless_taps(PATHS[path])


def write(encoder, path):
    encoder.add(np.array([path], np.int64), np.zeros(1, np.int64), np.full(1, ZERO_INDEX))


def read(decoder, pixels=False):
    """The path a group's first stream names (PIXELS too if `pixels`); EntropyError if there is none
    such."""
    zero = np.zeros(1, np.int64)
    path = int(decoder.decode(zero, zero + ZERO_INDEX)[0])
    if not (0 <= path < len(PATHS) or pixels and path == PIXELS):
        raise EntropyError("bad lifting path")
    return path


def estimate(model, subbands):
    """(path, its subbands): the path whose subbands have the smallest
    zeroth-order entropy, a cheap stand-in for coding the group every way
    (on held-out photographs it gave up 0.05% against the best of full
    encodes). `subbands(transform)` gives the group's subbands under a
    transform."""
    best = None
    for path in range(len(PATHS)):
        bands = subbands(transform(model, path))
        bits = sum(zeroth_order_bits(b[i].numpy()) for b in bands for i in range(b.shape[0]))
        if best is None or bits < best[0]:
            best = bits, path, bands
    return best[1:]


def tried(model, paths, bands_on, pixels=True):
    """(path, subbands) of each way an encoder asking for `paths` ("own",
    "estimate" or "all") codes a group: PIXELS first (no subbands: None) if
    `pixels`, then the lifting paths; `bands_on(transform)` makes their subbands."""
    if pixels:
        yield PIXELS, None
    if paths == "estimate":
        yield estimate(model, bands_on)
        return
    for path in range(len(PATHS)) if paths == "all" else [OWN]:
        yield path, bands_on(transform(model, path))
