"""The ICC profile, EXIF and XMP of image files (iwave.metadata's dict):
read from PNG, JPEG, WebP and TIFF inputs, written into PNG and TIFF
outputs. Where each is found:

- PNG: iCCP (inflated), eXIf, iTXt with keyword "XML:com.adobe.xmp";
- JPEG: APP2 "ICC_PROFILE" (the segments joined in order), APP1
  "Exif\\0\\0", APP1 "http://ns.adobe.com/xap/1.0/\\0" (extended XMP is not kept);
- WebP: the RIFF chunks ICCP, EXIF and "XMP ";
- TIFF: tags 34675 (ICC) and 700 (XMP) as stored; EXIF re-serialised by
  Pillow from IFD 0's Make, Model, Orientation, DateTime, Artist and
  Copyright and the Exif and GPS IFDs (classic TIFF only), when there are any.

PNG, JPEG and WebP metadata are parsed here from the file's own chunks and
kept byte for byte. Other inputs (PPM/PGM, BMP, GIF) carry none for iwave.
EXIF is kept as it is: its orientation is never applied to the pixels."""
import struct
import zlib
from pathlib import Path

from iwave import png_chunks
from iwave.errors import IWaveError
from iwave.metadata import MAX_BYTES, NAMES, checked

XMP_KEYWORD = b"XML:com.adobe.xmp"
JPEG_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
JPEG_ICC = b"ICC_PROFILE\x00"
EXIF_PREFIX = b"Exif\x00\x00"
# IFD 0 tags an EXIF block and a TIFF file share (with the type tifffile writes them as)
TIFF_EXIF_TAGS = {271: "s", 272: "s", 274: "H", 306: "s", 315: "s", 33432: "s"}
EXIF_IFD, GPS_IFD, INTEROP_IFD = 0x8769, 0x8825, 0xA005


class _Corrupt(Exception):
    pass


def read_image_metadata(path) -> dict:
    """The metadata of an image file (PNG, JPEG, WebP, TIFF; {} for other
    formats), checked, or an IWaveError naming the file."""
    path = Path(path)
    data = path.read_bytes()
    try:
        if data.startswith(png_chunks.SIGNATURE):
            found = _png(data)
        elif data[:3] == b"\xff\xd8\xff":
            found = _jpeg(data)
        elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            found = _webp(data)
        elif data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
            found = _tiff(path, data)
        else:
            found = {}
        if "exif" in found and found["exif"].startswith(EXIF_PREFIX):
            found["exif"] = found["exif"][len(EXIF_PREFIX):]
        return checked(found, f"{path}: metadata")
    except (_Corrupt, IWaveError) as e:
        raise IWaveError(f"{path}: {e} (--strip leaves the metadata out)") from None


def not_kept(path, stripped=False) -> list:
    """Warnings, one sentence each, for what an image file holds that
    changes how it looks and an .iwv file will not: a PNG's gAMA or cHRM
    chunk where no ICC profile or sRGB chunk (which readers prefer to them)
    is there; with `stripped` (--strip), an EXIF orientation other than 1,
    which viewers apply to the pixels."""
    data = Path(path).read_bytes()
    lost = []
    if data.startswith(png_chunks.SIGNATURE):
        kinds = {kind for kind, _, _ in png_chunks.chunks(data, last=b"IDAT")}
        rendering = sorted(k.decode() for k in kinds & {b"gAMA", b"cHRM"})
        if rendering and not kinds & {b"iCCP", b"sRGB"}:
            plural = len(rendering) > 1
            lost.append(f"its {' and '.join(rendering)} chunk{'s' if plural else ''} (how its colours "
                        f"are meant to be shown) {'are' if plural else 'is'} not kept")
    if stripped:
        try:
            exif = read_image_metadata(path).get("exif")
        except IWaveError:
            exif = None
        orientation = exif_orientation(exif) if exif else None
        if orientation not in (None, 1):
            lost.append(f"--strip leaves out its EXIF orientation ({orientation}): viewers will "
                        "show the decoded image unrotated")
    return lost


def exif_orientation(exif: bytes):
    """The Orientation tag (274) of IFD 0 of TIFF-structured EXIF, or None."""
    try:
        order = "<" if exif[:2] == b"II" else ">"
        (ifd,) = struct.unpack_from(order + "I", exif, 4)
        (count,) = struct.unpack_from(order + "H", exif, ifd)
        for i in range(count):
            tag, kind, n = struct.unpack_from(order + "HHI", exif, ifd + 2 + 12 * i)
            if tag == 274 and kind == 3 and n == 1:
                return struct.unpack_from(order + "H", exif, ifd + 2 + 12 * i + 8)[0]
    except struct.error:
        return None
    return None


