"""The codecs `iwave bench` compares, each behind the same small interface:
`encode(rgb, setting) -> bytes` and `decode(bytes) -> rgb`, plus the settings
swept in lossy mode (lossless codecs marked `grey16` also take 16-bit
greyscale). Classic codecs come from pip-installable libraries; a
codec whose library is missing reports why and is skipped."""
import importlib
import importlib.util
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# x265 settings that make HEIC behave like BPG (no psycho-visual tuning).
X265_LIKE_BPG = {"x265:psy-rd": "0", "x265:psy-rdoq": "0", "x265:aq-mode": "0"}


@dataclass
class Codec:
    key: str                      # short id used in JSON and --codecs
    name: str                     # label in tables and plots
    lossless: bool
    encode: Callable              # (rgb uint8 (H, W, 3), setting) -> bytes
    decode: Callable              # bytes -> rgb uint8 (H, W, 3)
    library: str                  # module that must be importable
    settings: tuple = (None,)     # lossy sweep (any order)
    setting_name: str = ""
    threads: int = 1
    check: Callable | None = None   # () -> reason it cannot run, or None
    version: Callable = field(default=lambda: "")
    revision: int = 1             # bump when how the codec is driven changes: the
                                  # measurement cache then does not reuse older rows
    family: str = ""              # for --codecs; default: the key up to its first '-'
    default: bool = True          # measured when --codecs names only its family or nothing
                                  # (a model's mode it was not trained for is not)
    grey16: bool = False          # also codes 16-bit greyscale (H, W) arrays, exactly

    def __post_init__(self):
        self.family = self.family or self.key.split("-")[0]

    def unavailable(self):
        """Why this codec cannot run here, or None."""
        if importlib.util.find_spec(self.library) is None:
            return f"library '{self.library}' is not installed"
        try:
            return self.check() if self.check else None
        except Exception as e:  # noqa: BLE001          # a broken install: report it, do not crash the run
            return f"library '{self.library}' failed to load: {e}"


def spread(lo, hi, n, geometric=False, integer=False):
    """n settings evenly (or geometrically) spaced from lo to hi."""
    n = max(int(n), 2)
    v = np.geomspace(lo, hi, n) if geometric else np.linspace(lo, hi, n)
    if integer:
        v = np.unique(np.round(v).astype(int))
    return tuple(float(x) if not integer else int(x) for x in v)


# ------------------------------------------------------------------ helpers
def _ic():
    return importlib.import_module("imagecodecs")


def _ic_check(codec_name):
    def check():
        ic = _ic()
        if not getattr(ic, codec_name.upper()).available:
            return f"imagecodecs was built without {codec_name}"
        return None
    return check


def _ic_version(part):
    def version():
        ic = _ic()
        parts = dict(p.split("-", 1) for p in ic.version().split(", ") if "-" in p)
        return f"imagecodecs {ic.__version__}, {part} {parts.get(part, '?')}"
    return version


def pil_save(rgb, fmt, **options):
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **options)
    return buf.getvalue()


def pil_load(data):
    from PIL import Image
    with Image.open(io.BytesIO(data)) as im:
        if im.mode.startswith("I;16"):                  # 16-bit greyscale
            return np.asarray(im).astype(np.uint16)
        return np.asarray(im.convert("RGB"))


def _pil_version():
    import PIL
    return f"Pillow {PIL.__version__}"


def _pil_feature(feature):
    def check():
        from PIL import features
        return None if features.check(feature) else f"Pillow was built without {feature}"
    return check


def _hp1(rgb):
    """JPEG-LS's HP1 colour transform (R-G, G, B-G, modulo 256): reversible."""
    x = rgb.astype(np.int16)
    return np.stack([(x[..., 0] - x[..., 1]) % 256, x[..., 1], (x[..., 2] - x[..., 1]) % 256],
                    -1).astype(np.uint8)


def _hp1_inverse(t):
    x = t.astype(np.int16)
    return np.stack([(x[..., 0] + x[..., 1]) % 256, x[..., 1], (x[..., 2] + x[..., 1]) % 256],
                    -1).astype(np.uint8)


def _heic_encode(rgb, quality):
    import pillow_heif
    buf = io.BytesIO()
    pillow_heif.encode("RGB", (rgb.shape[1], rgb.shape[0]), np.ascontiguousarray(rgb).tobytes(),
                       buf, quality=int(quality), chroma=444, enc_params=X265_LIKE_BPG)
    return buf.getvalue()


def _heic_decode(data):
    import pillow_heif
    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
    return np.asarray(heif.to_pillow().convert("RGB"))


def _heic_version():
    import pillow_heif
    info = pillow_heif.libheif_info()
    return f"pillow-heif {pillow_heif.__version__}, libheif {info.get('libheif')}, {info.get('HEIF')}"


def _heic_check():
    import pillow_heif
    return None if "x265" in str(pillow_heif.libheif_info().get("encoders", {})) else \
        "pillow-heif has no x265 encoder"


