"""Where iwave's lossless files are larger than JPEG XL's (a reading,
nothing built). Two measurements:

    python docs/experiments/lossless_gap.py results RESULTS.json [--codec iwave-lossless-ll] [--anchor jxl-ll-e9]

reads a benchmark's results.json (`iwave bench FOLDER --codecs
iwave-lossless-ll,jxl-ll-e9 --no-lossy`) and prints each image's size
ratio beside the anchor's bits per sub-pixel (how smooth the image is), the
correlation of the two, and the median ratio over the smoother and the more
textured half. It reads measurements only (Kodak may be read, never tuned on).

    python docs/experiments/lossless_gap.py planes HELD_OUT_FOLDER

codes each held-out image's YCoCg-R planes (the codec's own lossless colour
transform) alone, as grey images, with iwave and with JPEG XL at efforts 3
(its weighted predictor, no per-image context tree) and 9 (the tree learned
per image), beside the RGB image coded whole: which plane the gap sits in,
and whether JPEG XL's per-image tree is what gains there.

    python docs/experiments/lossless_gap.py subsampling FOLDER

for each picture decoded from YCbCr (iwave.ycbcr_fit finds its planes),
whether its Cb plane looks upsampled from half resolution, as a 4:2:0
JPEG's (libjpeg's "fancy" upsampling, (3a + b) / 4 each way): the mean
error of the best half-resolution plane found at each of the four 2x2
alignments; one alignment far below the others says 4:2:0.

    python docs/experiments/lossless_gap.py synthetic

codes smooth random pictures (Gaussian-blurred noise) with white or grainy
(slightly blurred) noise added, grey, 384 x 512, with iwave and JPEG XL e9."""
import argparse
import json
import os

import imagecodecs
import numpy as np
import torch

import iwave
from iwave.imageio import read_image


def per_image(results, name):
    rows = results["lossless"][name]["per_image"]
    return {r["image"]: r["bpsp"] for r in rows}


def read_results(args):
    with open(args.results) as f:
        results = json.load(f)
    ours, theirs = per_image(results, args.codec), per_image(results, args.anchor)
    images = sorted(ours, key=lambda i: theirs[i])
    ratio = np.array([ours[i] / theirs[i] for i in images])
    smooth = np.array([theirs[i] for i in images])
    for i, r in zip(images, ratio):
        print(f"{i:24s} {args.anchor} {theirs[i]:.3f} bpsp  {args.codec} {ours[i]:.3f}  ratio {r:.3f}")
    half = len(images) // 2
    print(f"correlation of the ratio with {args.anchor}'s bpsp: {np.corrcoef(ratio, smooth)[0, 1]:+.2f}")
    print(f"median ratio, smoother half: {np.median(ratio[:half]):.3f}; "
          f"more textured half: {np.median(ratio[half:]):.3f}; all: {np.median(ratio):.3f}")


def planes(rgb):
    """YCoCg-R as iwave's lossless colour transform computes it; chroma
    moved to non-negative values (16-bit grey images)."""
    r, g, b = (rgb[..., i].astype(np.int32) for i in range(3))
    co = r - b
    t = b + (co >> 1)
    cg = g - t
    return {"Y": (t + (cg >> 1)).astype(np.uint16), "Co": (co + 255).astype(np.uint16),
            "Cg": (cg + 255).astype(np.uint16)}


def bits(data, size):
    return len(data) * 8 / size


def code_planes(folder):
    torch.set_num_threads(1)
    totals = {}
    for name in sorted(os.listdir(folder)):
        rgb = read_image(os.path.join(folder, name))[..., :3]
        row = []
        for plane, p in planes(rgb).items():
            ours = bits(iwave.compress(p), p.size)
            e3 = bits(imagecodecs.jpegxl_encode(p, lossless=True, effort=3), p.size)
            e9 = bits(imagecodecs.jpegxl_encode(p, lossless=True, effort=9), p.size)
            row.append(f"{plane} {ours:.3f} (e3 {ours / e3 - 1:+.1%}, e9 {ours / e9 - 1:+.1%})")
            for key, v in ((plane, ours), (plane + " e3", e3), (plane + " e9", e9)):
                totals[key] = totals.get(key, 0.0) + v
        whole = bits(iwave.compress(rgb), rgb.size)
        jxl = bits(imagecodecs.jpegxl_encode(rgb, lossless=True, effort=9), rgb.size)
        row.append(f"RGB {whole:.3f} bpsp (e9 {whole / jxl - 1:+.1%})")
        print(name, " | ".join(row), flush=True)
    print("sum over images, iwave against JPEG XL e3 / e9 by plane: " + ", ".join(
        f"{p} {totals[p] / totals[p + ' e3'] - 1:+.1%} / {totals[p] / totals[p + ' e9'] - 1:+.1%}"
        for p in ("Y", "Co", "Cg")))


