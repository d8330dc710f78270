"""Training configs: every setting, its default and its meaning in one place.

A config file (JSON) sets only what differs from the defaults below or from
the config it names as its `base` (a file name in the same folder, without
.json); `--set KEY=VALUE` overrides on top (dotted keys reach into `model`).
`model` is the model's own config (iwave.model.DEFAULT_CONFIG fills what it
leaves out) and is merged key by key with the base's. A key that is not a
setting is an error, so a misspelt one cannot be silently ignored."""
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

CONFIGS = Path(__file__).parent / "configs"
DEFAULT_CONFIG_PATH = CONFIGS / "default.json"


@dataclass(frozen=True)
class TrainConfig:
    model: dict = field(default_factory=dict)   # the model's config (iwave.model.DEFAULT_CONFIG)
    init: str = None              # model file to start from (fine-tuning), or none
    crop: int = 128               # training crops, pixels a side
    batch: int = 8
    steps: int = 2500             # context-model steps (stage 1; 0: skip it)
    lr: float = 0.002             # cosine decay from lr to lr_final over `steps`
    lr_final: float = 0.0001
    grad_clip: float = 5.0
    lossy_fraction: float = 0.4   # share of batches quantised (lossy); the rest lossless
    step_range: list = field(default_factory=lambda: [0.5, 256.0])   # lossy steps, log-uniform
    quantiser_rounding: float = 0.5   # dead zone of the training quantiser (0.5: plain rounding)
    mean_rounding: str = "straight-through"   # or "expected": how rounded means get gradients
    rd_lambda: float = 0.0        # > 0: lossy batches rate-distortion rounded as the encoder does
    rate_weighting: str = "absolute"  # "relative": each lossy batch's bits over their own value
    lifting_lr_scale: float = 0   # > 0: stage 2, the lifting CNNs learn at lr x this
    ema: float = None             # weight averaging decay, or none
    denoiser_steps: int = 0       # denoiser steps after stage 1 (0: none)
    denoiser_lr: float = None     # default: lr
    denoiser_step_range: list = None      # default: step_range
    denoiser_rd_lambda: float = 0.0       # > 0: the denoiser learns on RD-rounded indices
    denoiser_init: str = None     # model file whose trained denoiser (same shape) this run keeps
    grow_denoiser: bool = False   # init's smaller denoiser grown into the config's, not a fresh one
    seed: int = 1
    checkpoint_minutes: float = 3
    validate_every: int = 250
    validation_images: int = 41
    holdout_every: int = 20       # every Nth image held out for validation (without --val)
    train_include: list = None    # file-name patterns: train on the matching images only


SETTINGS = {f.name for f in fields(TrainConfig)}


class ConfigError(SystemExit):
    """A config that cannot be used; its message says why (exits the trainer)."""


def merge(base, over):
    """`over` on top of `base`; nested dicts (the model's config) key by key."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def read_config(path, seen=()):
    """A config file's settings with its bases' merged under them."""
    path = Path(path)
    if path in seen:
        raise ConfigError(f"config {path}: its bases form a loop")
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config {path}: no such file") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"config {path}: not valid JSON ({e})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config {path}: expected a JSON object")
    base = raw.pop("base", None)
    if base is None:
        return raw
    return merge(read_config(path.parent / f"{base}.json", seen + (path,)), raw)


def load_config(path, overrides=()):
    """The full settings of a config file with --set overrides: a dict with
    every setting of TrainConfig (what training reads, and what the exported
    card records)."""
    cfg = read_config(path)
    for item in overrides:
        key, _, value = item.partition("=")
        node = cfg
        *parents, leaf = key.split(".")
        for k in parents:
            node = node.setdefault(k, {})
        try:
            node[leaf] = json.loads(value)
        except json.JSONDecodeError:
            node[leaf] = value
    unknown = sorted(set(cfg) - SETTINGS)
    if unknown:
        raise ConfigError(f"config {path}: unknown setting{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(unknown)} (see train/config.py for the settings)")
    cfg = asdict(TrainConfig(**cfg))
    if cfg["denoiser_lr"] is None:
        cfg["denoiser_lr"] = cfg["lr"]
    if cfg["denoiser_step_range"] is None:
        cfg["denoiser_step_range"] = cfg["step_range"]
    include = cfg["train_include"]
    if isinstance(include, str):          # one pattern, as `--set train_include=bsds*` gives it
        cfg["train_include"] = include = [include]
    if include is not None and not (isinstance(include, list) and include
                                    and all(isinstance(p, str) for p in include)):
        raise ConfigError(f"config {path}: train_include must be a file-name pattern or a list of them")
    return cfg