def _j2k_rate(rgb, bpp):
    """Pillow/OpenJPEG, irreversible 9/7 with its colour transform (ICT; Pillow
    leaves it off unless mct=1, which costs about 3 dB), driven by target rate
    (compression ratio against 24-bit RGB), as the brief prescribes."""
    return pil_save(rgb, "JPEG2000", irreversible=True, mct=1, quality_mode="rates",
                     quality_layers=[24.0 / bpp], no_jp2=True)


# ------------------------------------------------------------------ registry
def classic_codecs(points=8):
    """Every classic codec, lossless then lossy; each lossy sweep covers about
    0.1-2 bpp on photographs with `points` settings."""
    ic_dec = lambda name: (lambda d: getattr(_ic(), f"{name}_decode")(d))
    return [
        # -------- lossless
        Codec("png", "PNG", True, lambda x, s: pil_save(x, "PNG", optimize=True, compress_level=9),
              pil_load, "PIL", version=_pil_version, grey16=True),
        Codec("jpegls", "JPEG-LS (HP1)", True,       # (grey: no colour transform to apply)
              lambda x, s: _ic().jpegls_encode(_hp1(x) if x.ndim == 3 else x),
              lambda d: (lambda a: _hp1_inverse(a) if a.ndim == 3 else a)(_ic().jpegls_decode(d)),
              "imagecodecs", check=_ic_check("jpegls"), version=_ic_version("charls"), grey16=True),
        Codec("jpeg2000-ll", "JPEG 2000 (5/3)", True,
              lambda x, s: _ic().jpeg2k_encode(x, level=0, codecformat="j2k", reversible=True,
                                               numthreads=1),
              ic_dec("jpeg2k"), "imagecodecs", check=_ic_check("jpeg2k"),
              version=_ic_version("openjpeg"), grey16=True),
        Codec("webp-ll", "WebP lossless", True,
              lambda x, s: _ic().webp_encode(x, level=100, lossless=True, method=6),
              ic_dec("webp"), "imagecodecs", check=_ic_check("webp"),
              version=_ic_version("libwebp")),
        Codec("jxl-ll-e7", "JPEG XL lossless e7", True,
              lambda x, s: _ic().jpegxl_encode(x, lossless=True, effort=7, numthreads=1),
              ic_dec("jpegxl"), "imagecodecs", check=_ic_check("jpegxl"),
              version=_ic_version("libjxl"), grey16=True),
        Codec("jxl-ll-e9", "JPEG XL lossless e9", True,
              lambda x, s: _ic().jpegxl_encode(x, lossless=True, effort=9, numthreads=1),
              ic_dec("jpegxl"), "imagecodecs", check=_ic_check("jpegxl"),
              version=_ic_version("libjxl"), grey16=True),
        Codec("avif-ll", "AVIF lossless", True,
              lambda x, s: _ic().avif_encode(x, level=100, speed=6, pixelformat="444",
                                             numthreads=1),
              ic_dec("avif"), "imagecodecs", check=_ic_check("avif"),
              version=_ic_version("libavif")),
        # -------- lossy
        Codec("jpeg-420", "JPEG 4:2:0", False,
              lambda x, q: pil_save(x, "JPEG", quality=int(q), subsampling=2),
              pil_load, "PIL", spread(5, 95, points, integer=True), "quality",
              version=_pil_version),
        Codec("jpeg-444", "JPEG 4:4:4", False,
              lambda x, q: pil_save(x, "JPEG", quality=int(q), subsampling=0),
              pil_load, "PIL", spread(5, 95, points, integer=True), "quality",
              version=_pil_version),
        Codec("jpeg2000", "JPEG 2000 (9/7)", False, _j2k_rate, pil_load, "PIL",
              spread(0.08, 2.4, points, geometric=True), "target bpp",
              check=_pil_feature("jpg_2000"),
              version=_pil_version, revision=2),       # 2: with ICT (mct=1)
        Codec("webp", "WebP", False,
              lambda x, q: pil_save(x, "WEBP", quality=int(q), method=6),
              pil_load, "PIL", spread(2, 95, points, integer=True), "quality",
              check=_pil_feature("webp"), version=_pil_version),
        Codec("avif-444", "AVIF 4:4:4", False,
              lambda x, q: _ic().avif_encode(x, level=int(q), speed=6, pixelformat="444",
                                             numthreads=1),
              ic_dec("avif"), "imagecodecs", spread(15, 90, points, integer=True), "quality",
              check=_ic_check("avif"), version=_ic_version("libavif")),
        Codec("heic-444", "HEIC 4:4:4 (x265)", False, _heic_encode, _heic_decode, "pillow_heif",
              spread(20, 92, points, integer=True), "quality", check=_heic_check,
              version=_heic_version),
        Codec("jxl", "JPEG XL e7", False,
              lambda x, d: _ic().jpegxl_encode(x, distance=float(d), effort=7, numthreads=1),
              ic_dec("jpegxl"), "imagecodecs", spread(0.4, 12.0, points, geometric=True)[::-1],
              "distance", check=_ic_check("jpegxl"), version=_ic_version("libjxl")),
    ]
