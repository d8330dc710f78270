"""iwave: a learned wavelet-lifting image codec (lossless and variable-rate lossy).

`Codec`, `compress` and `decompress` load on first use, so that importing the
package (the CLI's --help and argument errors, `iwave.bitstream`) does not
pull in torch."""
from pathlib import Path as _Path

from iwave.errors import IWaveError

# In the repository, entropy/, train/ and weights/ sit beside iwave/ (the
# project's fixed layout); an installed package holds them as iwave/entropy,
# iwave/train and iwave/weights (setup.cfg's package_dir). Running from a
# source tree, let the same names find the sibling folders, so there is one
# spelling, `iwave.entropy`, and no top-level `entropy` or `train` module to
# shadow or be shadowed by another package's.
_source_root = _Path(__file__).resolve().parent.parent
if not (_Path(__file__).parent / "entropy").is_dir() and (_source_root / "entropy" / "__init__.py").is_file():
    __path__.append(str(_source_root))

__version__ = "0.11.0"
__all__ = ["Codec", "compress", "decompress", "read_metadata", "IWaveError", "__version__"]

from iwave import pillow_plugin  # noqa: E402,F401  (Pillow opens and saves .iwv from here on)


def __getattr__(name):
    if name in ("Codec", "compress", "decompress"):
        from iwave import codec
        return getattr(codec, name)
    if name == "read_metadata":        # an .iwv file's ICC profile, EXIF and XMP; no torch
        from iwave.bitstream import read_metadata
        return read_metadata
    raise AttributeError(f"module 'iwave' has no attribute {name!r}")
