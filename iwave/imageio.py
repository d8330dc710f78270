"""Reading and writing images as numpy arrays without losing a single sample.

Arrays are (H, W) grey or (H, W, C) with C = 2 (grey + alpha), 3 (RGB) or
4 (RGBA), dtype uint8 or uint16. Every reader returns the samples exactly as
the file stores them, or refuses the file with an IWaveError that names it
and says why; nothing is rescaled or truncated on the way:

- PNG goes through libpng (imagecodecs): 16-bit samples stay 16-bit, an
  `sBIT` chunk is metadata and never rescales, a `tRNS` transparent colour
  becomes an alpha channel (0 where the key colour is, full elsewhere), a
  palette is expanded to RGB or RGBA, and 1/2/4-bit grey is widened to 8
  bits as PNG defines it (v * 255 / (2^bits - 1), exactly invertible).
- TIFF goes through tifffile, which keeps 16-bit colour (Pillow truncates
  it) and reads planar files; layouts it leaves to Pillow (bilevel, palette,
  min-is-white, YCbCr) are 8-bit ones, which Pillow reads exactly.
- Binary PGM/PPM (P5/P6) are parsed here, any maxval: a sample means
  v / maxval, so a maxval other than 255 or 65535 is widened to the
  container's full range as PNG widens low bit depths (v * 255 / maxval or
  v * 65535 / maxval, rounded: exactly invertible, the same picture).
- Everything else (BMP, JPEG, WebP, GIF, ASCII PNM) goes through Pillow.

EXIF orientation is deliberately not applied: the codec stores pixels as they
are in the file.
"""
import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from iwave import png_chunks
from iwave.errors import IWaveError

TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
FORMATS = "PNG, TIFF, PPM/PGM, BMP, JPEG, WebP or GIF"


def read_image(path, max_pixels=None) -> np.ndarray:
    """The pixels of an image file, exactly as stored (see the module's
    docstring), or an IWaveError naming the file and the reason."""
    path = Path(path)
    if not path.exists():
        raise IWaveError(f"{path}: no such file")
    if not path.is_file():
        raise IWaveError(f"{path}: not a file")
    with open(path, "rb") as f:
        head = f.read(64)
    try:
        if head.startswith(png_chunks.SIGNATURE):
            a = _read_png(path, max_pixels)
        elif head[:4] in TIFF_SIGNATURES:
            a = _read_tiff(path, max_pixels)
        elif head[:2] in (b"P5", b"P6"):
            a = _read_pnm(path, max_pixels)
        else:
            a = _read_pillow(path, max_pixels)
        return validate_array(a, name=path)
    except IWaveError as e:
        msg = str(e)
        raise IWaveError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None
    except MemoryError:
        raise IWaveError(f"{path}: out of memory while reading the image") from None
    except Exception as e:  # noqa: BLE001 -- a decoder's complaint about a broken file
        raise IWaveError(f"{path}: cannot read image ({type(e).__name__}: {e})") from None


def validate_array(a, name="image") -> np.ndarray:
    """An image array as the codec takes it: uint8 or uint16, (H, W) or
    (H, W, C) with C from 1 to 4 (an explicit single channel is kept, so
    the decoder can give back the same shape). Any other dtype is refused:
    the decoder could not give it back."""
    if isinstance(a, Image.Image):
        a = _from_pillow(a, name)
    a = np.asarray(a)
    if a.dtype.kind != "u" or a.dtype.itemsize not in (1, 2):
        hint = " (a.astype(np.uint8) or np.uint16, if the values fit)" if a.dtype.kind in "biu" else ""
        raise IWaveError(f"{name}: pixel type {a.dtype} cannot be stored exactly; iwave keeps "
                         f"uint8 and uint16 samples{hint}")
    if not (a.ndim == 2 or (a.ndim == 3 and 1 <= a.shape[2] <= 4)):
        raise IWaveError(f"{name}: unsupported image shape {a.shape}: expected (H, W) or "
                         "(H, W, C) with C from 1 to 4")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise IWaveError(f"{name}: the image is empty")
    return np.ascontiguousarray(a, dtype=np.uint16 if a.dtype.itemsize == 2 else np.uint8)


def _check_size(width, height, max_pixels):
    if max_pixels is not None and width * height > max_pixels:
        raise IWaveError(f"image is {width}x{height}, more than the limit of {max_pixels} pixels "
                         "(raise it with --max-pixels)")


