"""Training loop: fixed seeds, CSV log, periodic validation, checkpoints
every few minutes with exact resume. (Configs: train.config; export and
cards: train.export; the command: python -m iwave.train.)

Data-parallel when started by torchrun: every process draws its own batches
(seeded by rank), gradients are averaged with all-reduce (gloo on CPU, NCCL on
GPU), and rank 0 alone validates, logs and checkpoints."""
import contextlib
import csv
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch

from iwave.errors import IWaveError
from iwave.colour import YCOCG_SYNTHESIS_GAINS
from iwave.encoder import RD_LAMBDA
from iwave.model import IWaveModel, synthesis_gains
from iwave.train.averaging import WeightAverage
from iwave.train.data import CropDataset
from iwave.train.distributed import Distributed, device_for
from iwave.train.grow import grown, grown_denoiser
from iwave.train.losses import analyse, bits_per_subpixel, denoiser_loss, encoder_indices, rd_loss
from iwave.train.validation import validate, validate_denoiser, validate_lossy, validate_rd

def cosine(lr, lr_final, step, steps):
    """Cosine decay from lr to lr_final over `steps`."""
    t = min(step / max(steps, 1), 1.0)
    return lr_final + 0.5 * (lr - lr_final) * (1 + math.cos(math.pi * t))


def learning_rate(cfg, step):
    return cosine(cfg["lr"], cfg["lr_final"], step, cfg["steps"])


LOG_HEADER = ["step", "seconds", "lr", "mode", "step_size", "train_loss", "val_bpsp", "val_denoiser",
              "val_lossy_bpsp", "val_rd"]


def _save_checkpoint(path, model, opts, step, rngs, elapsed, cfg, average=None, init_id=None):
    tmp = path.with_suffix(".tmp")
    state = {"model": model.state_dict(), "opt": opts["context"].state_dict(), "step": step,
             "rng": rngs[0], "rngs": rngs, "elapsed": elapsed, "config": cfg,
             "band_weights": model.band_weights, "init_id": init_id}
    if average is not None:
        state["ema"] = average.state_dict()
    if "denoiser" in opts:
        state["opt_denoiser"] = opts["denoiser"].state_dict()
    torch.save(state, tmp)
    os.replace(tmp, path)


def _lifting_parameters(model, cfg):
    """Parameters of the lifting CNNs that stage 2 trains (config
    `lifting_lr_scale` > 0: their learning rate relative to `lr`), or [].
    Only steps with a linear path learn: the CNN of a step whose linear
    prediction is zero (P2, U2 of 5/3 and 9/7-M) sees a constant and could
    only add one. Lossless models (lossy_fraction 0) learn the integer
    rate with the context model; lossy ones (lossy_fraction 1, a "lossy"
    model) learn rate and distortion through the real-valued transform,
    alone (train.losses.rd_loss).
    Never both: the two modes share the CNNs but not their linear paths."""
    scale = cfg["lifting_lr_scale"]
    if not isinstance(scale, (int, float)) or scale < 0:
        raise SystemExit("config lifting_lr_scale must be a number >= 0 (0: the transform stays fixed)")
    if not scale:
        return []
    lossy = cfg["lossy_fraction"] == 1 and "lossy" in cfg["model"]
    if cfg["lossy_fraction"] > 0 and not lossy:
        raise SystemExit("config lifting_lr_scale > 0 (stage 2) needs lossy_fraction 0 (the "
                         "lifting CNNs learn lossless rates) or 1 with a \"lossy\" model (rate "
                         "and distortion of lossy coding)")
    t = model.transform
    taps = t.lossy_coeffs if lossy else t.coeffs
    return [p for step, pair in zip(t.steps, taps) if any(pair) for p in step.parameters()]


def _bit_cost(model):
    """Squared RGB error per sub-pixel that one bit per sub-pixel is worth at
    step 1, as the encoder's rate-distortion rounding weighs them: a bit is
    RD_LAMBDA squared steps of the finest HH band (band weight 1), whose
    errors reach RGB with that band's synthesis gain times luma's colour gain
    (the band and colour weights make every other step's errors alike)."""
    return RD_LAMBDA * YCOCG_SYNTHESIS_GAINS[0] * synthesis_gains(model.transform)[-1]


