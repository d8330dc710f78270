"""What the YCbCr form (file format 18) costs in time, as ratios measured in
one process, one thread: for each picture of FOLDER that was decoded from
YCbCr, the default encode (both forms coded) against the same encoder with
the form switched off and against JPEG XL e9 (imagecodecs, one thread), and
the decode of each file against each other's and JPEG XL's; the three are
timed in turn, REPEATS times, and the medians compared. With --half, the
form with chroma at half resolution (format 19) alone is switched off, for
the pictures decoded from 4:2:0.

    PYTHONPATH=. OMP_NUM_THREADS=1 python docs/experiments/ycbcr_speed.py FOLDER [REPEATS] [--half]"""
import os
import sys
import time

import imagecodecs
import numpy as np
import torch

import iwave
from iwave import ycbcr420_fit, ycbcr_fit
from iwave.imageio import read_image


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


FITS = ycbcr420_fit if "--half" in sys.argv else ycbcr_fit     # the form measured


def without_form(fn, *args):
    planes, FITS.planes = FITS.planes, lambda rgb: None
    try:
        return fn(*args)
    finally:
        FITS.planes = planes


def main():
    torch.set_num_threads(1)
    args = [a for a in sys.argv[1:] if a != "--half"]
    folder, repeats = args[0], int(args[1]) if len(args) > 1 else 3
    enc, dec = [], []
    for name in sorted(os.listdir(folder)):
        rgb = read_image(os.path.join(folder, name))[..., :3]
        if FITS.planes(np.moveaxis(rgb, -1, 0)) is None:
            continue
        jxl_enc = lambda: imagecodecs.jpegxl_encode(rgb, lossless=True, effort=9, numthreads=1)  # noqa: E731
        times = {k: [] for k in ("new", "off", "jxl", "new_d", "off_d", "jxl_d")}
        for _ in range(repeats):
            t, new = timed(iwave.compress, rgb)
            times["new"].append(t)
            t, off = timed(without_form, iwave.compress, rgb)
            times["off"].append(t)
            t, jxl = timed(jxl_enc)
            times["jxl"].append(t)
            times["new_d"].append(timed(iwave.decompress, new)[0])
            times["off_d"].append(timed(iwave.decompress, off)[0])
            times["jxl_d"].append(timed(lambda: imagecodecs.jpegxl_decode(jxl, numthreads=1))[0])
        m = {k: float(np.median(v)) for k, v in times.items()}
        enc.append((m["new"] / m["off"], m["new"] / m["jxl"], m["off"] / m["jxl"]))
        dec.append((m["new_d"] / m["off_d"], m["new_d"] / m["jxl_d"], m["off_d"] / m["jxl_d"]))
        print(f"{name}: encode {enc[-1][0]:.2f}x the form switched off, {enc[-1][1]:.2f}x JPEG XL e9 "
              f"(off: {enc[-1][2]:.2f}x); decode {dec[-1][0]:.2f}x, {dec[-1][1]:.2f}x "
              f"(off: {dec[-1][2]:.2f}x)", flush=True)
    e, d = np.median(enc, 0), np.median(dec, 0)
    print(f"median of {len(enc)} pictures: encode {e[0]:.2f}x the form switched off, {e[1]:.2f}x JPEG XL e9 "
          f"(off: {e[2]:.2f}x); decode {d[0]:.2f}x, {d[1]:.2f}x JPEG XL e9 (off: {d[2]:.2f}x)")


if __name__ == "__main__":
    main()