# ------------------------------------------------------------------ PNG
def _read_png(path, max_pixels):
    import imagecodecs
    data = Path(path).read_bytes()
    chunks = {kind: body for kind, body, _ in png_chunks.chunks(data, last=b"IDAT")}
    if b"IHDR" not in chunks or len(chunks[b"IHDR"]) < 13:
        raise IWaveError("corrupt PNG (no image header)")
    width, height, depth, colour = struct.unpack_from(">IIBB", chunks[b"IHDR"])
    _check_size(width, height, max_pixels)
    if b"acTL" in chunks and len(chunks[b"acTL"]) >= 4 and struct.unpack_from(">I", chunks[b"acTL"])[0] > 1:
        frames = struct.unpack_from(">I", chunks[b"acTL"])[0]
        raise IWaveError(f"animated PNG with {frames} frames; iwave codes single images")
    a = imagecodecs.png_decode(data)
    if a.shape[:2] != (height, width):
        raise IWaveError("corrupt PNG (decoded size does not match its header)")
    return a


# ------------------------------------------------------------------ TIFF
def _read_tiff(path, max_pixels):
    import tifffile
    with tifffile.TiffFile(path) as tif:
        images = [p for p in tif.pages if not getattr(p, "is_reduced", False)]
        if len(images) > 1:
            raise IWaveError(f"TIFF with {len(images)} images (pages); iwave codes single images")
        page = images[0] if images else tif.pages[0]
        _check_size(page.imagewidth, page.imagelength, max_pixels)
        photometric = int(page.photometric)
        fmt, bits = int(page.sampleformat), int(page.bitspersample)
        if photometric == 5:
            raise IWaveError("CMYK colour cannot be stored exactly; convert it to RGB first")
        if fmt == 3:
            raise IWaveError(f"{bits}-bit floating-point samples cannot be stored exactly "
                             "(iwave keeps 8- and 16-bit integer samples)")
        if fmt == 2:
            raise IWaveError(f"signed {bits}-bit samples cannot be stored exactly "
                             "(iwave keeps unsigned 8- and 16-bit samples)")
        if bits > 16:
            raise IWaveError(f"{bits}-bit samples cannot be stored exactly "
                             "(iwave keeps 8- and 16-bit samples)")
        if bits not in (8, 16) or photometric not in (1, 2):
            if bits == 16:
                raise IWaveError(f"16-bit TIFF with photometric interpretation {photometric} "
                                 "is not supported (grey or RGB expected)")
            return _read_pillow(path, max_pixels)   # bilevel, palette, min-is-white, YCbCr
        if 1 in tuple(getattr(page, "extrasamples", ()) or ()):
            raise IWaveError("TIFF with premultiplied (associated) alpha: iwave keeps straight "
                             "alpha, as PNG has; convert it to unassociated alpha first")
        a = page.asarray()
        axes = page.axes
    if set(axes) - set("YXS"):
        raise IWaveError(f"TIFF with dimensions {axes} is not a single 2-D image")
    if "S" in axes:
        a = np.moveaxis(a, axes.index("S"), -1)
    elif a.ndim == 3:
        raise IWaveError("TIFF layout not understood")
    channels = 1 if a.ndim == 2 else a.shape[2]
    if (photometric == 1 and channels > 2) or (photometric == 2 and channels not in (3, 4)):
        raise IWaveError(f"TIFF with {channels} samples per pixel is not supported "
                         "(grey, grey + alpha, RGB or RGBA expected)")
    return a


# ------------------------------------------------------------------ PNM
def _read_pnm(path, max_pixels):
    """Binary PGM (P5) and PPM (P6), any maxval, widened to the full 8- or
    16-bit range (a 12-bit PGM's 0..4095 become 0..65535, 4095 steps of
    about 16), which is what the file means: kept as they were, its
    samples would decode to a picture 16 times darker."""
    data = Path(path).read_bytes()
    fields, pos = [], 2
    while len(fields) < 3:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if pos < len(data) and data[pos:pos + 1] == b"#":
            while pos < len(data) and data[pos:pos + 1] not in (b"\n", b"\r"):
                pos += 1
            continue
        start = pos
        while pos < len(data) and data[pos:pos + 1].isdigit():
            pos += 1
        if start == pos:
            raise IWaveError("corrupt PNM header")
        fields.append(int(data[start:pos]))
    w, h, maxval = fields
    if not 1 <= maxval <= 65535 or w < 1 or h < 1:
        raise IWaveError("corrupt PNM header")
    _check_size(w, h, max_pixels)
    planes = 3 if data[:2] == b"P6" else 1
    wide = maxval > 255
    need = w * h * planes * (2 if wide else 1)
    payload = data[pos + 1:pos + 1 + need]
    if len(payload) != need:
        raise IWaveError("PNM file is truncated")
    a = np.frombuffer(payload, dtype=">u2" if wide else np.uint8).reshape(h, w, planes)
    if a.max(initial=0) > maxval:
        raise IWaveError(f"corrupt PNM (a sample exceeds its maxval {maxval})")
    full = 65535 if wide else 255
    if maxval != full:
        a = (a.astype(np.int64) * (2 * full) + maxval) // (2 * maxval)     # round(v * full / maxval)
    a = a.astype(np.uint16 if wide else np.uint8)
    return a[:, :, 0] if planes == 1 else a


