"""python -m iwave.train: train a model on a folder of images (see --help)."""
import sys

import torch

from iwave.train.config import DEFAULT_CONFIG_PATH, load_config
from iwave.train.distributed import Distributed
from iwave.train.export import export
from iwave.train.loop import train


def main_args(argv=None):
    import argparse
    p = argparse.ArgumentParser(prog="python -m iwave.train",
                                description="Train an iwave model on a folder of images.")
    p.add_argument("data", help="folder of training images (RGB, at least --crop px)")
    p.add_argument("--val", help="folder of validation images (default: every Nth training "
                                 "image is held out, N = config holdout_every)")
    p.add_argument("--out", default="runs/default", help="run folder: checkpoint, log.csv, config")
    p.add_argument("--config", default=str(DEFAULT_CONFIG_PATH),
                   help="JSON config file (default: train/configs/default.json)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config entry, e.g. --set steps=500 --set model.ctx_width=12")
    p.add_argument("--export", metavar="PATH.npz", help="write the trained model here when done")
    p.add_argument("--device", default="cpu",
                   help="where the model trains: cpu (default) or cuda; a GPU run's weights "
                        "differ slightly from a CPU run's (float rounding order)")
    p.add_argument("--stop-at", type=int, metavar="STEP",
                   help="stop at this step of the config's schedule (the learning rate still "
                        "follows the full schedule); rerunning the same command reproduces it")
    return p.parse_args(argv)


def main(argv=None):
    args = main_args(argv)
    cfg = load_config(args.config, args.set)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    ddp = Distributed(args.device)
    model, summary = train(cfg, args.data, args.out, args.val, ddp=ddp, stop_at=args.stop_at,
                           device=args.device)
    ddp.close()
    if not ddp.main:
        return
    print(f"finished {summary['steps']} steps in {summary['seconds'] / 60:.1f} min; "
          f"validation {summary['val_bpsp']} bpsp (lossless)"
          + (f", {summary['val_lossy_bpsp']:.4f} bpsp (lossy)" if summary.get("val_lossy_bpsp") else "")
          + (f", rate+distortion {summary['val_rd']:.4f}" if summary.get("val_rd") else "")
          + (f", denoiser x {summary['val_denoiser']:.4f} MSE" if summary.get("val_denoiser") else ""))
    if args.export:
        command = "python -m iwave.train " + " ".join(sys.argv[1:] if argv is None else argv)
        export(model, summary, cfg, args.export, args.data, args.val, command)
        print(f"wrote {args.export}")


if __name__ == "__main__":
    main()
