"""A PNG file's chunks, read and written: the one walk the image reader
(its header, animation) and the metadata reader (ICC, EXIF, XMP) share."""
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunks(data, last=b"IEND"):
    """(type, payload, stored CRC) of each chunk of PNG bytes, up to and
    including the first `last` chunk. A chunk cut short by the end of the
    data comes with a short payload and CRC None; the caller decides."""
    pos = len(SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 8 + length
        crc = struct.unpack_from(">I", data, end)[0] if end + 4 <= len(data) else None
        yield kind, data[pos + 8:end], crc
        if kind == last:
            return
        pos = end + 4


def chunk(kind, body):
    """The bytes of one chunk: length, type, payload, CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