def _load_model_state(model, saved, step, cfg):
    """A checkpoint made before the config gained a denoiser lacks its
    weights: that is fine while the run has not reached the denoiser stage
    (a finished context stage can be extended with one)."""
    missing, unexpected = model.load_state_dict(saved, strict=False)
    late = [k for k in missing if not k.startswith("denoiser.")]
    if late or unexpected or (missing and step > cfg["steps"]):
        raise SystemExit(f"checkpoint does not match the config's model "
                         f"(missing {missing[:3]}, unexpected {unexpected[:3]})")


def _average(model, cfg):
    try:
        return WeightAverage(model, cfg["ema"])
    except ValueError as e:
        raise SystemExit(str(e)) from None


def _averaged(average, model):
    return average.applied(model) if average is not None else contextlib.nullcontext()


def _same_shapes(state, model, prefix):
    """Whether `state` holds exactly the model's parameters under `prefix`,
    shape for shape (else a config's new denoiser starts afresh)."""
    mine = {k: v.shape for k, v in model.state_dict().items() if k.startswith(prefix)}
    theirs = {k: v.shape for k, v in state.items() if k.startswith(prefix)}
    return mine == theirs


def _codes_as(model, init):
    """Whether `model` codes exactly as the model `init` does: the same band
    weights and every weight but the denoiser's unchanged (a denoiser-only
    fine-tune), so init's fitted coding tables (train.tables) still fit."""
    def coding(m):
        return {k: v.cpu() for k, v in m.state_dict().items() if not k.startswith("denoiser.")}
    mine, theirs = coding(model), coding(init)
    return (model.band_weights == init.band_weights and mine.keys() == theirs.keys()
            and all(torch.equal(v, theirs[k]) for k, v in mine.items()))


def init_model(path):
    """The model file `path` (config "init"), to start from."""
    try:
        return IWaveModel.load(path)
    except IWaveError as e:
        raise SystemExit(f"config init: {e}") from None


def _take_denoiser(model, path, device):
    """Config "denoiser_init": the model file `path`'s denoiser weights, which
    must have the config's denoiser shape, replace the run's own."""
    donor = {k: v.to(device) for k, v in init_model(path).state_dict().items()
             if k.startswith("denoiser.")}
    if model.denoiser is None or not donor or not _same_shapes(donor, model, "denoiser."):
        raise SystemExit(f"config denoiser_init {path}: its denoiser is not the shape of the "
                         "config's model.denoiser")
    model.load_state_dict(donor, strict=False)


