"""iwave: a learned wavelet-lifting image codec (lossless and variable-rate lossy).

`Codec`, `compress` and `decompress` load on first use, so that importing the
package (the CLI's --help and argument errors, `iwave.bitstream`) does not
pull in torch."""
from iwave.errors import IWaveError

__version__ = "0.11.0"
__all__ = ["Codec", "compress", "decompress", "IWaveError", "__version__"]


def __getattr__(name):
    if name in ("Codec", "compress", "decompress"):
        from iwave import codec
        return getattr(codec, name)
    raise AttributeError(f"module 'iwave' has no attribute {name!r}")