def _inflate(data, what):
    inflate = zlib.decompressobj()
    try:
        out = inflate.decompress(data, MAX_BYTES + 1)
    except zlib.error:
        raise _Corrupt(f"corrupt {what} (does not inflate)") from None
    if not inflate.eof or len(out) > MAX_BYTES:
        raise _Corrupt(f"corrupt or oversized {what}")
    return out


def _png(data):
    found = {}
    for kind, body, crc in png_chunks.chunks(data):
        if crc is None:
            raise _Corrupt(f"corrupt PNG (truncated {kind.decode('latin-1')} chunk)")
        if kind not in (b"iCCP", b"eXIf", b"iTXt") or not body:
            continue
        if crc != zlib.crc32(kind + body):
            raise _Corrupt(f"corrupt PNG {kind.decode()} chunk (checksum mismatch)")
        if kind == b"iCCP" and "icc" not in found:
            name, _, rest = body.partition(b"\x00")
            if not rest or rest[0] != 0:
                raise _Corrupt("corrupt PNG iCCP chunk")
            found["icc"] = _inflate(rest[1:], "PNG ICC profile")
        elif kind == b"eXIf" and "exif" not in found:
            found["exif"] = body
        elif kind == b"iTXt" and body.startswith(XMP_KEYWORD + b"\x00") and "xmp" not in found:
            rest = body[len(XMP_KEYWORD) + 1:]
            if len(rest) < 2:
                raise _Corrupt("corrupt PNG iTXt chunk")
            compressed, text = rest[0], rest[2:].split(b"\x00", 2)
            if len(text) < 3:
                raise _Corrupt("corrupt PNG iTXt chunk")
            found["xmp"] = _inflate(text[2], "PNG XMP") if compressed else text[2]
    return found


def _jpeg(data):
    found, icc, pos = {}, {}, 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise _Corrupt("corrupt JPEG (bad marker before the image data)")
        marker = data[pos + 1]
        if marker == 0xFF:                                 # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:      # no length
            pos += 2
            continue
        if marker in (0xDA, 0xD9):                         # start of scan, end of image
            break
        (length,) = struct.unpack_from(">H", data, pos + 2)
        body = data[pos + 4:pos + 2 + length]
        if length < 2 or len(body) != length - 2:
            raise _Corrupt("corrupt JPEG (truncated segment)")
        if marker == 0xE1 and body.startswith(EXIF_PREFIX) and "exif" not in found:
            found["exif"] = body[len(EXIF_PREFIX):]
        elif marker == 0xE1 and body.startswith(JPEG_XMP) and "xmp" not in found:
            found["xmp"] = body[len(JPEG_XMP):]
        elif marker == 0xE2 and body.startswith(JPEG_ICC) and len(body) >= 14:
            icc.setdefault(body[12], (body[13], body[14:]))
        pos += 2 + length
    if icc:
        count = {n for n, _ in icc.values()}
        if len(count) != 1 or sorted(icc) != list(range(1, count.pop() + 1)):
            raise _Corrupt("JPEG ICC profile segments are incomplete or inconsistent")
        found["icc"] = b"".join(icc[i][1] for i in sorted(icc))
    return found


def _webp(data):
    found, pos = {}, 12
    names = {b"ICCP": "icc", b"EXIF": "exif", b"XMP ": "xmp"}
    while pos + 8 <= len(data):
        kind, length = struct.unpack_from("<4sI", data, pos)
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise _Corrupt(f"corrupt WebP (truncated {kind.decode('latin-1')} chunk)")
        if kind in names and names[kind] not in found:
            found[names[kind]] = body
        pos += 8 + length + (length & 1)
    return found


def _tiff(path, data):
    import tifffile
    found = {}
    with tifffile.TiffFile(path) as tif:
        tags = tif.pages[0].tags
        for code, kind in ((34675, "icc"), (700, "xmp")):
            if code in tags:
                value = tags[code].value     # bytes; XMP written as ASCII comes as str
                found[kind] = value.encode() if isinstance(value, str) else bytes(value)
    if data[2:4] in (b"*\x00", b"\x00*"):          # Pillow reads EXIF from classic TIFF only
        exif = _tiff_exif(data)
        if exif:
            found["exif"] = exif
    return found


def _tiff_exif(data):
    from PIL import Image
    whole = Image.Exif()
    try:
        whole.load(data)
        out = Image.Exif()
        out.endian = whole.endian
        for tag in TIFF_EXIF_TAGS:
            if tag in whole:
                out[tag] = whole[tag]
        for tag, sub in _sub_ifds(whole).items():
            out[tag] = sub
        return out.tobytes()[len(EXIF_PREFIX):] if len(out) else None
    except Exception as e:     # noqa: BLE001 -- Pillow's complaint about a malformed IFD
        raise _Corrupt(f"cannot read the TIFF's EXIF ({type(e).__name__}: {e})") from None


