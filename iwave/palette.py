"""Palettes (file format 11): a lossless 8-bit RGB or RGBA tile with at most
256 distinct pixels may be coded as one plane of indices into the list of
its colours (its palette), the list sent at the start of the index plane's
stream. The index plane is coded as an 8-bit grey component (sample map
included), and the tile's other colour and alpha chunks are empty: an empty
second chunk is what marks a palette tile, so files without palettes are
unchanged. The encoder keeps whichever coding is smaller (iwave.encoder).

The palette is sent as its length less one, a scale, then entry by entry
each component's difference from the previous entry's (the first entry's
from 0), at that scale. The encoder orders the palette so that the index
plane is smooth (ORDERS); the decoder only reads the order it is sent."""
import numpy as np

from iwave.entropy import EntropyError
from iwave.entropy.tables import ZERO_INDEX

MAX_COLOURS = 256
COUNT_SCALE, SCALE_SCALE = 42, 24      # scale indices (6 per octave) above ZERO_INDEX
DELTA_SCALE_MAX = 60
ORDERS = ("luma", "first")             # tried in turn; the smallest file is kept


def _keys(pixels):
    """(H, W, C) uint8 pixels -> (H, W) int64 keys, one per distinct pixel."""
    key = np.zeros(pixels.shape[:2], np.int64)
    for c in range(pixels.shape[2]):
        key = key << 8 | pixels[:, :, c].astype(np.int64)
    return key


def _unkey(keys, channels):
    return np.stack([(keys >> 8 * (channels - 1 - c)) & 255 for c in range(channels)], -1)


def candidate(pixels):
    """The distinct colours ((K, C) int64, in key order) of an 8-bit RGB(A)
    tile if there are at most MAX_COLOURS, else None."""
    keys = _keys(pixels).reshape(-1)
    # a photo shows more colours than a palette holds in its first few
    # thousand pixels: no sort of every pixel for it
    if len(np.unique(keys[:4096])) > MAX_COLOURS:
        return None
    keys = np.unique(keys)
    if len(keys) > MAX_COLOURS:
        return None
    return _unkey(keys, pixels.shape[2])


def ordered(colours, pixels, order):
    """The palette `colours` (from candidate) in one of ORDERS: "luma" by
    luminance (then alpha), "first" by first occurrence in raster order."""
    if order == "luma":
        c = colours.astype(np.int64)
        luma = 299 * c[:, 0] + 587 * c[:, 1] + 114 * c[:, 2]
        alpha = c[:, 3] if c.shape[1] == 4 else np.zeros_like(luma)
        return colours[np.lexsort((alpha, luma))]
    if order == "first":
        keys = _keys(pixels).reshape(-1)
        _, first = np.unique(keys, return_index=True)
        return _unkey(keys[np.sort(first)], pixels.shape[2])
    raise ValueError(f"unknown palette order {order}")


def to_indices(pixels, palette):
    """(H, W) int64 indices of each pixel in `palette` (which holds them all)."""
    keys = _keys(palette[None].astype(np.uint8))[0]
    order = np.argsort(keys)
    return order[np.searchsorted(keys[order], _keys(pixels))].astype(np.int64)


def _delta_scale(deltas):
    mean = float(np.mean(np.abs(deltas))) if deltas.size else 0.0
    return int(np.clip(round(6 * np.log2(mean + 1)), 0, DELTA_SCALE_MAX))


def write(encoder, palette):
    """Queue a palette ((K, C) values 0..255) on a ValueEncoder."""
    p = np.asarray(palette, dtype=np.int64)
    deltas = np.diff(np.concatenate([np.zeros((1, p.shape[1]), np.int64), p]), axis=0).reshape(-1)
    scale = _delta_scale(deltas)
    head = np.array([len(p) - 1, scale], dtype=np.int64)
    encoder.add(head, np.zeros_like(head), ZERO_INDEX + np.array([COUNT_SCALE, SCALE_SCALE]))
    encoder.add(deltas, np.zeros_like(deltas), np.full_like(deltas, ZERO_INDEX + scale))


def read(decoder, channels):
    """The palette ((K, C) int64) a palette tile's stream starts with;
    EntropyError if it is malformed (a size or value out of range, or a
    colour listed twice)."""
    zeros = np.zeros(2, np.int64)
    count, scale = (int(v) for v in decoder.decode(zeros, ZERO_INDEX + np.array([COUNT_SCALE,
                                                                                    SCALE_SCALE])))
    count += 1
    if not 1 <= count <= MAX_COLOURS or not 0 <= scale <= DELTA_SCALE_MAX:
        raise EntropyError("palette size out of range")
    n = count * channels
    deltas = decoder.decode(np.zeros(n, np.int64), np.full(n, ZERO_INDEX + scale, np.int64))
    palette = np.cumsum(deltas.reshape(count, channels), axis=0)
    if palette.min() < 0 or palette.max() > 255:
        raise EntropyError("palette colour out of range")
    if len(np.unique(_keys(palette[None].astype(np.uint8)))) != count:
        raise EntropyError("palette lists a colour twice")
    return palette


def colours_of(indices, palette):
    """(H, W, C) uint8 pixels of decoded indices; EntropyError if one is
    outside the palette."""
    if indices.size and (indices.min() < 0 or indices.max() >= len(palette)):
        raise EntropyError("palette index outside the palette")
    return palette[indices].astype(np.uint8)
