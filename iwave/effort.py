"""Encoder effort levels, as cjxl's: 1 (fastest) to 9 (smallest files).
Effort only changes what the encoder searches; every level writes files the
same decoder reads at the same speed. What each level does, and what it was
measured to buy, is in docs/effort.md. Torch-free, so the command line can
check the option before loading anything."""
import operator
from dataclasses import dataclass, replace

from iwave.errors import IWaveError

MIN_EFFORT, MAX_EFFORT = 1, 9
DEFAULT_EFFORT = 7


@dataclass(frozen=True)
class Settings:
    """What the encoder does at one effort level."""
    plan_samples: int          # the coding plans are fitted on about this many values a group
    plan_gain_steps: tuple     # the activity gains the plan search tries (none: no gains)
    rd_rounding: bool          # lossy: rate-distortion rounding after the dead zone
    lifting_paths: str = "own"  # lossless: "own" path, the "estimate"d best, or "all" coded
    directions: str = "no"     # lossy: lifting along directions: "no", where "estimate"d to pay,
    #                            or "both" ways coded and the better kept (iwave.directions_fit)
    pixels: bool = True        # lossless: groups may be coded pixel by pixel (else not, so that
    #                            previews decode the coarse subbands only)


_FULL = 1 << 30                # every value of a group
_LEVELS = {
    1: Settings(1024, (), False),
    2: Settings(2048, (8,), False),
    3: Settings(2048, (8,), True, "estimate", directions="estimate"),
    4: Settings(4096, (4, 8, 12), True, "estimate", directions="estimate"),
    5: Settings(4096, (4, 8, 12), True, "estimate", directions="estimate"),
    6: Settings(8192, (4, 8, 12), True, "estimate", directions="estimate"),
    7: Settings(8192, (4, 8, 12), True, "estimate", directions="estimate"),
    8: Settings(32768, (2, 4, 6, 8, 10, 12, 16), True, "estimate", directions="estimate"),
    9: Settings(_FULL, (2, 4, 6, 8, 10, 12, 16), True, "all", directions="both"),
}


def checked(effort) -> int:
    """The effort as an int (None: the default), or a clear error."""
    if effort is None:
        return DEFAULT_EFFORT
    try:
        level = operator.index(effort)      # ints and numpy integers, not 7.5 or "7"
    except TypeError:
        level = None
    if isinstance(effort, bool) or level is None or not MIN_EFFORT <= level <= MAX_EFFORT:
        raise IWaveError(f"effort must be a whole number from {MIN_EFFORT} to {MAX_EFFORT}, "
                         f"not {effort!r}")
    return level


def settings(effort, progressive=False) -> Settings:
    """What the encoder does at `effort`; `progressive`: no lossless group
    pixel by pixel (iwave compress --progressive)."""
    chosen = _LEVELS[checked(effort)]
    return replace(chosen, pixels=False) if progressive else chosen
