"""Where a lossy codec's BD-rate against its rivals comes from, image by
image: reads a benchmark's results.json (`iwave bench FOLDER --out DIR`
with the lossy codec, the anchors and a lossless iwave row) and prints each
image's BD-rate (PSNR-RGB) against each anchor beside its lossless bits per
sub-pixel (how much texture and noise it has), then the correlation of the
two across images.

    python docs/experiments/bd_by_image.py results/kodak/results.json [--codec iwave-lossy]
        [--anchors jpeg2000,heic-444] [--lossless iwave-lossless-ll] [--by-set]

With --by-set (for a benchmark without a lossless row) it prints instead the
median BD-rate of each set of images, a set being the images whose names
share their part before the first "_" (the training crops' source set).

It reads measurements only (no coding); conclusions drawn for the encoder
must be checked on held-out images, never tuned on Kodak."""
import argparse
import json

import numpy as np

from iwave.bench.metrics import bd_rate


def curves(results, name):
    """image -> (rates, PSNRs) of a lossy row, in rate order."""
    if name not in results["lossy"]:
        raise SystemExit(f"no lossy row {name!r} in these results (rows: {', '.join(results['lossy'])})")
    points = {}
    for point in results["lossy"][name]["points"]:
        for row in point["per_image"]:
            points.setdefault(row["image"], []).append((row["bpp"], row["psnr"]))
    return {image: tuple(map(list, zip(*sorted(p)))) for image, p in points.items()}


def parser(doc):
    """The command line of the scripts that read a benchmark's results.json:
    the file, the lossy codec's row and the anchors' rows."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("results")
    ap.add_argument("--codec", default="iwave-lossy")
    ap.add_argument("--anchors", default="jpeg2000,heic-444")
    return ap


def main():
    ap = parser(__doc__)
    ap.add_argument("--lossless", default="iwave-lossless-ll")
    ap.add_argument("--by-set", action="store_true", help="medians by the images' name prefix")
    args = ap.parse_args()
    results = json.load(open(args.results))
    anchors = args.anchors.split(",")
    test = curves(results, args.codec)
    rivals = {a: curves(results, a) for a in anchors}
    if args.by_set:
        sets = {}
        for image in test:
            sets.setdefault(image.split("_")[0], []).append(image)
        for name, images in sorted(sets.items()):
            medians = [np.nanmedian([np.nan if (b := bd_rate(rivals[a][i], test[i])) is None else b
                                     for i in images if i in rivals[a]]) for a in anchors]
            print(f"{name}: {len(images)} images, median BD-rate " +
                  ", ".join(f"vs {a} {m:+.1f}%" for a, m in zip(anchors, medians)))
        return
    texture = {r["image"]: r["bpsp"] for r in results["lossless"][args.lossless]["per_image"]}
    rows = sorted(test, key=lambda image: texture[image])
    print("image".ljust(24) + "lossless bpsp " + " ".join(f"vs {a:>10}" for a in anchors))
    table = []
    for image in rows:
        bds = [bd_rate(rivals[a][image], test[image]) for a in anchors]
        table.append([texture[image]] + [np.nan if b is None else b for b in bds])
        print(image.ljust(24) + f"{texture[image]:13.3f} " + " ".join(f"{b:12.1f}" for b in table[-1][1:]))
    table = np.array(table)
    half = len(rows) // 2
    for i, a in enumerate(anchors, 1):
        ok = ~np.isnan(table[:, i])
        print(f"vs {a}: correlation with lossless bpsp {np.corrcoef(table[ok, 0], table[ok, i])[0, 1]:+.2f}; "
              f"median BD-rate of the smoother half {np.nanmedian(table[:half, i]):+.1f}%, "
              f"of the more textured half {np.nanmedian(table[half:, i]):+.1f}%")


if __name__ == "__main__":
    main()
