"""Context-coded index planes (file format 11): a plane of few distinct
indices (a palette tile's, or a grey component's through a sample map of up
to 256 values, such as a 1-bit image's) coded directly, pixel by pixel in
raster order, without the wavelet transform: each index is sent as its B
bits (K <= 2^B indices), most significant first, each bit under an adaptive
binary model whose context is the bits already sent of this index and the
indices of the nearest already coded neighbours (TEMPLATE, as many as keep
the context within 20 - B bits; outside the plane they are 0). As JBIG and
PNG-beating palette coders do, this wins on graphics and dithered 1-bit
pictures, where the wavelet's context model does not; the encoder keeps
whichever is smaller.

The model: per (context, node) counts n0, n1 (halved when their sum reaches
LIMIT), bit 1 has frequency floor((16 n1 + 1) 2^16 / (16 (n0 + n1) + 2))
clamped to 1 .. 2^16 - 1 out of 2^16, coded by the stream's rANS."""
import numba as nb
import numpy as np

from iwave.entropy import EntropyError
from iwave.entropy.range_coder import rans_advance, rans_peek
from iwave.entropy.tables import ZERO_INDEX

# (row, column) offsets of the neighbours, nearest first
TEMPLATE = np.array([(0, -1), (-1, 0), (-1, -1), (-1, 1), (0, -2), (-2, 0), (-1, -2), (-1, 2),
                     (-2, -1), (-2, 1), (0, -3), (-3, 0)], dtype=np.int64)
LIMIT = 1024
MAX_VALUES = 256          # more distinct indices: not coded this way
PROB_BITS = 16


def index_bits(count):
    """B: bits per index for `count` distinct indices (at least 1)."""
    return max(1, int(count - 1).bit_length())


CONTEXT_BITS = (20, 22, 16, 12)    # the context sizes the encoder tries (it sends which)
MIN_CONTEXT_BITS, MAX_CONTEXT_BITS = 8, 22
CONTEXT_SCALE = 24                 # its scale index above ZERO_INDEX


def _neighbours(bits, context_bits):
    """How many of each TEMPLATE neighbour's index bits (its top ones) the
    context takes: all B of the nearest, as long as context_bits - B last."""
    left, out = max(context_bits - bits, 0), []
    for _ in TEMPLATE:
        take = min(bits, left)
        out.append(take)
        left -= take
    return np.array(out, np.int64)


@nb.njit(cache=True)
def _walk(plane, bits, taken, template, decode, buf, pos, x):
    """Encode (decode=False: plane given; returns the bits' (start, freq)) or
    decode (plane filled) a plane under the adaptive model."""
    h, w = plane.shape
    nodes = 1 << bits
    ctx_count = 1 << taken.sum()
    n_nb = template.shape[0]
    n0 = np.zeros(ctx_count * nodes, np.int32)
    n1 = np.zeros(ctx_count * nodes, np.int32)
    total = 1 << PROB_BITS
    starts = np.empty(h * w * bits if not decode else 0, np.int64)
    freqs = np.empty(h * w * bits if not decode else 0, np.int64)
    k = 0
    ok = True
    for i in range(h):
        for j in range(w):
            ctx = 0
            for t in range(n_nb):
                if taken[t] == 0:
                    continue
                y, xx = i + template[t, 0], j + template[t, 1]
                v = 0
                if y >= 0 and 0 <= xx < w:
                    v = plane[y, xx] >> (bits - taken[t])
                ctx = (ctx << taken[t]) | v
            node = 1
            value = plane[i, j] if not decode else 0
            for b in range(bits - 1, -1, -1):
                c = ctx * nodes + node
                a0, a1 = n0[c], n1[c]
                f1 = ((16 * a1 + 1) << PROB_BITS) // (16 * (a0 + a1) + 2)
                f1 = min(max(f1, 1), total - 1)
                if decode:
                    slot = rans_peek(x, PROB_BITS)
                    bit = 1 if slot < f1 else 0
                    if bit:
                        x, pos = rans_advance(buf, pos, x, 0, f1, PROB_BITS)
                    else:
                        x, pos = rans_advance(buf, pos, x, f1, total - f1, PROB_BITS)
                    value |= bit << b
                else:
                    bit = (value >> b) & 1
                    starts[k] = 0 if bit else f1
                    freqs[k] = f1 if bit else total - f1
                    k += 1
                if bit:
                    n1[c] += 1
                else:
                    n0[c] += 1
                if n0[c] + n1[c] >= LIMIT:
                    n0[c] = (n0[c] + 1) // 2
                    n1[c] = (n1[c] + 1) // 2
                node = node * 2 + bit
            if decode:
                plane[i, j] = value
        if decode and pos > buf.shape[0] + 8:
            ok = False
            break
    return starts, freqs, x, pos, ok


