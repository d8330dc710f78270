"""Two lossy models on the same held-out images, at the benchmark's eight
steps (12 to 320): each image's BD-rate (PSNR-RGB) of model B against
model A, and their median.

    python docs/experiments/model_pair.py A.npz B.npz FOLDER [FOLDER ...] [--out out.json]

A model is a path or a shipped name (iwave-lossy). One thread; files are
coded and decoded through iwave.Codec, so sizes are whole files."""
import argparse
import json
from pathlib import Path

import numpy as np
import torch

import iwave
from iwave.bench.codecs import spread
from iwave.bench.metrics import bd_rate, psnr_rgb
from iwave.files import list_images
from iwave.imageio import read_image

STEPS = spread(12.0, 320.0, 8, geometric=True)      # the benchmark's (iwave.bench.runner)


def measure(codec, rgb):
    rates, psnrs = [], []
    for step in STEPS:
        data = codec.compress(rgb, step=step)
        rates.append(len(data) * 8 / (rgb.shape[0] * rgb.shape[1]))
        psnrs.append(psnr_rgb(rgb, codec.decompress(data)))
    return rates, psnrs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("folders", nargs="+")
    ap.add_argument("--out", help="write every image's curves and BD-rate here (JSON)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    codecs = [iwave.Codec(model=m) for m in (args.a, args.b)]
    out = {}
    for folder in args.folders:
        for path in list_images(Path(folder)):
            rgb = read_image(path)[..., :3]
            a, b = (measure(c, rgb) for c in codecs)
            out[str(path)] = {"a": a, "b": b, "bd": bd_rate(a, b)}
            print(f"{Path(path).name}: {out[str(path)]['bd']:+.2f}%", flush=True)
            if args.out:
                Path(args.out).write_text(json.dumps(out, indent=1))
    bds = [v["bd"] for v in out.values() if v["bd"] is not None]
    print(f"median over {len(bds)} images: {np.median(bds):+.2f}% (mean {np.mean(bds):+.2f}%)")


if __name__ == "__main__":
    main()
