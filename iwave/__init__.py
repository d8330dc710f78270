"""iwave: a learned wavelet-lifting image codec (lossless and variable-rate lossy)."""
from iwave.codec import Codec, compress, decompress
from iwave.errors import IWaveError

__version__ = "0.10.0"
__all__ = ["Codec", "compress", "decompress", "IWaveError", "__version__"]
