"""Measure what lossy tiling costs: PSNR-RGB of each image coded in small
tiles against the same image coded whole, at several steps.
python -m iwave.tilecheck DIR [--tile 256] [--steps 2,4,8,16,32] [--model PATH]

Small tiles give many seams, so this is a worst case for the default 1024."""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

from iwave.bench.runner import find_images
from iwave.bitstream import MAX_TILE
from iwave.codec import Codec
from iwave.errors import IWaveError
from iwave.evaluate import psnr
from iwave.imageio import read_image
from iwave.model import IWaveModel, resolve_model_paths


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m iwave.tilecheck", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", type=Path, help="folder of 8-bit RGB images")
    p.add_argument("--tile", type=int, default=256, help="tile size to test (default 256)")
    p.add_argument("--steps", default="2,4,8,16,32", help="comma-separated quantisation steps")
    p.add_argument("--model", help="model name or .npz (default: the shipped model for lossy files)")
    args = p.parse_args(argv)
    try:
        steps = [float(s) for s in args.steps.split(",")]
        model = IWaveModel.load(resolve_model_paths(args.model)["lossy"])
        tiled, whole = Codec(model, tile=args.tile), Codec(model, tile=MAX_TILE)
        images, _, _ = find_images(args.folder)
        rows = []
        for path in images:
            a = read_image(path)
            for s in steps:
                row = {"image": path.name, "step": s}
                for name, c in (("whole", whole), ("tiled", tiled)):
                    data = c.compress(a, step=s)
                    row[f"psnr_{name}"] = psnr(c.decompress(data), a)
                    row[f"bpp_{name}"] = len(data) * 8 / (a.shape[0] * a.shape[1])
                rows.append(row)
                print(f"{path.name} step {s:g}: whole {row['psnr_whole']:.3f} dB, "
                      f"tiled {row['psnr_tiled']:.3f} dB", file=sys.stderr)
    except (IWaveError, ValueError, OSError) as e:
        sys.exit(f"iwave tilecheck: {e}")
    by_step = {}
    for s in steps:
        r = [x for x in rows if x["step"] == s]
        by_step[str(s)] = {k: float(np.mean([x[k] for x in r]))
                           for k in ("psnr_whole", "psnr_tiled", "bpp_whole", "bpp_tiled")}
        by_step[str(s)]["psnr_loss_db"] = by_step[str(s)]["psnr_whole"] - by_step[str(s)]["psnr_tiled"]
    print(json.dumps({"folder": str(args.folder), "tile": args.tile, "images": len(images),
                      "model": model.identifier(), "by_step": by_step,
                      "worst_psnr_loss_db": max(v["psnr_loss_db"] for v in by_step.values()),
                      "per_image": rows}, indent=1))


if __name__ == "__main__":
    main()