def gaussian_filter(x, sigma):
    """x blurred by a Gaussian of `sigma` pixels (periodic, through the FFT)."""
    fy, fx = np.fft.fftfreq(x.shape[0])[:, None], np.fft.fftfreq(x.shape[1])[None, :]
    return np.real(np.fft.ifft2(np.fft.fft2(x) * np.exp(-2 * (np.pi * sigma) ** 2 * (fy ** 2 + fx ** 2))))


def synthetic():
    torch.set_num_threads(1)
    rng = np.random.default_rng(1)
    for blur in (4.0, 16.0):
        for sigma in (1.0, 2.0, 4.0):
            base = gaussian_filter(rng.standard_normal((384, 512)), blur)
            base = base / base.std() * 30
            for name, noise in (("white", rng.standard_normal((384, 512))),
                                ("grainy", gaussian_filter(rng.standard_normal((384, 512)), 0.7) * 2.2)):
                z = np.clip(np.round(128 + base + sigma * noise), 0, 255).astype(np.uint8)
                ours = bits(iwave.compress(z), z.size)
                jxl = bits(imagecodecs.jpegxl_encode(z, lossless=True, effort=9), z.size)
                print(f"blur {blur:g}, noise {sigma:g} {name}: iwave {ours:.3f}, JPEG XL e9 {jxl:.3f} "
                      f"({ours / jxl - 1:+.1%})", flush=True)


def _upsampled(c, axis):
    c = np.moveaxis(c, axis, 0)
    before, after = np.concatenate([c[:1], c[:-1]]), np.concatenate([c[1:], c[-1:]])
    out = np.empty((2 * len(c),) + c.shape[1:])
    out[0::2], out[1::2] = (3 * c + before) / 4, (3 * c + after) / 4
    return np.moveaxis(out, 0, axis)


def subsampling(folder):
    from iwave import ycbcr_fit
    for name in sorted(os.listdir(folder)):
        found = ycbcr_fit.planes(np.moveaxis(read_image(os.path.join(folder, name))[..., :3], -1, 0))
        if found is None:
            print(f"{name}: not decoded from YCbCr")
            continue
        errors = {}
        for oy, ox in ((0, 0), (0, 1), (1, 0), (1, 1)):
            cb = found[0][1, oy:, ox:].astype(np.float64)
            h, w = cb.shape[0] // 2 * 2, cb.shape[1] // 2 * 2
            cb = cb[:h, :w]
            low = cb.reshape(h // 2, 2, w // 2, 2).mean((1, 3))
            for _ in range(20):        # the half-resolution plane whose upsampling is nearest
                up = _upsampled(_upsampled(low, 0), 1)
                low = low + 1.5 * (cb - up).reshape(h // 2, 2, w // 2, 2).mean((1, 3))
            up = _upsampled(_upsampled(np.round(low), 0), 1)
            errors[f"{oy}{ox}"] = float(np.abs(cb - np.round(up))[2:-2, 2:-2].mean())
        print(f"{name}: error by alignment (row, column) " + ", ".join(f"{k} {v:.3f}" for k, v in errors.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("results", help="per-image ratios from a benchmark's results.json")
    r.add_argument("results")
    r.add_argument("--codec", default="iwave-lossless-ll")
    r.add_argument("--anchor", default="jxl-ll-e9")
    p = sub.add_parser("planes", help="code held-out images' YCoCg-R planes alone")
    p.add_argument("folder")
    s = sub.add_parser("subsampling", help="whether pictures decoded from YCbCr had 4:2:0 chroma")
    s.add_argument("folder")
    sub.add_parser("synthetic", help="smooth synthetic pictures with noise")
    args = ap.parse_args()
    if args.what == "results":
        read_results(args)
    elif args.what == "planes":
        code_planes(args.folder)
    elif args.what == "subsampling":
        subsampling(args.folder)
    else:
        synthetic()


if __name__ == "__main__":
    main()
