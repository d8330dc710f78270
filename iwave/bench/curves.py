"""Rate-distortion curves: per image and set-averaged, the BD-rate tables
between them, and published curves read from CompressAI-style JSON files."""
import fnmatch
import json
import statistics
from pathlib import Path

import numpy as np

from iwave.bench.metrics import bd_rate
from iwave.errors import IWaveError

DEFAULT_PUBLISHED_MATCH = ("vtm.json", "bpg*.json")


def set_curve(entry, metric="psnr"):
    pts = [(p["bpp"], p[metric]) for p in entry["points"]
           if p.get("bpp") is not None and p.get(metric) is not None]
    return [p[0] for p in pts], [p[1] for p in pts]


def image_curve(entry, image, metric="psnr"):
    pts = []
    for p in entry["points"]:
        for r in p["per_image"]:
            if r["image"] == image and r.get(metric) is not None and r.get("bpp") is not None:
                pts.append((r["bpp"], r[metric]))
    return [p[0] for p in pts], [p[1] for p in pts]


def bd_tables(lossy, published, images, metric="psnr"):
    """BD-rate (%) of every curve (row = test) against every other (column =
    anchor): per image (median and mean over the images where the curves
    overlap) and on set-averaged curves (published curves included)."""
    keys = list(lossy)
    curves = {k: set_curve(e, metric) for k, e in lossy.items()}
    curves.update({k: (p["bpp"], p[metric]) for k, p in published.items() if p.get(metric)})
    all_keys = keys + [k for k in published if k in curves]
    set_avg = {t: {a: (None if a == t else bd_rate(curves[a], curves[t])) for a in all_keys}
               for t in all_keys}
    med, mean, count = {}, {}, {}
    for t in keys:
        med[t], mean[t], count[t] = {}, {}, {}
        for a in keys:
            if a == t:
                med[t][a] = mean[t][a] = None
                count[t][a] = 0
                continue
            vals = [bd_rate(image_curve(lossy[a], im, metric), image_curve(lossy[t], im, metric))
                    for im in images]
            vals = [v for v in vals if v is not None]
            med[t][a] = float(statistics.median(vals)) if vals else None
            mean[t][a] = float(np.mean(vals)) if vals else None
            count[t][a] = len(vals)
    return {"metric": metric, "per_image_median": med, "per_image_mean": mean,
            "images_with_overlap": count, "set_average": set_avg}


def load_published(paths, patterns=DEFAULT_PUBLISHED_MATCH):
    """CompressAI-style JSON result files (a folder contributes the files
    matching `patterns`)."""
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.glob("*.json")
                            if any(fnmatch.fnmatch(f.name, pat) for pat in patterns))
        elif p.is_file():
            files.append(p)
        else:
            raise IWaveError(f"--published {p}: no such file or folder")
    out = {}
    for f in files:
        try:
            d = json.loads(f.read_text())
            r = d["results"]
            bpp = [float(x) for x in r["bpp"]]
            psnr = [float(x) for x in r.get("psnr-rgb", r.get("psnr", []))]
            ms = r.get("ms-ssim-rgb", r.get("ms-ssim"))
            msdb = ([-10 * np.log10(1 - float(x)) for x in ms] if ms else None)
        except (ValueError, KeyError, TypeError) as e:
            raise IWaveError(f"{f}: not a CompressAI-style result file ({e})") from None
        order = np.argsort(bpp)
        out[f"published:{f.stem}"] = {
            "name": f"{d.get('name', f.stem)} (published)", "file": str(f),
            "bpp": [bpp[i] for i in order],
            "psnr": [psnr[i] for i in order] if len(psnr) == len(bpp) else None,
            "msssim_db": [float(msdb[i]) for i in order] if msdb and len(msdb) == len(bpp) else None}
    return out
