"""Direction-adaptive lifting of a lossy stream's finest levels (file format
17 on), the decoder's side: the direction maps' blocks and syntax (the
lifting along them is LiftingTransform's). The encoder's choice is
iwave.directions_fit.

On each of the finest LEVELS levels a lossy colour group may lift its
columns first and along a direction, one per block of BLOCK >> level
samples of the level's grid (BLOCK pixels of the image either way): every
lifting step of a block predicts (or updates) a row from the rows above and
below at x - d and x + d, d whole pixels from -MAX_SHIFT to MAX_SHIFT
(clamped at the edges), as the direction-adaptive wavelets of Chang and
Girod and of Ding et al. do; then the rows lift as usual. Where an edge
runs diagonally that leaves the high band nearly empty. d = 0 is the
separable transform (real-valued, its order does not matter), and a stream
without directions is coded and decoded exactly as before. A whole-pixel
shift moves which samples are read, so it costs no multiply.

Syntax, at the start of the group's first stream (docs/bitstream.md): a
flag (0: no directions); if 1, per level, finest first, a scale offset S
(|S| <= SCALE_MAX) and the blocks' directions in raster order, each coded
around 0 with the scale index ZERO_INDEX + S."""
import numpy as np

from iwave.entropy import EntropyError
from iwave.entropy.tables import ZERO_INDEX

LEVELS = 2            # the finest levels that may lift along directions
BLOCK = 32            # pixels of the image per block side, on every level
MAX_SHIFT = 2         # |d| in whole pixels per row
SCALE_MAX = 24
FLAG_SCALE, OFFSET_SCALE = -8, 12       # as scale index offsets from ZERO_INDEX


def block_shape(height, width, level):
    """(rows, columns) of blocks of a level whose input is height x width."""
    b = BLOCK >> level
    return -(-height // b), -(-width // b)


def expand(blocks, level, height, width):
    """A level's block directions -> one per sample of its height x width input."""
    b = BLOCK >> level
    return np.repeat(np.repeat(blocks, b, 0), b, 1)[:height, :width]


# -------------------------------------------------------------- the syntax
def side(maps, offsets):
    """The integers that code a group's direction maps (one (rows, cols)
    array per level, finest first; None: no directions) with these scale
    offsets (one per level), and the scale index each is coded with."""
    if maps is None:
        return np.zeros(1, np.int64), np.array([ZERO_INDEX + FLAG_SCALE], np.int64)
    values, scales = [1], [ZERO_INDEX + FLAG_SCALE]
    for blocks, s in zip(maps, offsets):
        v = np.asarray(blocks, np.int64).reshape(-1)
        values += [s] + v.tolist()
        scales += [ZERO_INDEX + OFFSET_SCALE] + [ZERO_INDEX + s] * len(v)
    return np.array(values, np.int64), np.array(scales, np.int64)


def write(encoder, maps, offsets=None):
    """Queue side's integers on a ValueEncoder."""
    values, scales = side(maps, offsets)
    encoder.add(values, np.zeros_like(values), scales)


def read(decoder, height, width):
    """What write queued, for a group of height x width samples: None or the
    block maps, finest level first; EntropyError if out of range."""
    zero = np.zeros(1, np.int64)
    flag = int(decoder.decode(zero, zero + ZERO_INDEX + FLAG_SCALE)[0])
    if flag == 0:
        return None
    if flag != 1:
        raise EntropyError("direction flag out of range")
    maps = []
    for level in range(LEVELS):
        s = int(decoder.decode(zero, zero + ZERO_INDEX + OFFSET_SCALE)[0])
        if abs(s) > SCALE_MAX:
            raise EntropyError("direction map scale out of range")
        shape = block_shape(height, width, level)
        n = shape[0] * shape[1]
        v = decoder.decode(np.zeros(n, np.int64), np.full(n, ZERO_INDEX + s, np.int64))
        if np.abs(v).max(initial=0) > MAX_SHIFT:
            raise EntropyError("direction out of range")
        maps.append(v.reshape(shape))
        height, width = (height + 1) // 2, (width + 1) // 2
    return maps
