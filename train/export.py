"""Exporting a trained model: the .npz with its card, and the card as markdown."""
import json
import os
import platform
from pathlib import Path

import torch

from iwave.train.validation import DENOISER_VAL_STEPS, LOSSY_VAL_STEPS


def export(model, summary, cfg, path, data_dir, val_dir, command):
    """Write weights/<name>.npz and its card <name>.md."""
    path = Path(path)
    on_gpu = next(model.parameters()).is_cuda
    gpu = f", {torch.cuda.get_device_name()}" if on_gpu else ""
    model = model.cpu()
    card = {"data": str(data_dir),
            "validation": str(val_dir) if val_dir
            else f"every {cfg['holdout_every']}th image of the data, held out",
            "steps": summary["steps"],
            "wall_seconds": round(summary["seconds"]), "machine": f"{platform.machine()}, "
            f"{os.cpu_count()} CPU threads{gpu}, torch {torch.__version__}",
            "val_bpsp_lossless": summary["val_bpsp"],
            "val_bpsp_lossy": summary.get("val_lossy_bpsp"),
            "val_denoiser_relative_mse": summary.get("val_denoiser"), "command": command, "config": cfg}
    if summary.get("val_rd") is not None:      # lossy stage 2's objective (train.validation)
        card["val_rate_distortion"] = summary["val_rd"]
    if summary.get("init_id"):
        card["init"] = {"path": cfg["init"], "id": summary["init_id"]}
        if model.coding_tables is not None:     # kept by train() (_codes_as)
            card["coding_tables"] = "the init's (its transform and context model are unchanged)"
    model.save(path, card)
    path.with_suffix(".md").write_text(card_markdown(path.stem, card))
    return card


def _validation_row(value, label, text, steps, rd_lambda=0.0):
    """A card row for a validation figure measured over several steps (none
    if absent), on indices rate-distortion rounded with rd_lambda if > 0
    (figures on other indices are not comparable)."""
    if value is None:
        return ""
    over = ", ".join(f"{q:g}" for q in steps)
    rd = f"; indices rate-distortion rounded, lambda {rd_lambda:g}" if rd_lambda else ""
    return f"| validation, {label} | {text.format(value)} over steps {over}{rd}) |\n"


def card_markdown(name, card):
    val = card["val_bpsp_lossless"]
    cfg = card["config"]
    rows = (_validation_row(card.get("val_bpsp_lossy"), "lossy", "{:.4f} bits per sub-pixel "
                            "(model estimate, geometric mean", LOSSY_VAL_STEPS,
                            cfg.get("rd_lambda", 0.0))
            + _validation_row(card.get("val_denoiser_relative_mse"), "denoiser", "squared error "
                              "x {:.4f} of the undenoised reconstruction (mean", DENOISER_VAL_STEPS,
                              cfg.get("denoiser_rd_lambda", 0.0)))
    init = (f"| started from | `{card['init']['path']}` (model {card['init']['id']}) |\n"
            if card.get("init") else "")
    if card.get("coding_tables"):
        init += f"| coding tables | {card['coding_tables']} |\n"
    include = card['config'].get("train_include")
    subset = f", the files matching {', '.join(f'`{p}`' for p in include)}" if include else ""
    return f"""# {name}

Made by `{card['command']}`.

| | |
|---|---|
| training data | `{card['data']}`{subset} (random {card['config']['crop']} px crops with flips) |
{init}| validation | {card['validation']} |
| steps | {card['steps']} (batch {card['config']['batch']}) |
| wall time | {card['wall_seconds'] / 60:.0f} min |
| machine | {card['machine']} |
| validation, lossless | {'n/a' if val is None else f'{val:.4f}'} bits per sub-pixel (model estimate) |
{rows}
Architecture and training settings: the `config` entry below and inside the .npz
(`meta.card`). Measured codec results (whole files) are added below by the
commands shown with them.

```json
{json.dumps(card['config'], indent=2)}
```
"""
