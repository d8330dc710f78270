"""The .iwv container: a CRC-protected header followed by CRC-protected chunks.
The layout is documented in docs/bitstream.md; keep the two in step."""
import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

from iwave import metadata as meta
from iwave.errors import IWaveError

MAGIC = b"IWAV"
# 22: ... with the earlier planes' samples in its taps, and their errors in the blend's;
# 21: ... with a local least-squares predictor in its blend (iwave.local_least_squares);
# 20: a lossless group may be coded pixel by pixel, without a wavelet (iwave.pixel_prediction);
# 19: ... as Y with Cb and Cr at half resolution (4:2:0 JPEGs);
# 18: a lossless colour group may be coded as the YCbCr planes it was decoded from (iwave.ycbcr);
# 17: a lossy group may lift its finest levels along directions (iwave.directions);
# 16: a stream's LL band may be coded sequentially (iwave.coarse_band);
# 15: a lossy stream's post filter may be one filter per class of samples (iwave.filter_classes);
# 14: each stream flags the subbands that are entirely zero (not coded, no plan);
# 13: sample-mapped components are coded at the fewest bits that hold their indices;
# 12: the header records the encoder's effort level (iwave.effort);
# 11: lossless 8-bit RGB(A) tiles may be coded as indices into a palette;
# 10: an optional metadata block (ICC profile, EXIF, XMP);
# 9: lossless streams start with a sample map flag (histogram packing);
# 8: records an explicit single-channel axis; 7: compact header, lossy streams start with a
# post filter; 6: plans coded more compactly; 5: plans mix in neighbours; 4: coding plans;
# 3: one coding adjustment per subband; 2 added tiles (iwave.decoder.STREAM_FORMATS)
VERSION = 22
MODE_LOSSLESS, MODE_LOSSY = 0, 1
COLOUR_NONE, COLOUR_YCOCG_R = 0, 1
MAX_CHUNKS = 16_000          # (before version 7 the chunk-length table had to fit a 16-bit length)
MIN_TILE, MAX_TILE = 64, 4096      # a 4096^2 tile needs about 8 GB to code
MAX_OVERLAP = 256
# refuse more: the decoded image (up to 1.6 GB) must fit; work memory is per tile
DEFAULT_MAX_PIXELS = 200_000_000

# width, height, components, bit depth, colour, alpha, mode, levels, step,
# weights id (8 bytes), pixel CRC-32, tile side, tile overlap, number of chunks
_FIXED = struct.Struct("<IIBBBBBBd8sIIHI")
_FIXED_V1 = struct.Struct("<IIBBBBBBd8sIB")     # version 1: no tiles, at most 8 chunks


@dataclass
class Header:
    width: int
    height: int
    components: int          # total, alpha included
    bit_depth: int           # 8 or 16
    colour: int              # COLOUR_NONE or COLOUR_YCOCG_R
    has_alpha: bool
    mode: int                # MODE_LOSSLESS or MODE_LOSSY
    levels: int
    step: float
    weights_id: str          # 16 hex digits
    pixel_crc: int = 0       # CRC-32 of the original pixels (lossless only)
    tile: int = 0            # tiles are tile x tile pixels (the last row/column smaller)
    overlap: int = 0         # pixels each tile extends into its neighbours (lossy)
    chunk_lengths: list = field(default_factory=list)
    version: int = VERSION   # of the file read (written files are always VERSION)
    channel_axis: bool = False   # one component given as (H, W, 1), not (H, W) (version 8)
    metadata: dict = field(default_factory=dict)   # icc, exif, xmp -> bytes (version 10)
    effort: int = 7          # the encoder's effort level, 1-9 (version 12; read from older files: 0)

    def tiles(self):
        """(y0, y1, x0, x1) of each tile's own pixels, row by row."""
        return tile_grid(self.height, self.width, self.tile)

    def to_dict(self):
        return {"width": self.width, "height": self.height, "components": self.components,
                "bit_depth": self.bit_depth,
                "colour": "YCoCg-R" if self.colour == COLOUR_YCOCG_R else "none",
                "alpha": bool(self.has_alpha),
                "mode": "lossless" if self.mode == MODE_LOSSLESS else "lossy",
                "levels": self.levels, "step": self.step, "weights_id": self.weights_id,
                "pixel_crc32": f"{self.pixel_crc:08x}", "tile": self.tile, "overlap": self.overlap,
                "chunks": list(self.chunk_lengths), "version": self.version,
                "effort": self.effort or None,
                "shape": [self.height, self.width] + ([self.components] if self.components > 1
                                                      or self.channel_axis else [])}


