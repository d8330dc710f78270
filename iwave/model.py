"""The iwave model: lifting transform + context model + per-subband weights,
saved as a plain .npz (no pickle) and identified by a hash of its content."""
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from iwave.entropy.context_model import ContextModel
from iwave.entropy.tables import check_tables, load_tables, resolution_of
from iwave.colour import YCOCG_SYNTHESIS_GAINS
from iwave.denoiser import Denoiser
from iwave.errors import IWaveError
from iwave.lifting import LiftingTransform
from iwave.shipped import ARCHIVE, INDEX, model_files, weights_dirs

DEFAULT_CONFIG = {"levels": 4, "wavelet": "cdf53", "lift_hidden": 2,
                  "ctx_width": 8, "lstm_hidden": 4}
DEFAULT_MODEL_NAME = "iwave-default"
# Lossless and lossy files use these models when they are shipped and no
# model is named (else iwave-default).
DEFAULT_LOSSLESS_MODEL_NAME = "iwave-lossless"
DEFAULT_LOSSY_MODEL_NAME = "iwave-lossy"
# Models no longer used for new files, kept so that files made with them
# still decode (weights/archive/).
# How lossy mode works (config["lossy"]); a model without the entry keeps the
# original behaviour, so files made with it still decode identically.
LOSSY_DEFAULTS = {"wavelet": None,          # linear path of the real-valued transform
                  "colour_weights": False,  # steps scaled by each colour component's RGB gain
                  "centroid": False,        # reconstruct at the predicted bin centroid
                  "condition_max_step": None}   # largest step the context model is told about


def resolve_model_path(name_or_path=None) -> Path:
    """A path, or the name of a shipped model (default: iwave-default)."""
    name = name_or_path or os.environ.get("IWAVE_MODEL") or DEFAULT_MODEL_NAME
    p = Path(name)
    if p.suffix == ".npz" or p.exists():
        if not p.is_file():
            raise IWaveError(f"model file not found: {p}")
        return p
    for d in weights_dirs():
        if (d / f"{name}.npz").is_file():
            return d / f"{name}.npz"
    raise IWaveError(f"no model named '{name}' (looked in {', '.join(map(str, weights_dirs()))})")


def resolve_model_paths(name_or_path=None) -> dict:
    """{"lossless": path, "lossy": path}: a named model (argument or
    IWAVE_MODEL) codes both; by default lossless files use iwave-lossless
    and lossy files iwave-lossy, each replaced by iwave-default where it is
    not shipped."""
    name = name_or_path or os.environ.get("IWAVE_MODEL")
    if name:
        path = resolve_model_path(name)
        return {"lossless": path, "lossy": path}
    default = resolve_model_path(DEFAULT_MODEL_NAME)

    def shipped_or_default(name):
        try:
            return resolve_model_path(name)
        except IWaveError:
            return default

    return {"lossless": shipped_or_default(DEFAULT_LOSSLESS_MODEL_NAME),
            "lossy": shipped_or_default(DEFAULT_LOSSY_MODEL_NAME)}


_ids = {}      # (path, mtime) -> identifier, so a lookup loads each model file once


def find_shipped_model(identifier):
    """The shipped (or archived) model whose identifier is `identifier`, or
    None: a file names the model that made it, and decodes with it whatever
    model the codec was started with."""
    for d in weights_dirs():
        for p in sorted(d.glob("*.npz")) + sorted((d / ARCHIVE).glob("*.npz")):
            key = (str(p), p.stat().st_mtime_ns)
            model = None
            if key not in _ids:
                try:
                    model = IWaveModel.load(p)
                    _ids[key] = model.identifier()
                except IWaveError:
                    _ids[key] = None
            if _ids[key] == identifier:
                return model or IWaveModel.load(p)
    return None