def _log_uniform(rng, lo_hi):
    lo, hi = lo_hi
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def train(cfg, data_dir, out_dir, val_dir=None, progress=True, stop_after=None, ddp=None,
          stop_at=None, device="cpu"):
    """Train (resuming from out_dir/checkpoint.pt if present) under `cfg`, a
    dict with every setting (train.config.load_config). `stop_after`
    ends this invocation after that many steps, as an interruption would;
    `stop_at` ends it at that step of the schedule (a run cut short on purpose,
    reproducible from scratch by the same command). `device`: "cpu" or "cuda"
    (the model trains there; crops are drawn on the CPU either way).

    Stage 1 (`steps`): the context model learns the rate on the fixed
    transform; with `lifting_lr_scale` > 0 (stage 2) the lifting CNNs learn
    too (_lifting_parameters), or alone for a lossy model. Stage 3
    (`denoiser_steps`, if the model has a denoiser): the dequantisation
    denoiser learns on lossy reconstructions, all else frozen."""
    if cfg["mean_rounding"] not in ("straight-through", "expected"):
        raise SystemExit("config mean_rounding must be \"straight-through\" or \"expected\"")
    rounding = cfg["quantiser_rounding"]
    if cfg["rate_weighting"] not in ("absolute", "relative"):
        raise SystemExit("config rate_weighting must be \"absolute\" or \"relative\"")
    relative_rate = cfg["rate_weighting"] == "relative"
    if not 0.0 < rounding <= 0.5:
        raise SystemExit("config quantiser_rounding must be in (0, 0.5]: 0.5 rounds to the "
                         "nearest, less rounds with a dead zone as iwave's encoder does (0.4)")
    # Lossy batches can be quantised as the encoder quantises: the dead zone,
    # then its rate-distortion rounding (iwave.codec.RD_LAMBDA), which zeroes
    # more values; rd_lambda for the context model, denoiser_rd_lambda for the denoiser
    rd_lambda, dn_rd_lambda = cfg["rd_lambda"], cfg["denoiser_rd_lambda"]
    for key, value in (("rd_lambda", rd_lambda), ("denoiser_rd_lambda", dn_rd_lambda)):
        if not 0.0 <= value <= 10.0:
            raise SystemExit(f"config {key} must be between 0 (dead zone only) and 10")
    ddp = ddp or Distributed()
    device = device_for(device, ddp)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "checkpoint.pt"
    torch.manual_seed(cfg["seed"])        # same initial weights on every rank
    rng = np.random.default_rng(cfg["seed"] + 1000003 * ddp.rank)   # rank 0: the single-process stream
    progress = progress and ddp.main
    try:
        model = IWaveModel(cfg["model"]).to(device)
    except ValueError as e:
        raise SystemExit(f"config model: {e}") from None
    stages = {"context": list(model.context.parameters())}
    groups = [{"params": stages["context"]}]
    lifting = _lifting_parameters(model, cfg)
    # lossy stage 2: the lifting CNNs alone learn rate and distortion
    lossy_rd = bool(lifting) and cfg["lossy_fraction"] > 0
    bit_cost = _bit_cost(model) if lossy_rd else None
    if lossy_rd:
        stages["context"], groups = lifting, [{"params": lifting, "lr_scale": cfg["lifting_lr_scale"]}]
    elif lifting:     # lossless stage 2: the lifting CNNs learn the rate alongside the context model
        stages["context"] = stages["context"] + lifting
        groups.append({"params": lifting, "lr_scale": cfg["lifting_lr_scale"]})
    opts = {"context": torch.optim.Adam(groups, lr=cfg["lr"])}
    dn_steps = cfg["denoiser_steps"] if model.denoiser is not None else 0
    if dn_steps:
        stages["denoiser"] = list(model.denoiser.parameters())
        opts["denoiser"] = torch.optim.Adam(stages["denoiser"], lr=cfg["denoiser_lr"])
    step, elapsed = 0, 0.0
    saved_average, init_id, init = None, None, None
    if cfg["init"]:      # fine-tuning: start from a trained model's weights
        init = init_model(cfg["init"])
        init_id = init.identifier()
        init_state = {k: v.to(device) for k, v in init.state_dict().items()}
        try:
            if model.denoiser is not None and not _same_shapes(init_state, model, "denoiser."):
                # a config's larger denoiser grows from the init's, or starts afresh
                kept = {k: v for k, v in init_state.items() if not k.startswith("denoiser.")}
                if cfg["grow_denoiser"]:
                    kept.update(grown_denoiser(init_state, model))
                init_state = kept
            # a wider context model grows from a narrower one
            init_state = grown(init_state, model)
        except ValueError as e:
            raise SystemExit(f"config init {cfg['init']}: {e}") from None
        _load_model_state(model, init_state, 0, cfg)
    if cfg["denoiser_init"]:     # e.g. a context model trained afresh under a trained denoiser
        _take_denoiser(model, cfg["denoiser_init"], device)
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False, map_location=device)
        step, elapsed = state["step"], state["elapsed"]
        started = state.get("init_id")      # (older checkpoints do not say)
        if started and started != init_id:
            # the card would name the wrong starting point, e.g. after the
            # init file was replaced by a newer model: point init at the old one
            raise SystemExit(f"{ckpt} started from model {started}, but config init "
                             f"{cfg['init']} is {init_id or 'not set'}: "
                             "give the file it started from")
        _load_model_state(model, state["model"], step, cfg)
        opts["context"].load_state_dict(state["opt"])
        if "opt_denoiser" in state and "denoiser" in opts:
            opts["denoiser"].load_state_dict(state["opt_denoiser"])
        rngs = state.get("rngs", [state["rng"]])
        if len(rngs) != ddp.world:
            raise SystemExit(f"{ckpt} was made with {len(rngs)} process(es); resume it with as many")
        rng.bit_generator.state = rngs[ddp.rank]
        saved_average = state.get("ema")
        if ddp.main:
            print(f"resumed from {ckpt} at step {step}", flush=True)
    average = _average(model, cfg) if cfg["ema"] else None
    if average is not None and saved_average is not None:
        average.load_state_dict(saved_average)   # (else it starts from the current weights)
    if ddp.main:
        (out / "config.json").write_text(json.dumps(cfg, indent=2))

    if val_dir:
        data = CropDataset(data_dir, cfg["crop"], include=cfg["train_include"])
        val = CropDataset(val_dir, cfg["crop"])
    else:   # hold out every Nth image of the training folder
        n = cfg["holdout_every"]
        data = CropDataset(data_dir, cfg["crop"], "train", n, cfg["train_include"])
        val = CropDataset(data_dir, cfg["crop"], "val", n)
    val_rgb = val.fixed_crops(cfg["validation_images"]) if val and ddp.main else None
    val_bands = analyse(model, val_rgb) if val_rgb is not None else None

    def validate_lossless():     # a learning transform changes the validation subbands too
        bands = analyse(model, val_rgb) if lifting else val_bands
        return validate(model, bands)
    val_lossy = (analyse(model, val_rgb, rounding=False)
                 if val_rgb is not None and cfg["lossy_fraction"] > 0 and "lossy" in cfg["model"]
                 else None)

    def validate_lossy_bits():
        bands = analyse(model, val_rgb, rounding=False) if lifting else val_lossy
        return validate_lossy(model, bands, rounding, rd_lambda)

    log_path = out / ("log.csv" if ddp.main else f"log.rank{ddp.rank}.csv")
    new_log = not log_path.exists() or step == 0
    if not new_log:   # drop rows logged after the checkpoint we resumed from
        header, *rows = log_path.read_text().splitlines()
        kept = [r for r in rows if int(r.split(",")[0]) <= step]
        old = header.split(",")
        pad = "," * (len(LOG_HEADER) - len(old))       # a log from before columns were added
        log_path.write_text("".join(line + "\n" for line in [",".join(LOG_HEADER)] +
                                    [r + pad for r in kept]))
    log = open(log_path, "w" if new_log else "a", newline="")
    writer = csv.writer(log)
    if new_log:
        writer.writerow(LOG_HEADER)
    model.train()
    last_ckpt = time.time()
    t0 = time.time() - elapsed
    first = step
    total = cfg["steps"] + dn_steps
    last = min(total, stop_at if stop_at is not None else total)
    while step < last and (stop_after is None or step - first < stop_after):
        rgb = data.batch(rng, cfg["batch"])
        logged = None       # what the log shows as the loss, if not the loss itself
        if step < cfg["steps"]:
            stage = "context"
            lr = learning_rate(cfg, step)
            lossy = rng.random() < cfg["lossy_fraction"]
            # Lossy files use the real-valued transform; models made before the
            # "lossy" config entry existed were trained on the integer one.
            q, steps = 1.0, None
            if lossy:
                q = _log_uniform(rng, cfg["step_range"])
                steps = model.lossy_steps(q, 3)
            if lossy_rd:
                loss = rd_loss(model, rgb, q, bit_cost, rounding, rd_lambda,
                               noise_seed=rng.integers(2 ** 31))[2]
            else:
                bands = analyse(model, rgb, rounding=not (lossy and "lossy" in cfg["model"]),
                                learn=bool(lifting))
                if lossy:
                    bands = encoder_indices(model, bands, steps, rounding, rd_lambda)
                loss = bits_per_subpixel(model, bands, steps=steps,
                                         expected_rounding=cfg["mean_rounding"] == "expected")
                if lossy and relative_rate:
                    # coarse steps' few bits would otherwise barely move the
                    # model: each step's relative saving counts alike, as in
                    # BD-rate's log-rate (the log shows the bits themselves)
                    logged, loss = loss.detach(), loss / loss.detach().clamp_min(1e-4)
            mode = "lossy" if lossy else "lossless"
        else:
            stage, mode = "denoiser", "denoiser"
            lr = cosine(cfg["denoiser_lr"], cfg["lr_final"], step - cfg["steps"],
                        dn_steps)
            q = _log_uniform(rng, cfg["denoiser_step_range"])
            loss = denoiser_loss(model, rgb, q, rounding, dn_rd_lambda)
        logged = (loss if logged is None else logged).item()
        params, opt = stages[stage], opts[stage]
        for g in opt.param_groups:
            g["lr"] = lr * g.get("lr_scale", 1.0)
        opt.zero_grad()
        loss.backward()
        ddp.average_gradients(params)
        norm = torch.nn.utils.clip_grad_norm_(params, cfg["grad_clip"])
        if torch.isfinite(loss) and torch.isfinite(norm):   # never let one bad batch poison the weights
            opt.step()
        if average is not None:
            average.update(model)
        step += 1
        val_bits = val_dn = val_lossy_bits = val_rd = ""
        if val_bands is not None and (step % cfg["validate_every"] == 0 or step == last):
            with _averaged(average, model):
                if stage == "context":
                    val_bits = f"{validate_lossless():.4f}"
                    if val_lossy is not None:
                        val_lossy_bits = f"{validate_lossy_bits():.4f}"
                    if lossy_rd:
                        val_rd = f"{validate_rd(model, val_rgb, bit_cost, rounding, rd_lambda):.4f}"
                else:
                    val_dn = f"{validate_denoiser(model, val_rgb, rounding, dn_rd_lambda):.4f}"
        writer.writerow([step, f"{time.time() - t0:.1f}", f"{lr:.2e}", mode,
                         f"{q:.3f}", f"{logged:.4f}", val_bits, val_dn, val_lossy_bits, val_rd])
        if progress and (step % 10 == 0 or val_bits or val_dn):
            unit = "bits" if stage == "context" else "x MSE (denoiser)"
            shown = (f"val {val_bits} bpsp  " + (f"lossy {val_lossy_bits}  " if val_lossy_bits else "")
                     + (f"rate+distortion {val_rd}  " if val_rd else "")
                     if val_bits else
                     f"val {val_dn} x MSE  " if val_dn else "")
            print(f"\rstep {step}/{total}  loss {logged:.3f} {unit}  {shown}"
                  f"{(time.time() - t0) / 60:.1f} min", end="\n" if shown else "", flush=True)
        due = time.time() - last_ckpt > 60 * cfg["checkpoint_minutes"]
        if ddp.world > 1:       # every rank must agree, or the gather below would hang
            due = ddp.average(float(due)) > 0
        if due or step == last or step - first == stop_after:
            log.flush()
            rngs = ddp.gather(rng.bit_generator.state)
            if ddp.main:
                _save_checkpoint(ckpt, model, opts, step, rngs, time.time() - t0, cfg, average,
                                 init_id)
            last_ckpt = time.time()
    log.close()
    print()
    if average is not None:     # what the run exports (the checkpoint keeps the raw weights)
        average.apply_to(model)
    if init is not None and init.coding_tables is not None and _codes_as(model, init):
        model.coding_tables = init.coding_tables     # so no train.tables run is needed
    return model, {"steps": step, "seconds": time.time() - t0,
                   "init_id": init_id,
                   "val_bpsp": validate_lossless() if val_bands is not None else None,
                   "val_lossy_bpsp": validate_lossy_bits() if val_lossy is not None else None,
                   "val_rd": (validate_rd(model, val_rgb, bit_cost, rounding, rd_lambda)
                              if lossy_rd and val_rgb is not None else None),
                   "val_denoiser": (validate_denoiser(model, val_rgb, rounding, dn_rd_lambda)
                                    if val_rgb is not None and step > cfg["steps"] else None)}