def _sub_ifds(exif):
    """The Exif and GPS IFDs of a Pillow Exif, as dicts (the Exif IFD's
    interoperability IFD as a dict in it), those that are not empty."""
    out = {}
    for tag in (EXIF_IFD, GPS_IFD):
        sub = dict(exif.get_ifd(tag)) if tag in exif else {}
        if tag == EXIF_IFD and INTEROP_IFD in sub:
            sub[INTEROP_IFD] = dict(exif.get_ifd(INTEROP_IFD))
        if sub:
            out[tag] = sub
    return out


# ------------------------------------------------------------------ writing
def dropped(fmt, metadata):
    """The names of what an output format cannot hold: PPM/PGM all; TIFF an
    EXIF block Pillow cannot read."""
    if fmt == "PNM":
        return [NAMES[k] for k in metadata]
    unreadable = "exif" in metadata and _load_exif(metadata["exif"]) is None
    return [NAMES["exif"]] if fmt == "TIFF" and unreadable else []


def _load_exif(exif):
    """A Pillow Exif of EXIF bytes, or None if Pillow cannot read them."""
    from PIL import Image
    out = Image.Exif()
    try:
        out.load(exif)
        _sub_ifds(out)
    except Exception:     # noqa: BLE001 -- malformed EXIF: not written into TIFF
        return None
    return out


def png_with_metadata(png: bytes, metadata) -> bytes:
    """A PNG's bytes with iCCP, eXIf and iTXt (XMP) chunks right after its
    IHDR, so before any PLTE or IDAT."""
    if not metadata:
        return png
    if png[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise ValueError("not a PNG starting with its IHDR chunk")
    chunks = []
    if "icc" in metadata:
        chunks.append(png_chunks.chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(metadata["icc"], 9)))
    if "exif" in metadata:
        chunks.append(png_chunks.chunk(b"eXIf", metadata["exif"]))
    if "xmp" in metadata:     # uncompressed, no language: as XMP's specification asks
        chunks.append(png_chunks.chunk(b"iTXt", XMP_KEYWORD + b"\x00" * 5 + metadata["xmp"]))
    return png[:33] + b"".join(chunks) + png[33:]


def tiff_options(metadata):
    """tifffile.imwrite arguments for the ICC profile, the XMP and EXIF's
    IFD 0 tags (tiff_with_exif adds its Exif and GPS IFDs)."""
    extratags = []
    if "xmp" in metadata:
        extratags.append((700, 1, len(metadata["xmp"]), metadata["xmp"], True))
    exif = _load_exif(metadata["exif"]) if "exif" in metadata else None
    if exif is not None:
        for tag, dtype in TIFF_EXIF_TAGS.items():
            value = exif.get(tag)
            if isinstance(value, str) and dtype == "s":
                extratags.append((tag, "s", 0, value, True))
            elif isinstance(value, int) and dtype == "H" and 0 <= value < 65536:
                extratags.append((tag, "H", 1, value, True))
    return {"iccprofile": metadata.get("icc"), "extratags": extratags}


def tiff_with_exif(tiff: bytes, exif: bytes) -> bytes:
    """A classic TIFF's bytes with EXIF's Exif and GPS IFDs (as Pillow
    serialises them) appended and pointed to from a copy of IFD 0 with two
    more entries, appended too; the old IFD 0 is left unused."""
    from PIL import Image
    source = _load_exif(exif)
    subs = _sub_ifds(source) if source is not None else {}
    if not subs or tiff[2:4] not in (b"*\x00", b"\x00*"):
        return tiff
    e = "<" if tiff[:2] == b"II" else ">"
    out = bytearray(tiff) + bytes(len(tiff) & 1)
    holder = Image.Exif()          # an IFD holding the two pointers: where Pillow put the IFDs
    holder.endian = e
    for tag, sub in subs.items():
        holder[tag] = sub
    at = len(out)
    block = holder.tobytes(at)[len(EXIF_PREFIX) + 8:]
    pointers = {}
    for i in range(struct.unpack_from(e + "H", block)[0]):
        tag, _, _, value = struct.unpack_from(e + "HHII", block, 2 + 12 * i)
        pointers[tag] = value
    out += block + bytes(len(block) & 1)
    (first,) = struct.unpack_from(e + "I", out, 4)
    (n,) = struct.unpack_from(e + "H", out, first)
    records = [bytes(out[first + 2 + 12 * i:first + 14 + 12 * i]) for i in range(n)]
    entries = {struct.unpack_from(e + "H", r)[0]: r for r in records}
    (following,) = struct.unpack_from(e + "I", out, first + 2 + 12 * n)
    for tag, value in pointers.items():
        entries[tag] = struct.pack(e + "HHII", tag, 4, 1, value)
    ifd0 = len(out)
    out += struct.pack(e + "H", len(entries)) + b"".join(entries[t] for t in sorted(entries))
    out += struct.pack(e + "I", following)
    struct.pack_into(e + "I", out, 4, ifd0)
    return bytes(out)
