"""Reading and writing images as numpy arrays without losing a single bit.

Arrays are (H, W) grey or (H, W, C) with C = 2 (grey + alpha), 3 (RGB) or
4 (RGBA), dtype uint8 or uint16. Pillow reads most formats, but it silently
truncates 16-bit colour PNG/PPM to 8 bits, so those go through pypng or a
small PNM parser. EXIF orientation is deliberately not applied: the codec
stores pixels as they are in the file.
"""
import io
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from iwave.errors import IWaveError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def atomic_write(path, data: bytes):
    """Write via a temporary file in the same folder, then rename: an
    interrupted run never leaves a half-written output."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".part", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def validate_array(a) -> np.ndarray:
    if isinstance(a, Image.Image):
        return _from_pillow(a, "image")
    a = np.asarray(a)
    if a.dtype == bool:
        a = a.astype(np.uint8)
    if a.dtype not in (np.uint8, np.uint16):
        if np.issubdtype(a.dtype, np.integer) and a.size and a.min() >= 0 and a.max() <= 65535:
            a = a.astype(np.uint16 if a.max() > 255 else np.uint8)
        else:
            raise IWaveError(f"unsupported pixel type {a.dtype}: use uint8 or uint16 arrays")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (2, 3, 4))):
        raise IWaveError(f"unsupported image shape {a.shape}: expected (H, W) or (H, W, 2|3|4)")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise IWaveError("the image is empty")
    return np.ascontiguousarray(a)


def read_image(path, max_pixels=None) -> np.ndarray:
    path = Path(path)
    if not path.exists():
        raise IWaveError(f"{path}: no such file")
    if not path.is_file():
        raise IWaveError(f"{path}: not a file")
    with open(path, "rb") as f:
        head = f.read(64)
    try:
        if head.startswith(PNG_SIGNATURE) and len(head) >= 26 and head[24] == 16 and head[25] in (2, 4, 6):
            return validate_array(_read_png16(path))
        if head[:2] in (b"P5", b"P6"):
            a = _read_pnm(path)
            if a is not None:
                return validate_array(a)
        Image.MAX_IMAGE_PIXELS = max_pixels
        with Image.open(path) as img:
            if getattr(img, "n_frames", 1) > 1:
                raise IWaveError(f"{path}: has {img.n_frames} frames; iwave codes single images")
            img.load()
            return _from_pillow(img, path)
    except IWaveError:
        raise
    except UnidentifiedImageError:
        raise IWaveError(f"{path}: not an image file (PNG, PPM/PGM, TIFF, BMP or JPEG expected)") from None
    except Image.DecompressionBombError:
        raise IWaveError(f"{path}: image is larger than the limit of {max_pixels} pixels") from None
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        raise IWaveError(f"{path}: cannot read image ({e})") from None


def _from_pillow(img, name):
    mode = img.mode
    raw = [t.args[0] if isinstance(t.args, tuple) and t.args else t.args for t in (getattr(img, "tile", None) or [])]
    if mode in ("RGB", "RGBA") and any(isinstance(r, str) and "16" in r for r in raw):
        raise IWaveError(f"{name}: 16-bit colour in this format is not supported; save it as 16-bit PNG")
    if mode == "1":
        img = img.convert("L")
    elif mode in ("P", "PA"):
        img = img.convert("RGBA" if (mode == "PA" or "transparency" in img.info) else "RGB")
    elif mode in ("RGBX", "YCbCr"):
        img = img.convert("RGB")
    elif mode in ("La", "RGBa"):
        img = img.convert(mode.upper())
    elif mode.startswith("I;16"):
        return np.asarray(img).astype(np.uint16)
    elif mode == "I":
        a = np.asarray(img)
        if a.size and (a.min() < 0 or a.max() > 65535):
            raise IWaveError(f"{name}: 32-bit integer pixels outside 0..65535 are not supported")
        return a.astype(np.uint16)
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        raise IWaveError(f"{name}: image mode {mode} is not supported (convert to RGB or greyscale first)")
    return np.asarray(img)


def _read_png16(path):
    import png
    w, h, rows, info = png.Reader(filename=str(path)).asDirect()
    a = np.vstack([np.asarray(r, dtype=np.uint16) for r in rows])
    return a.reshape(h, w, info["planes"])


def _read_pnm(path):
    """Binary PGM/PPM with maxval > 255 (Pillow would truncate colour ones)."""
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
            raise IWaveError(f"{path}: corrupt PNM header")
        fields.append(int(data[start:pos]))
    w, h, maxval = fields
    if maxval <= 255:
        return None          # Pillow handles 8-bit PNM
    planes = 3 if data[:2] == b"P6" else 1
    need = w * h * planes * 2
    payload = data[pos + 1:pos + 1 + need]
    if len(payload) != need:
        raise IWaveError(f"{path}: PNM file is truncated")
    a = np.frombuffer(payload, dtype=">u2").astype(np.uint16).reshape(h, w, planes)
    return a[:, :, 0] if planes == 1 else a


def encode_png(a: np.ndarray) -> bytes:
    """PNG bytes for an image array (16-bit through pypng, which Pillow cannot
    write for colour images)."""
    buf = io.BytesIO()
    if a.dtype == np.uint16:
        import png
        h, w = a.shape[:2]
        c = 1 if a.ndim == 2 else a.shape[2]
        png.Writer(w, h, greyscale=c <= 2, alpha=c in (2, 4), bitdepth=16,
                   compression=6).write(buf, a.reshape(h, w * c))
    else:
        Image.fromarray(a).save(buf, format="PNG")     # L, LA, RGB or RGBA from the shape
    return buf.getvalue()