def tile_grid(height, width, tile):
    return [(y, min(y + tile, height), x, min(x + tile, width))
            for y in range(0, height, tile) for x in range(0, width, tile)]


def stored_step(step: float) -> float:
    """The step as a file stores it (a float32, since version 7): the
    encoder quantises with exactly the step the decoder reads."""
    return float(np.float32(step))


def _varint(v):
    """Unsigned LEB128: 7 bits a byte, low bits first."""
    out = bytearray()
    while True:
        out.append((v & 0x7F) | (0x80 if v > 0x7F else 0))
        v >>= 7
        if not v:
            return bytes(out)


class _Fields:
    """Reads a version-7 header's fields in order; running past the end of
    the data means the file is truncated."""

    def __init__(self, data, pos):
        self.data, self.pos = data, pos

    def take(self, n):
        if self.pos + n > len(self.data):
            raise IWaveError("file is truncated (incomplete header)")
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def varint(self):
        v = 0
        for shift in range(0, 35, 7):
            b = self.take(1)[0]
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
        raise IWaveError("file is corrupt (bad number in header)")


def write(header: Header, chunks) -> bytes:
    """The bytes of a file of the current version (older versions are only
    read; tests/vectors/ holds files of each)."""
    header.chunk_lengths = [len(c) for c in chunks]
    lossy = header.mode == MODE_LOSSY
    # what this layout cannot hold is the caller's mistake, not a file to write
    if header.bit_depth not in (8, 16) or not 1 <= header.components <= 4 or \
            header.colour not in (COLOUR_NONE, COLOUR_YCOCG_R) or not 0 <= header.levels <= 255:
        raise ValueError("header fields out of range")
    if header.mode not in (MODE_LOSSLESS, MODE_LOSSY) or (not lossy and header.step != 1.0):
        raise ValueError("bad mode, or a lossless step other than 1")
    if not lossy and header.overlap:
        raise ValueError("lossless files have no tile overlap")
    if header.channel_axis and header.components != 1:
        raise ValueError("only a single component has an optional channel axis")
    if lossy and stored_step(header.step) != header.step:
        raise ValueError("a lossy step must be one stored_step gives (a float32)")
    if not 1 <= header.effort <= 9:
        raise ValueError("effort must be from 1 to 9")
    header.metadata = meta.checked(header.metadata)
    return pack(header, chunks)


def pack(header: Header, chunks) -> bytes:
    """The bytes of a header and its chunks, unchecked (tests write hostile
    files with it); `write` is the checked way."""
    lossy = header.mode == MODE_LOSSY
    layout = (((header.components - 1) & 3) | (header.bit_depth == 16) << 2
              | (header.colour == COLOUR_YCOCG_R) << 3 | bool(header.has_alpha) << 4 | lossy << 5
              | bool(header.channel_axis) << 6 | bool(header.metadata) << 7)
    head = [MAGIC, bytes([VERSION]), _varint(header.width), _varint(header.height),
            bytes([layout, header.levels & 255, header.effort & 255])]
    head.append(struct.pack("<f", header.step) if lossy else b"")
    head.append(bytes.fromhex(header.weights_id))
    head.append(b"" if lossy else struct.pack("<I", header.pixel_crc))
    head += [_varint(header.tile), _varint(header.overlap) if lossy else b"", _varint(len(chunks))]
    head += [_varint(n) for n in header.chunk_lengths]
    block = meta.pack(header.metadata) if header.metadata else b""
    if block:
        head.append(_varint(len(block)))
        block += struct.pack("<I", zlib.crc32(block))
    head = b"".join(head)
    data = b"".join(chunks)
    return b"".join([head, struct.pack("<I", zlib.crc32(head)), block, data,
                     struct.pack("<I", zlib.crc32(data))])


def metadata_bytes(metadata) -> int:
    """How many bytes a (checked) metadata dict adds to a file."""
    n = len(meta.pack(metadata)) if metadata else 0
    return n and len(_varint(n)) + n + 4


