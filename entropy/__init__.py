"""Entropy coding for iwave: probability tables, an exact rANS coder and the
context model. Nothing here knows about images: it codes integer arrays under
discretised Laplace models whose parameters come from the caller."""

from iwave.entropy.laplace_coder import ValueEncoder, ValueDecoder, EntropyError
from iwave.entropy.tables import SCALE_STEPS_PER_OCTAVE, min_bits_per_value, sigma_of_index

__all__ = ["ValueEncoder", "ValueDecoder", "EntropyError",
           "SCALE_STEPS_PER_OCTAVE", "min_bits_per_value", "sigma_of_index"]
