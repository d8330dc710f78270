"""What an image file carries besides its pixels and iwave keeps: an ICC
colour profile, EXIF and XMP, as a dict {"icc": bytes, "exif": bytes,
"xmp": bytes} (any of the keys; none for an image without them).

- icc: the ICC profile as the profile itself (not PNG's compressed iCCP
  payload, not JPEG's APP2 segments);
- exif: the TIFF-structured EXIF data, starting with `II*\\0` or `MM\\0*`
  (without JPEG's `Exif\\0\\0` prefix);
- xmp: the XMP packet's bytes (UTF-8 text).

This module holds the checks and the record format of an .iwv file's
metadata block (docs/bitstream.md, "Metadata"); iwave.image_metadata reads
them from and writes them into image files. Nothing here loads torch."""
import struct
import zlib

from iwave.errors import IWaveError

KINDS = {"icc": 1, "exif": 2, "xmp": 3}         # a record's kind byte (bits 0-6)
NAMES = {"icc": "ICC profile", "exif": "EXIF", "xmp": "XMP"}
DEFLATED = 0x80                  # kind byte bit 7: the record's data is a zlib stream
MAX_BYTES = 16 << 20             # all records' data together, uncompressed
# a stored block is at most this long: records are deflated only where that makes them shorter
MAX_STORED = MAX_BYTES + 5 * len(KINDS)
EXIF_HEADERS = (b"II*\x00", b"MM\x00*")


def problem(kind, value):
    """What is wrong with one value (None if nothing): the checks both the
    writer and the reader make."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        return f"must be bytes, not {type(value).__name__}"
    value = bytes(value)
    if kind == "icc" and (len(value) < 132 or value[36:40] != b"acsp"):
        return "is not an ICC profile (no 'acsp' signature)"
    if kind == "exif" and value[:4] not in EXIF_HEADERS:
        return "does not start with a TIFF header (II*\\0 or MM\\0*)"
    return None


def checked(metadata, name="metadata"):
    """A metadata dict checked and copied (values as bytes, empty ones left
    out), or an IWaveError saying what is wrong."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise IWaveError(f"{name} must be a dict with keys from icc, exif, xmp")
    unknown = set(metadata) - set(KINDS)
    if unknown:
        raise IWaveError(f"{name}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                         "(known: icc, exif, xmp)")
    out = {}
    for kind in KINDS:
        value = metadata.get(kind)
        if value is None or (isinstance(value, (bytes, bytearray, memoryview)) and not len(value)):
            continue
        why = problem(kind, value)
        if why:
            raise IWaveError(f"{name}: {NAMES[kind]} {why}")
        out[kind] = bytes(value)
    total = sum(map(len, out.values()))
    if total > MAX_BYTES:
        raise IWaveError(f"{name} is {total} bytes, more than the limit of {MAX_BYTES} "
                         "(--strip, or strip=True, leaves it out)")
    return out


def pack(metadata) -> bytes:
    """The records of a (checked) metadata dict: per kind present, in the
    order of KINDS, its kind byte (bit 7 set if deflated), the stored data's
    length (uint32 LE) and the data, deflated (zlib) where that is shorter."""
    out = []
    for kind, code in KINDS.items():
        if kind in metadata:
            raw = metadata[kind]
            small = zlib.compress(raw, 9)
            data, flag = (small, DEFLATED) if len(small) < len(raw) else (raw, 0)
            out.append(struct.pack("<BI", code | flag, len(data)) + data)
    return b"".join(out)


def unpack(block: bytes) -> dict:
    """A metadata dict from its records; anything malformed is an IWaveError."""
    def corrupt(why):
        return IWaveError(f"file is corrupt (metadata: {why})")
    names = {code: kind for kind, code in KINDS.items()}
    out, pos, last, total = {}, 0, 0, 0
    while pos < len(block):
        if pos + 5 > len(block):
            raise corrupt("truncated record")
        code, n = struct.unpack_from("<BI", block, pos)
        kind = names.get(code & ~DEFLATED)
        if kind is None:
            raise corrupt(f"unknown kind {code & ~DEFLATED}")
        if code & ~DEFLATED <= last:
            raise corrupt("records repeated or out of order")
        last = code & ~DEFLATED
        data = block[pos + 5:pos + 5 + n]
        if len(data) != n or not n:
            raise corrupt("truncated or empty record")
        pos += 5 + n
        if code & DEFLATED:
            inflate = zlib.decompressobj()
            try:
                data = inflate.decompress(data, MAX_BYTES - total + 1)
            except zlib.error:
                raise corrupt(f"{NAMES[kind]} does not inflate") from None
            if not inflate.eof or inflate.unused_data or not data or total + len(data) > MAX_BYTES:
                raise corrupt(f"{NAMES[kind]} does not inflate to at most {MAX_BYTES} bytes")
        total += len(data)
        why = problem(kind, data)
        if why:
            raise corrupt(f"{NAMES[kind]} {why}")
        out[kind] = data
    return out


def icc_description(icc: bytes):
    """The profile description ('desc' tag) of an ICC profile, or None: ICC
    v2's textDescriptionType (ASCII) or v4's multiLocalizedUnicodeType
    (its first record, UTF-16BE)."""
    try:
        (count,) = struct.unpack_from(">I", icc, 128)
        for i in range(min(count, 1000)):
            sig, offset, size = struct.unpack_from(">4sII", icc, 132 + 12 * i)
            if sig != b"desc":
                continue
            tag = icc[offset:offset + size]
            if tag[:4] == b"desc":
                (n,) = struct.unpack_from(">I", tag, 8)
                text = tag[12:12 + n].split(b"\0")[0].decode("latin-1")
            elif tag[:4] == b"mluc":
                length, start = struct.unpack_from(">II", tag, 20)
                text = tag[start:start + length].decode("utf-16-be", "replace")
            else:
                return None
            return text.strip("\0 ") or None
    except (struct.error, UnicodeDecodeError):
        return None
    return None


def describe(metadata) -> dict:
    """kind -> a short text ("3144 bytes", with an ICC profile's
    description), for `iwave info`."""
    out = {}
    for kind, value in metadata.items():
        text = f"{len(value)} bytes"
        desc = icc_description(value) if kind == "icc" else None
        out[kind] = f"{text}, '{desc}'" if desc else text
    return out
