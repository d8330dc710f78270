"""Start a wider model from a trained narrower one (config "init" with, say, a
larger model.ctx_width or model.lift_hidden, or with "grow_denoiser" a wider
or deeper denoiser), keeping what the narrow model computes.

Training a larger context model from scratch costs hours on a CPU; growing
one keeps the narrow model's rate from the first step and lets the new units
learn on top of it (the Net2Net idea). Every tensor that grew keeps the
trained values in its leading slice; the new units get the wider model's own
fresh initialisation for their incoming weights, and every weight from a new
unit into an old one is zero, so old units, and the outputs, compute exactly
what they did (zero stays zero in the exact arithmetic too). The gradient of
those zero weights is not zero, so the new units start to count at once.
"""
import torch


def grow_state(narrow: dict, wide: dict) -> dict:
    """`narrow`'s tensors laid into `wide`'s shapes (a state dict of the wider
    model as freshly initialised). Tensors of equal shape are copied; a
    tensor may only grow, dimension by dimension."""
    out = {}
    for key, fresh in wide.items():
        old = narrow.get(key)
        if old is None:
            continue      # a missing tensor is for the caller to refuse or allow
        if old.shape == fresh.shape:
            out[key] = old
            continue
        if old.dim() != fresh.dim() or any(o > n for o, n in zip(old.shape, fresh.shape)):
            raise ValueError(f"{key}: cannot grow {tuple(old.shape)} into {tuple(fresh.shape)}")
        new = fresh.detach().clone()
        if new.dim() >= 2:    # (out, in, ...): new inputs feed no old output
            new[:old.shape[0], old.shape[1]:] = 0
        new[tuple(slice(0, s) for s in old.shape)] = old.to(new.dtype)
        out[key] = new
    for key, old in narrow.items():
        out.setdefault(key, old)     # left over: the caller's strict load reports it
    return out


# Their tensors are all (out, in, ...) or (band, channel): the phase networks'
# width (model.ctx_width) and the lifting CNNs' hidden units (model.lift_hidden).
GROWABLE = ("context.phase_nets.", "transform.steps.")


def grown(narrow: dict, model: torch.nn.Module) -> dict:
    """State dict for `model` grown from `narrow` (see grow_state). Only the
    phase networks' width and the lifting CNNs' hidden units may grow: the
    LSTM's gates are laid out in four blocks and the phase networks' inputs
    in groups, which a leading-slice copy would scramble."""
    wide = model.state_dict()
    for key, t in narrow.items():
        if key in wide and t.shape != wide[key].shape and not key.startswith(GROWABLE):
            raise ValueError(f"{key} changed shape ({tuple(t.shape)} -> "
                             f"{tuple(wide[key].shape)}); only model.ctx_width and "
                             "model.lift_hidden may grow")
        if key.endswith(".mix.weight") and t.shape[1] != wide[key].shape[1]:
            raise ValueError(f"{key}: the phase networks' inputs changed; only model.ctx_width may grow")
    return grow_state(narrow, wide)


def grown_denoiser(narrow: dict, model: torch.nn.Module) -> dict:
    """The denoiser's part of a state dict for `model`, grown from the
    smaller trained denoiser in `narrow` (config "grow_denoiser"): more
    hidden units as grow_state lays them (new units feed zero weights into
    the old ones and into the output), and each block the narrow denoiser
    lacks appended as the identity (its depthwise kernel the centre tap, its
    1x1 the identity matrix, no biases): its input has just been through a
    ReLU, so the ReLU after it changes nothing either. The grown denoiser
    computes exactly what the trained one did."""
    prefix = "denoiser."
    wide = {k: v for k, v in model.state_dict().items() if k.startswith(prefix)}
    old = {k: v for k, v in narrow.items() if k.startswith(prefix)}
    if not old:
        raise ValueError("the init model has no denoiser to grow")
    out = grow_state(old, wide)
    extra = sorted(set(out) - set(wide))
    if extra:
        raise ValueError(f"the config's denoiser is smaller than the init's ({extra[0]})")
    for key, fresh in wide.items():
        if key in out:
            continue
        if not key.startswith(prefix + "blocks."):
            raise ValueError(f"{key}: only the denoiser's hidden units and blocks may grow")
        ident = torch.zeros_like(fresh)
        if key.endswith(".0.weight"):         # depthwise 3x3: the centre tap
            ident[:, 0, 1, 1] = 1.0
        elif key.endswith(".1.weight"):       # 1x1, hidden to hidden
            ident[:, :, 0, 0] = torch.eye(fresh.shape[0], dtype=fresh.dtype)
        out[key] = ident
    return out