def _read_compact(data, max_pixels):
    f = _Fields(data, 5)
    width, height = f.varint(), f.varint()
    version = data[4]
    layout, levels = f.take(2)
    effort = f.take(1)[0] if version >= 12 else 0
    if version >= 12 and not 1 <= effort <= 9:
        raise IWaveError("file is corrupt (bad effort level)")
    if layout >> (8 if version >= 10 else 7 if version >= 8 else 6):
        raise IWaveError("file is corrupt (bad component layout)")
    lossy = bool(layout >> 5 & 1)
    step = struct.unpack("<f", f.take(4))[0] if lossy else 1.0
    weights_id = f.take(8).hex()
    pixel_crc = 0 if lossy else struct.unpack("<I", f.take(4))[0]
    tile = f.varint()
    overlap = f.varint() if lossy else 0
    n_chunks = f.varint()
    if not 1 <= n_chunks <= MAX_CHUNKS:
        raise IWaveError("file is corrupt (bad chunk count)")
    lengths = [f.varint() for _ in range(n_chunks)]
    meta_length = f.varint() if layout >> 7 else 0
    if layout >> 7 and not 0 < meta_length <= meta.MAX_STORED:
        raise IWaveError("file is corrupt (bad metadata length)")
    (crc,) = struct.unpack("<I", f.take(4))
    if crc != zlib.crc32(data[:f.pos - 4]):
        raise IWaveError("file is corrupt (header checksum mismatch)")
    h = Header(width=width, height=height, components=(layout & 3) + 1,
               bit_depth=16 if layout >> 2 & 1 else 8, colour=layout >> 3 & 1,
               has_alpha=bool(layout >> 4 & 1), mode=int(lossy), levels=levels, step=step,
               weights_id=weights_id, pixel_crc=pixel_crc, tile=tile, overlap=overlap,
               chunk_lengths=lengths, version=version,
               channel_axis=bool(layout >> 6 & 1), effort=effort)
    _check(h, max_pixels)
    _check_plausible(h)
    if meta_length:
        block = data[f.pos:f.pos + meta_length]
        if f.pos + meta_length + 4 > len(data):
            raise IWaveError("file is truncated (metadata missing)")
        if struct.unpack_from("<I", data, f.pos + meta_length)[0] != zlib.crc32(block):
            raise IWaveError("file is corrupt (metadata checksum mismatch)")
        h.metadata = meta.unpack(block)
        f.pos += meta_length + 4
    end = f.pos + sum(lengths)
    if end + 4 > len(data):
        raise IWaveError("file is truncated (chunk data missing)")
    if end + 4 < len(data):
        raise IWaveError("file is corrupt (unexpected data after the last chunk)")
    (crc,) = struct.unpack_from("<I", data, end)
    if crc != zlib.crc32(data[f.pos:end]):
        raise IWaveError("file is corrupt (image data checksum mismatch)")
    starts = np.cumsum([f.pos] + lengths).tolist()
    return h, [data[a:b] for a, b in zip(starts, starts[1:])]


def read(data: bytes, max_pixels=DEFAULT_MAX_PIXELS):
    """Parse and verify a file. Returns (Header, [chunk bytes])."""
    if len(data) < 7 or data[:4] != MAGIC:
        raise IWaveError("not an iwave file (bad magic number)")
    version = data[4]
    if not 1 <= version <= VERSION:
        raise IWaveError(f"unsupported iwave file version {version} (this build reads versions "
                         f"1 to {VERSION}; a newer iwave may read it)")
    if version >= 7:
        return _read_compact(data, max_pixels)
    (body_len,) = struct.unpack_from("<H", data, 5)
    end = 7 + body_len
    if len(data) < end + 4:
        raise IWaveError("file is truncated (incomplete header)")
    (crc,) = struct.unpack_from("<I", data, end)
    if crc != zlib.crc32(data[:end]):
        raise IWaveError("file is corrupt (header checksum mismatch)")
    fixed = _FIXED_V1 if version == 1 else _FIXED
    if body_len < fixed.size:
        raise IWaveError("file is corrupt (header too short)")
    f = fixed.unpack_from(data, 7)
    n_chunks = f[-1]
    if not 1 <= n_chunks <= MAX_CHUNKS or body_len != fixed.size + 4 * n_chunks:
        raise IWaveError("file is corrupt (bad chunk count)")
    lengths = list(struct.unpack_from(f"<{n_chunks}I", data, 7 + fixed.size))
    tile, overlap = (f[11], f[12]) if version > 1 else (max(f[0], f[1], MIN_TILE), 0)
    h = Header(width=f[0], height=f[1], components=f[2], bit_depth=f[3], colour=f[4],
               has_alpha=bool(f[5]), mode=f[6], levels=f[7], step=f[8],
               weights_id=f[9].hex(), pixel_crc=f[10], tile=tile, overlap=overlap,
               chunk_lengths=lengths, version=version)
    _check(h, max_pixels, version)
    _check_plausible(h)
    chunks, pos = [], end + 4
    for i, n in enumerate(lengths):
        if pos + n + 4 > len(data):
            raise IWaveError("file is truncated (chunk data missing)")
        c = data[pos:pos + n]
        (crc,) = struct.unpack_from("<I", data, pos + n)
        if crc != zlib.crc32(c):
            raise IWaveError(f"file is corrupt (checksum mismatch in chunk {i})")
        chunks.append(c)
        pos += n + 4
    if pos != len(data):
        raise IWaveError("file is corrupt (unexpected data after the last chunk)")
    return h, chunks


