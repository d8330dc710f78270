"""`iwave bench`: iwave against the codecs people use, on any folder of images."""
from iwave.bench.codecs import Codec, classic_codecs
from iwave.bench.report import write
from iwave.bench.runner import run

__all__ = ["Codec", "classic_codecs", "run", "write"]
