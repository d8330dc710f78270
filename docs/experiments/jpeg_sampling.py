"""What the half-resolution chroma form (file format 19) saves on photos
that went through a JPEG at each chroma sampling: each picture of FOLDER
saved by Pillow (libjpeg-turbo) at QUALITY with 4:4:4, 4:2:2 and 4:2:0
chroma, decoded, and coded losslessly with the form and with it switched
off (format 18's encoder: the full-resolution YCbCr planes); sizes and
encode times in one process, one thread; every decode checked exact.
--size WxH resizes each picture first (Lanczos), for pictures of a
camera's size; --only 4:2:0 (or another) codes one sampling.

    PYTHONPATH=. OMP_NUM_THREADS=1 python docs/experiments/jpeg_sampling.py FOLDER [QUALITY] [--size WxH] [--only S]"""
import io
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

import iwave
from iwave import ycbcr420_fit
from iwave.imageio import read_image

SAMPLINGS = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


def coded(a, form=True):
    planes = ycbcr420_fit.planes
    if not form:
        ycbcr420_fit.planes = lambda rgb: None
    try:
        t = time.perf_counter()
        data = iwave.compress(a)
        return data, time.perf_counter() - t
    finally:
        ycbcr420_fit.planes = planes


def main():
    torch.set_num_threads(1)
    args, options = [], {}
    argv = iter(sys.argv[1:])
    for a in argv:
        if a in ("--size", "--only"):
            options[a] = next(argv)
        else:
            args.append(a)
    folder = args[0]
    quality = int(args[1]) if len(args) > 1 else 90
    samplings = {k: v for k, v in SAMPLINGS.items() if options.get("--only", k) == k}
    totals = {k: [0, 0, 0.0, 0.0] for k in samplings}
    for name in sorted(os.listdir(folder)):
        src = read_image(os.path.join(folder, name))[..., :3]
        if "--size" in options:
            size = tuple(int(v) for v in options["--size"].split("x"))
            src = np.asarray(Image.fromarray(src).resize(size, Image.LANCZOS))
        for label, sub in samplings.items():
            buf = io.BytesIO()
            Image.fromarray(src).save(buf, "JPEG", quality=quality, subsampling=sub)
            a = np.asarray(Image.open(buf).convert("RGB"))
            (new, t_new), (old, t_old) = coded(a), coded(a, form=False)
            assert (iwave.decompress(new) == a).all() and (iwave.decompress(old) == a).all()
            t = totals[label]
            t[0], t[1], t[2], t[3] = t[0] + len(old), t[1] + len(new), t[2] + t_old, t[3] + t_new
            print(f"{name} {label}: {8 * len(old) / a.size:.3f} -> {8 * len(new) / a.size:.3f} bpsp "
                  f"({len(new) / len(old) - 1:+.1%}), encode {t_new / t_old:.2f}x", flush=True)
    for label, (old, new, t_old, t_new) in totals.items():
        print(f"all {label}: {new / old - 1:+.1%} bytes, encode {t_new / t_old:.2f}x the form switched off")


if __name__ == "__main__":
    main()