def read_metadata(data) -> dict:
    """The metadata of an .iwv file (its bytes or path) as a dict {"icc",
    "exif", "xmp" -> bytes} (empty if it has none; files before version 10
    have none), after the checks `read` makes; decodes nothing."""
    import os
    if isinstance(data, (str, os.PathLike)):
        if not os.path.isfile(data):
            raise IWaveError(f"{data}: no such file")
        with open(data, "rb") as f:
            data = f.read()
    elif not isinstance(data, (bytes, bytearray, memoryview)):
        raise IWaveError(f"read_metadata takes the bytes of an .iwv file or its path, "
                         f"not {type(data).__name__}")
    return read(bytes(data), max_pixels=float("inf"))[0].metadata


def _check_plausible(h: Header):
    """Each chunk codes width x height values, and no value costs fewer than
    entropy.min_bits_per_value() bits: refuse headers whose chunks are far too
    short for the size they claim, before any work or allocation."""
    from iwave.entropy import min_bits_per_value
    per_tile = len(h.chunk_lengths) // max(len(h.tiles()), 1)
    # (version 11: a palette tile's chunks but the first are empty; the decoder checks their pattern)
    empty_ok = h.version >= 11 and h.mode == MODE_LOSSLESS and h.components >= 3
    for i, (y0, y1, x0, x1) in enumerate(h.tiles()):
        area = (min(y1 + h.overlap, h.height) - max(y0 - h.overlap, 0)) * \
               (min(x1 + h.overlap, h.width) - max(x0 - h.overlap, 0))
        need_bits = area * min_bits_per_value() / 2 - 64     # 2x safety margin
        if any(n * 8 < need_bits and not (n == 0 and empty_ok)
               for n in h.chunk_lengths[i * per_tile:(i + 1) * per_tile]):
            raise IWaveError(f"file is corrupt (its data is too short for a {h.width}x{h.height} image)")


def _check(h: Header, max_pixels, version=VERSION):
    if h.width < 1 or h.height < 1:
        raise IWaveError("file is corrupt (zero image size)")
    if h.width * h.height > max_pixels:
        raise IWaveError(f"image is {h.width}x{h.height}, more than the limit of "
                         f"{max_pixels} pixels (raise it with --max-pixels)")
    if h.bit_depth not in (8, 16):
        raise IWaveError(f"file is corrupt (bit depth {h.bit_depth})")
    if not 1 <= h.components <= 4 or h.colour not in (COLOUR_NONE, COLOUR_YCOCG_R) or \
            (h.channel_axis and h.components != 1):
        raise IWaveError("file is corrupt (bad component layout)")
    colour = h.components - int(h.has_alpha)
    if colour not in (1, 3) or (h.colour == COLOUR_YCOCG_R) != (colour == 3):
        raise IWaveError("file is corrupt (bad component layout)")
    if h.mode not in (MODE_LOSSLESS, MODE_LOSSY) or not 0 <= h.levels <= 8:
        raise IWaveError("file is corrupt (bad mode or levels)")
    if not (h.step >= 0.1 and h.step <= 1e6) or (h.mode == MODE_LOSSLESS and h.step != 1.0):
        raise IWaveError("file is corrupt (bad quantisation step)")
    largest = MAX_TILE if version > 1 else h.tile      # version 1: the whole image is one tile
    if not MIN_TILE <= h.tile <= largest or h.overlap > MAX_OVERLAP or \
            (h.mode == MODE_LOSSLESS and h.overlap):
        raise IWaveError("file is corrupt (bad tile size or overlap)")
    n_tiles = -(-h.width // h.tile) * -(-h.height // h.tile)
    if len(h.chunk_lengths) != n_tiles * h.components:
        raise IWaveError("file is corrupt (wrong number of chunks for its tiles)")
