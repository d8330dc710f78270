"""Fit a model's coding tables: the last stage of making a model.

The context model is trained under a Laplace likelihood, but the residuals
it leaves are not exactly Laplace. This codes the training images (never the
held-out ones) exactly as the encoder does, counts how often each symbol of
each frequency table is coded, and stores tables fitted to those counts in
the model (entropy.tables.fit_tables). Then it codes the held-out images with
the old and the new tables and reports both sizes, so the card says what
the tables are worth.

    python -m iwave.train.tables MODEL.npz DATA --out NEW.npz [--lossless] [--steps 12,24,48]
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from iwave.entropy.laplace_coder import symbol_counts
from iwave.entropy.tables import fit_tables
from iwave.codec import Codec
from iwave.encoder import coded_streams, component_groups, subbands
from iwave.errors import IWaveError
from iwave.model import IWaveModel
from iwave.train.data import add_sample_options, list_images, training_sample


def _settings(lossless, steps):
    return ([None] if lossless else []) + list(steps)


def coded_streams_of(model, files, settings, what, progress=True):
    """Every component stream's (plans, symbols) (iwave.encoder.coded_streams)
    when the encoder codes the colour components of `files` losslessly
    (setting None) and at each lossy step."""
    for i, path in enumerate(files):
        x, _ = component_groups(np.asarray(Image.open(path).convert("RGB")))[0]
        for step in settings:
            bands, cond = subbands(model, x, 8, step)
            yield from coded_streams(model, bands, 8, cond)
        if progress:
            print(f"\r{what}: {i + 1}/{len(files)} images", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)


def count_symbols(model, files, settings, progress=True):
    """Symbol counts of the colour components of `files`, coded losslessly
    (setting None) and at each lossy step, exactly as the encoder codes them."""
    counts = np.zeros(model.tables.cum.shape, np.int64)
    for _, symbols in coded_streams_of(model, files, settings, "counting symbols", progress):
        for v, m, k in symbols:
            symbol_counts(v, m, k, counts, model.tables)
    return counts


def held_out_bits(model, files, settings):
    """Mean bits per sub-pixel of whole files, per setting, for these images."""
    codec = Codec(model)
    out = []
    for step in settings:
        total = values = 0
        for path in files:
            a = np.asarray(Image.open(path).convert("RGB"))
            total += 8 * len(codec.compress(a, step=step))
            values += a.size
        out.append(total / values)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m iwave.train.tables", description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="the trained model (.npz)")
    p.add_argument("data", help="the folder the model was trained on")
    p.add_argument("--out", required=True, help="where to write the model with its tables (.npz)")
    p.add_argument("--lossless", action="store_true", help="count lossless coding")
    p.add_argument("--steps", default="", help="count lossy coding at these steps (comma-separated)")
    add_sample_options(p, 200)
    p.add_argument("--prior", type=float, default=64.0,
                   help="weight of each table's Laplace shape, in values (default 64)")
    args = p.parse_args(argv)
    try:
        steps = [float(s) for s in args.steps.split(",") if s.strip()]
    except ValueError:
        raise SystemExit("error: --steps must be numbers separated by commas")
    if not args.lossless and not steps:
        raise SystemExit("error: give --lossless, --steps or both")
    src = Path(args.model)
    try:
        model = IWaveModel.load(src)
    except IWaveError as e:
        raise SystemExit(f"error: {e}")
    src_card = src.with_suffix(".md")
    card_text = src_card.read_text() if src_card.is_file() else f"# {src.stem}\n"
    torch.set_num_threads(max(1, torch.get_num_threads()))
    train_files = training_sample(args.data, args.images, args.holdout_every)
    val_files = list_images(args.data, "val", args.holdout_every)
    settings = _settings(args.lossless, steps)
    t0 = time.time()
    base_id = model.identifier()
    counts = count_symbols(model, train_files, settings)
    before = held_out_bits(model, val_files, settings)
    model.coding_tables = fit_tables(counts, args.prior)
    after = held_out_bits(model, val_files, settings)
    names = ["lossless" if s is None else f"step {s:g}" for s in settings]
    rows = "".join(f"| {n} | {b:.4f} | {a:.4f} | {100 * (a / b - 1):+.2f}% |\n"
                   for n, b, a in zip(names, before, after))
    command = "python -m iwave.train.tables " + " ".join(sys.argv[1:] if argv is None else argv)
    card = dict(model.card, coding_tables={
        "command": command, "from_model": base_id, "images": len(train_files),
        "settings": names, "held_out_bpsp_laplace": before, "held_out_bpsp_fitted": after})
    model.save(args.out, card)
    section = f"""
## Coding tables

Frequency tables fitted to the symbols this model codes on {len(train_files)} training
images ({', '.join(names)}), by `{command}`
(from model {base_id}; {(time.time() - t0) / 60:.0f} min). Whole files of the
{len(val_files)} held-out images, bits per sub-pixel:

| coding | Laplace tables | fitted tables | change |
|---|---|---|---|
{rows}"""
    text = card_text.replace(f"# {src.stem}\n", f"# {Path(args.out).stem}\n", 1)
    Path(args.out).with_suffix(".md").write_text(text.rstrip("\n") + "\n" + section)
    print(f"wrote {args.out} (model {model.identifier()})")
    for n, b, a in zip(names, before, after):
        print(f"{n}: held-out {b:.4f} -> {a:.4f} bpsp ({100 * (a / b - 1):+.2f}%)")


if __name__ == "__main__":
    main()