def _cost(freqs):
    return float(np.sum(PROB_BITS - np.log2(freqs)))


def _modelled(plane, bits, context_bits):
    """The (starts, frequencies) the adaptive model gives a plane's bits
    with contexts of `context_bits` (what write queues; _cost sums them)."""
    starts, freqs, _, _, _ = _walk(np.ascontiguousarray(plane, dtype=np.int64), bits,
                                   _neighbours(bits, context_bits), TEMPLATE, False,
                                   np.zeros(0, np.uint8), 0, np.uint64(0))
    return starts, freqs


SAMPLE_BANDS, SAMPLE_ROWS = 4, 32      # hopeless(): bands of rows spread over the plane
HOPELESS = 1.3                         # ... and how far above its rival an estimate may be


def hopeless(plane, count, rival_bytes):
    """Whether coding this (H, W) plane of indices 0 .. count-1 would, by an
    estimate from SAMPLE_BANDS bands of SAMPLE_ROWS rows spread over it
    (each coded from fresh counts, which mostly errs high: 1-10% above the
    whole plane's cost on five grey photographs, 23% on synthetic texture,
    31% below on a two-level picture), take more than HOPELESS times
    rival_bytes. A grey photograph has up to 256 values but
    is smaller through the wavelet, and coding its index plane in full only
    to find that out took about a quarter of its encode."""
    h = plane.shape[0]
    if h <= SAMPLE_BANDS * SAMPLE_ROWS * 2:
        return False
    bits = index_bits(count)
    cost = sum(_cost(_modelled(plane[y:y + SAMPLE_ROWS], bits, CONTEXT_BITS[0])[1])
               for y in np.linspace(0, h - SAMPLE_ROWS, SAMPLE_BANDS).astype(np.int64))
    return cost * h / (SAMPLE_BANDS * SAMPLE_ROWS) > HOPELESS * 8 * rival_bytes


def write(encoder, plane, count, rival_bytes=None):
    """Queue an (H, W) plane of indices 0 .. count-1 on a ValueEncoder: its
    context size (whichever of CONTEXT_BITS codes it smallest), then the
    indices. rival_bytes: the size of the coding this one competes with; if
    the first context size tried is far above it, the others are not tried."""
    bits, plane = index_bits(count), np.ascontiguousarray(plane, dtype=np.int64)
    best = None
    for c in CONTEXT_BITS:
        if best is not None and rival_bytes is not None and best[0] > 1.25 * 8 * rival_bytes:
            break
        starts, freqs = _modelled(plane, bits, c)
        if best is None or _cost(freqs) < best[0]:
            best = (_cost(freqs), c, starts, freqs)
    _, c, starts, freqs = best
    encoder.add(np.array([c]), np.zeros(1, np.int64), np.array([ZERO_INDEX + CONTEXT_SCALE]))
    encoder.add_ops(starts, freqs, np.full_like(starts, PROB_BITS))


def _decode(buf, pos, x, plane, bits, taken):
    _, _, x, pos, ok = _walk(plane, bits, taken, TEMPLATE, True, buf, pos, x)
    return x, pos, plane, ok and pos <= buf.shape[0]


def read(decoder, height, width, count):
    """The (H, W) int64 plane of indices a stream continues with (an index
    beyond count-1 is left for the caller to refuse); EntropyError if its
    context size is out of range."""
    c = int(decoder.decode(np.zeros(1, np.int64), np.array([ZERO_INDEX + CONTEXT_SCALE]))[0])
    if not MIN_CONTEXT_BITS <= c <= MAX_CONTEXT_BITS:
        raise EntropyError("index context size out of range")
    plane = np.zeros((height, width), np.int64)
    bits = index_bits(count)
    return decoder.decode_with(_decode, plane, bits, _neighbours(bits, c))
