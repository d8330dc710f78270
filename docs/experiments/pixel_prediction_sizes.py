"""Bytes of each held-out image's YCoCg-R planes coded pixel by pixel
(iwave.pixel_prediction, format 20 on) alone, and their total: the measure
its constants were chosen on (each variant an edit of the module, run again;
docs/effort.md "Pixel by pixel"); with --every-variant each plane with its
best blend variant, as effort 9 codes it.

    python docs/experiments/pixel_prediction_sizes.py photos5 CROPS
"""
import argparse
import time
from pathlib import Path

import numpy as np

from iwave import pixel_prediction_fit
from iwave.codec import Codec
from iwave.colour import rgb_to_ycocg
from iwave.imageio import read_image


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="+", help="folders of held-out 8-bit RGB PNGs (never Kodak)")
    ap.add_argument("--every-variant", action="store_true", help="each plane's best blend variant (effort 9)")
    args = ap.parse_args()
    files = [f for d in args.folders for f in sorted(Path(d).glob("*.png"))]
    model = Codec().model_for(False)
    total, start = 0, time.time()
    for f in files:
        planes = np.ascontiguousarray(np.moveaxis(rgb_to_ycocg(read_image(f)[:, :, :3].astype(np.int64)), -1, 0))
        size = sum(map(len, pixel_prediction_fit.encode(model, planes, every_variant=args.every_variant)))
        total += size
        print(f"{f.name[:48]:48s} {size:9d}")
    print(f"total {total} bytes, {len(files)} images, {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