def synthesis_gains(transform: LiftingTransform, size=128):
    """Energy of each subband's synthesis basis function (linear path), used to
    weight quantisation steps so every band adds comparable distortion."""
    with torch.no_grad():
        zero = transform(torch.zeros((1, 1, size, size), dtype=torch.float64))
        gains = []
        for b, band in enumerate(zero):
            h, w = band.shape[-2:]
            bands = [t.clone() for t in zero]
            bands[b][..., h // 2, w // 2] = 1.0
            y = transform.linear_inverse(bands)
            gains.append(float((y ** 2).sum()))
    return gains


class IWaveModel(nn.Module):
    """One trained iwave model: the lifting transform (LiftingTransform),
    the context model that predicts every coefficient's Laplace mean and
    scale (entropy.context_model.ContextModel), the lossy denoiser if the
    config has one, and the coder's frequency tables fitted to it. `config`
    (DEFAULT_CONFIG fills what it leaves out) and the weights make its
    `identifier()`, which every file records, so a file always decodes with
    the model that made it. `load`/`save` read and write the .npz files in
    weights/; the per-step helpers (lossy_steps, condition_steps,
    denoiser_applies) say how a user's quantisation step maps onto the
    subbands, the context model's conditioning and the denoiser."""

    def __init__(self, config=None, band_weights=None):
        super().__init__()
        self.config = dict(DEFAULT_CONFIG, **(config or {}))
        c = self.config
        self.transform = LiftingTransform(c["levels"], c["wavelet"], c["lift_hidden"],
                                          self.lossy_option("wavelet"))
        self.context = ContextModel(c["levels"], c["ctx_width"], c["lstm_hidden"],
                                    c.get("parent_context", False), c.get("mean_resolution", 1))
        # Lossy colour images are cleaned by a denoiser if the config has one.
        self.denoiser = Denoiser(**c["denoiser"]) if c.get("denoiser") else None
        if band_weights is None:
            gains = synthesis_gains(self.transform)
            band_weights = [1.0 / float(np.sqrt(g)) for g in gains]
            band_weights = [w / band_weights[-1] for w in band_weights]   # finest HH = 1
        self.band_weights = [float(w) for w in band_weights]
        self.name = None        # the file's name when loaded from one
        self.card = {}          # what training wrote about it (meta.card), when loaded
        # The coder's frequency tables fitted to this model (entropy.tables.
        # fit_tables; train.tables makes them), or None: the Laplace tables.
        self.coding_tables = None

    @property
    def tables(self):
        """The frequency tables the coder uses with this model: its fitted
        ones, or the Laplace tables for its mean resolution."""
        if self.coding_tables is not None:
            return self.coding_tables
        return load_tables(self.mean_resolution)

    @property
    def mean_resolution(self):
        """The coder's means are multiples of 1/mean_resolution."""
        return self.context.mean_resolution

    def lossy_option(self, key):
        return self.config.get("lossy", {}).get(key, LOSSY_DEFAULTS[key])

    def lossy_steps(self, step, n_comp):
        """Quantisation step of each (subband, component) for a user step.
        With colour weights, a component whose errors reach RGB more weakly
        gets a coarser step (sqrt of Y's gain over its own): equal RGB
        distortion per bit, which is what PSNR-RGB rewards."""
        comp = [1.0] * n_comp
        if self.lossy_option("colour_weights") and n_comp == 3:
            comp = [float(np.sqrt(YCOCG_SYNTHESIS_GAINS[0] / g)) for g in YCOCG_SYNTHESIS_GAINS]
        return [[step * w * c for c in comp] for w in self.band_weights]

    def condition_steps(self, step, n_comp):
        """The steps the context model is conditioned on: lossy_steps of the
        user step capped at the largest step the model was trained with.
        Beyond it the model would extrapolate, and larger steps made larger
        files."""
        cap = self.lossy_option("condition_max_step")
        return self.lossy_steps(step if cap is None else min(step, cap), n_comp)

    def denoiser_applies(self, step):
        """Whether lossy colour decoding at this step runs the denoiser."""
        d = self.denoiser
        return d is not None and (d.min_step is None or step >= d.min_step)

    def trained_for(self, lossy: bool) -> bool:
        """Whether training showed this model files of that mode (the
        lossy_fraction of the config on its card); a model without a card
        is taken to serve both."""
        fraction = self.card.get("config", {}).get("lossy_fraction")
        if fraction is None:
            return True
        return fraction > 0 if lossy else fraction < 1

    @property
    def levels(self):
        return self.config["levels"]

    def identifier(self) -> str:
        """16 hex digits identifying config + weights; stored in every file."""
        h = hashlib.sha256(json.dumps(self._meta(), sort_keys=True).encode())
        for name, t in sorted(self.state_dict().items()):
            h.update(name.encode())
            h.update(t.detach().to(torch.float32).contiguous().numpy().tobytes())
        if self.coding_tables is not None:   # (models without tables keep their old ids)
            h.update(b"coding_tables")
            for a in self.coding_tables:
                h.update(np.ascontiguousarray(a, dtype="<i8").tobytes())
        return h.hexdigest()[:16]

    def _meta(self):
        return {"config": self.config, "band_weights": self.band_weights}

    def save(self, path, card=None):
        arrays = {f"param/{k}": v.detach().to(torch.float32).numpy()
                  for k, v in self.state_dict().items()}
        if self.coding_tables is not None:
            arrays["tables/cum"] = self.coding_tables.cum.astype("<i4")   # frequencies <= 2**16
            arrays["tables/radius"] = self.coding_tables.radius.astype("<i4")
        meta = dict(self._meta(), card=card or {})
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        tmp = Path(str(path) + ".tmp")
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path):
        try:
            with open(path, "rb") as f:
                if f.read(4) != b"PK\x03\x04":          # an .npz is a zip archive
                    raise IWaveError(f"cannot load model {path}: not an iwave model file (.npz)")
            with np.load(path, allow_pickle=False) as f:
                meta = json.loads(bytes(f["meta"]).decode())
                state = {k[6:]: torch.from_numpy(f[k].copy()) for k in f.files
                         if k.startswith("param/")}
                tables = (f["tables/cum"], f["tables/radius"]) if "tables/cum" in f.files else None
            model = cls(meta["config"], meta["band_weights"])
            model.load_state_dict(state)
            if tables is not None:
                model.coding_tables = check_tables(*tables)
                if resolution_of(model.coding_tables.cum) != model.mean_resolution:
                    raise ValueError("coding tables do not match the model's mean resolution")
            model.name = Path(path).stem
            model.card = meta.get("card", {})
        except IWaveError:
            raise
        except Exception as e:
            raise IWaveError(f"cannot load model {path}: {e}") from None
        model.eval()
        return model


def build_index():
    """identifier -> name of every shipped model (what weights/index.json holds)."""
    return {IWaveModel.load(p).identifier(): name for name, p in model_files().items()}


if __name__ == "__main__":     # python -m iwave.model: rewrite weights/index.json
    folder = weights_dirs()[0]
    (folder / INDEX).write_text(json.dumps(build_index(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {folder / INDEX}")