# ------------------------------------------------------------------ Pillow
def _read_pillow(path, max_pixels):
    limit = Image.MAX_IMAGE_PIXELS      # the size is checked below, with our own message;
    Image.MAX_IMAGE_PIXELS = None       # Pillow's own limit is restored for the caller's code
    try:
        img = Image.open(path)
    except UnidentifiedImageError:
        raise IWaveError(f"not an image file ({FORMATS} expected)") from None
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    with img:
        _check_size(*img.size, max_pixels)
        if getattr(img, "n_frames", 1) > 1:
            raise IWaveError(f"has {img.n_frames} frames; iwave codes single images")
        img.load()
        return _from_pillow(img, path)


def _from_pillow(img, name):
    """A Pillow image's samples, refusing modes whose samples iwave cannot
    give back (float, 32-bit, CMYK, premultiplied alpha, ...)."""
    mode = img.mode
    if mode == "1":
        return np.asarray(img.convert("L"))
    if mode in ("P", "PA"):
        keyed = mode == "PA" or "transparency" in img.info
        return np.asarray(img.convert("RGBA" if keyed else "RGB"))
    if mode in ("L", "RGB") and "transparency" in img.info:
        return np.asarray(img.convert("LA" if mode == "L" else "RGBA"))
    if mode in ("L", "LA", "RGB", "RGBA"):
        return np.asarray(img)
    if mode == "RGBX":
        return np.asarray(img.convert("RGB"))
    if mode.startswith("I;16"):
        return np.asarray(img).astype(np.uint16)
    reasons = {"I": "32-bit integer samples", "F": "floating-point samples", "CMYK": "CMYK colour",
               "La": "premultiplied alpha", "RGBa": "premultiplied alpha",
               "YCbCr": "YCbCr samples", "LAB": "Lab colour", "HSV": "HSV colour"}
    raise IWaveError(f"{name}: {reasons.get(mode, f'image mode {mode}')} cannot be stored exactly "
                     "(iwave keeps 8- and 16-bit grey, grey + alpha, RGB and RGBA)")


OUTPUT_FORMATS = {".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".ppm": "PNM", ".pgm": "PNM",
                  ".pnm": "PNM"}


def output_format(path):
    """The format an output file's extension names, or an IWaveError."""
    fmt = OUTPUT_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise IWaveError(f"{path}: decoded images are written as PNG, TIFF or PPM/PGM; "
                         "give the output one of the extensions .png, .tif, .tiff, .ppm, .pgm, .pnm")
    return fmt


def encode_image(a: np.ndarray, fmt: str, metadata=None) -> bytes:
    """An image array as the bytes of a PNG, TIFF or PNM file, every sample
    as it is (PNM: grey or RGB only, since it has no alpha), with the
    metadata (iwave.metadata's dict) the format can hold
    (iwave.image_metadata.dropped names the rest)."""
    from iwave import image_metadata
    metadata = metadata or {}
    if fmt == "PNG":
        return image_metadata.png_with_metadata(encode_png(a), metadata)
    if fmt == "TIFF":
        import tifffile
        buf = io.BytesIO()
        c = 1 if a.ndim == 2 else a.shape[2]
        extra = {"extrasamples": ["unassalpha"]} if c in (2, 4) else {}
        tifffile.imwrite(buf, a[:, :, 0] if c == 1 and a.ndim == 3 else a,
                         photometric="rgb" if c >= 3 else "minisblack", **extra,
                         **image_metadata.tiff_options(metadata))
        if "exif" in metadata:
            return image_metadata.tiff_with_exif(buf.getvalue(), metadata["exif"])
        return buf.getvalue()
    c = 1 if a.ndim == 2 else a.shape[2]
    if c not in (1, 3):
        raise IWaveError("PPM/PGM cannot hold an alpha channel; write PNG or TIFF")
    h, w = a.shape[:2]
    top = 65535 if a.dtype == np.uint16 else 255
    body = a.astype(">u2").tobytes() if a.dtype == np.uint16 else a.tobytes()
    return b"P%d\n%d %d\n%d\n" % (6 if c == 3 else 5, w, h, top) + body


def encode_png(a: np.ndarray) -> bytes:
    """PNG bytes for an image array (16-bit through pypng, which Pillow cannot
    write for colour images)."""
    buf = io.BytesIO()
    h, w = a.shape[:2]
    c = 1 if a.ndim == 2 else a.shape[2]
    if a.dtype == np.uint16:
        import png
        png.Writer(w, h, greyscale=c <= 2, alpha=c in (2, 4), bitdepth=16,
                   compression=6).write(buf, a.reshape(h, w * c))
    else:
        Image.fromarray(a.reshape(h, w) if c == 1 else a).save(buf, format="PNG")
    return buf.getvalue()
