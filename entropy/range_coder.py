"""Byte-oriented rANS (32-bit state, 2**23 lower bound) compiled with numba.

The coder sees only (start, freq, scale_bits) triples: `scale_bits` may vary
per symbol (table symbols use 16, raw bits use up to 16), so one stream carries
both modelled symbols and uniform payload bits. rANS is last-in-first-out:
the encoder is given all triples and runs backwards; the decoder then reads
them forwards, a batch at a time, keeping its state between batches.
"""
import numba as nb
import numpy as np

RANS_L = 1 << 23


@nb.njit(cache=True)
def rans_encode(start, freq, bits):
    n = start.shape[0]
    buf = np.empty(n * 3 + 8, dtype=np.uint8)
    pos = buf.shape[0]
    x = np.uint64(RANS_L)
    for i in range(n - 1, -1, -1):
        f = np.uint64(freq[i])
        sb = np.uint64(bits[i])
        x_max = ((np.uint64(RANS_L) >> sb) << np.uint64(8)) * f
        while x >= x_max:
            pos -= 1
            buf[pos] = np.uint8(x & np.uint64(0xFF))
            x >>= np.uint64(8)
        x = ((x // f) << sb) + (x % f) + np.uint64(start[i])
    for _ in range(4):                      # flush the state, most significant byte first
        pos -= 1
        buf[pos] = np.uint8(x & np.uint64(0xFF))
        x >>= np.uint64(8)
    return buf[pos:].copy()


@nb.njit(cache=True)
def rans_init(buf):
    """Read the initial decoder state. Returns (state, position)."""
    if buf.shape[0] < 4:
        return np.uint64(0), -1
    x = np.uint64(0)
    for i in range(4):
        x = (x << np.uint64(8)) | np.uint64(buf[i])
    return x, 4


@nb.njit(cache=True, inline="always")
def rans_peek(x, sb):
    return np.int64(x & ((np.uint64(1) << np.uint64(sb)) - np.uint64(1)))


@nb.njit(cache=True, inline="always")
def rans_advance(buf, pos, x, start, freq, sb):
    """Consume one symbol. Returns the new (state, position); reading past the
    end of the buffer feeds zeros and is reported by the caller via pos."""
    mask = (np.uint64(1) << np.uint64(sb)) - np.uint64(1)
    x = np.uint64(freq) * (x >> np.uint64(sb)) + (x & mask) - np.uint64(start)
    while x < np.uint64(RANS_L) and pos <= buf.shape[0] + 8:   # bounded on corrupt input
        b = np.uint64(0)
        if pos < buf.shape[0]:
            b = np.uint64(buf[pos])
        pos += 1
        x = (x << np.uint64(8)) | b
    return x, pos
