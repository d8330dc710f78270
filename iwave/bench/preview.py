"""Previews from the pyramid, measured: `python -m iwave.bench.preview FOLDER
--out results/preview [--quality 80 --quality 60] [--images N] [--repeats R]`.

For each image (every image of FOLDER, or the first N in name order), and
for its lossless file, its progressive lossless file (no group pixel by
pixel: compress --progressive) and a lossy file at each quality, it times a full
decode and decodes at scales 1/2, 1/4 and 1/8 in the same process (warm:
models loaded, numba compiled, one untimed decode of each first; then R
rounds over the scales, median per scale), and reports the speed ratio full /
preview and the PSNR of each preview against the original box-downscaled
(the mean of each 2^k x 2^k block, partial edge blocks averaged over what
exists; no rounding). Lossy previews also get their PSNR against the same
low-pass computed from the original without quantisation (the lossy
transform's band of level k, made into pixels as the decoder does): what
quantisation alone costs the preview. Writes results.json and results.md."""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

LEVELS = (1, 2, 3)


def box_downscale(a, level):
    """The mean of each 2^level x 2^level block (partial edge blocks: over the
    samples they have), float64, shape (ceil(H/2^k), ceil(W/2^k), ...)."""
    f = 1 << level
    a = a.astype(np.float64)
    h, w = a.shape[:2]
    hp, wp = -(-h // f) * f, -(-w // f) * f
    padded = np.zeros((hp, wp) + a.shape[2:])
    padded[:h, :w] = a
    count = np.zeros((hp, wp))
    count[:h, :w] = 1
    blocks = lambda x: x.reshape((hp // f, f, wp // f, f) + x.shape[2:]).sum(axis=(1, 3))
    n = blocks(count)
    return blocks(padded) / n.reshape(n.shape + (1,) * (a.ndim - 2))


def psnr(a, b, peak):
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(peak ** 2 / mse)


def unquantised_low_pass(model, image, level):
    """The lossy preview the decoder would give without quantisation: the
    original's real-valued transform, inverted back to the band of level
    `level`, normalised and made into pixels like the decoder's preview
    (8-bit RGB, one tile)."""
    import torch
    from iwave.colour import rgb_to_ycocg, ycocg_to_rgb
    from iwave.preview import dc_gain
    t = model.transform
    x = torch.from_numpy(np.moveaxis(rgb_to_ycocg(image), -1, 0)[:, None].astype(np.float64))
    with torch.no_grad():
        bands = t.forward(x, 8, rounding=False)
        low = t.inverse(bands[:1 + 3 * (t.levels - level)], 8, rounding=False)
    low = torch.floor(low[:, 0] / dc_gain(t.lossy_coeffs) ** (2 * level) + 0.5).to(torch.int64).numpy()
    return np.clip(ycocg_to_rgb(np.moveaxis(low, 0, -1)), 0, 255)


def _timings(codec, data, repeats):
    """Median seconds of a full decode (level 0) and of each preview level."""
    levels = (0,) + LEVELS
    for k in levels:                      # warm: one untimed decode each
        codec.decompress(data, scale=f"1/{1 << k}")
    times = {k: [] for k in levels}
    for _ in range(repeats):              # rounds over the scales: drift hits all alike
        for k in levels:
            t = time.perf_counter()
            codec.decompress(data, scale=f"1/{1 << k}")
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def measure(codec, path, qualities, repeats):
    from iwave.imageio import read_image
    image = read_image(path)
    peak = 65535 if image.dtype == np.uint16 else 255
    rows = []
    for mode, quality, progressive in [("lossless", None, False), ("lossless progressive", None, True)] + [
            (f"quality {q:g}", q, False) for q in qualities]:
        data = codec.compress(image, quality=quality, progressive=progressive)
        full = codec.decompress(data)
        if quality is None:
            assert np.array_equal(full, image), f"{path}: lossless round trip failed"
        t = _timings(codec, data, repeats)
        row = {"image": Path(path).name, "mode": mode, "bytes": len(data), "full_s": t[0], "scales": {}}
        for k in LEVELS:
            p = codec.decompress(data, scale=f"1/{1 << k}")
            s = {"shape": list(p.shape), "seconds": t[k], "speedup": t[0] / t[k],
                 "psnr_box": psnr(p, box_downscale(image, k), peak)}
            if quality is not None and image.ndim == 3 and image.shape[2] == 3:
                s["psnr_unquantised"] = psnr(p, unquantised_low_pass(codec.model_for(True), image, k), peak)
            row["scales"][f"1/{1 << k}"] = s
        rows.append(row)
    return rows


def run(folder, qualities=(80,), images=None, repeats=3, progress=True):
    from iwave import __version__
    from iwave.bench.runner import machine_info
    from iwave.codec import Codec
    from iwave.files import list_images
    paths = list_images(folder)[:images]
    codec = Codec()
    rows = []
    for n, path in enumerate(paths, 1):
        rows += measure(codec, path, qualities, repeats)
        if progress:
            print(f"{n}/{len(paths)} {path.name}", file=sys.stderr, flush=True)
    return {"command": "python -m iwave.bench.preview " + " ".join(sys.argv[1:]),
            "iwave": __version__, "threads": codec.threads, "machine": machine_info(),
            "images": [p.name for p in paths], "repeats": repeats,
            "models": {m: codec.model_for(m == "lossy").name for m in ("lossless", "lossy")},
            "rows": rows, "summary": summary(rows)}


def summary(rows):
    out = {}
    for mode in dict.fromkeys(r["mode"] for r in rows):
        mine = [r for r in rows if r["mode"] == mode]
        entry = {"images": len(mine), "bytes": sum(r["bytes"] for r in mine),
                 "full_s_median": statistics.median(r["full_s"] for r in mine)}
        for scale in mine[0]["scales"]:
            ss = [r["scales"][scale] for r in mine]
            entry[scale] = {"seconds_median": statistics.median(s["seconds"] for s in ss),
                            "speedup_median": statistics.median(s["speedup"] for s in ss),
                            "speedup_min": min(s["speedup"] for s in ss),
                            "psnr_box_mean": statistics.fmean(s["psnr_box"] for s in ss)}
            if "psnr_unquantised" in ss[0]:
                entry[scale]["psnr_unquantised_mean"] = statistics.fmean(s["psnr_unquantised"] for s in ss)
        out[mode] = entry
    return out


def markdown(res):
    lines = ["# Previews from the pyramid", "", f"`{res['command']}`", "",
             f"iwave {res['iwave']}, torch {res['machine']['torch']}, {res['threads']} thread(s), "
             f"{res['machine']['cpu']} ({res['machine']['cores']} cores); "
             f"models {res['models']['lossless']} (lossless), {res['models']['lossy']} (lossy); "
             f"{len(res['images'])} images; times are medians of {res['repeats']} warm decodes in one "
             "process; speed-up = full decode time / preview time, per image (median and minimum "
             "over the images); PSNR (mean over the images, dB) against the box-downscaled "
             "original, and for lossy files against the unquantised low-pass.", "",
             "| file | bytes (all images) | full decode (s) | scale | preview (s) | speed-up (median, min) | "
             "PSNR vs box | PSNR vs unquantised |", "|---|---|---|---|---|---|---|---|"]
    for mode, e in res["summary"].items():
        for scale, s in ((k, v) for k, v in e.items() if isinstance(v, dict)):
            unq = f"{s['psnr_unquantised_mean']:.2f}" if "psnr_unquantised_mean" in s else "exact"
            lines.append(f"| {mode} | {e['bytes']} | {e['full_s_median']:.3f} | {scale} | "
                         f"{s['seconds_median']:.3f} | "
                         f"{s['speedup_median']:.1f}x, {s['speedup_min']:.1f}x | {s['psnr_box_mean']:.2f} | "
                         f"{unq} |")
    lines += ["", "## Per image", "", "| image | file | bytes | full (s) | " + " | ".join(
        f"{s} speed-up, PSNR vs box" for s in res["rows"][0]["scales"]) + " |",
        "|---|---|---|---|" + "---|" * len(res["rows"][0]["scales"])]
    for r in res["rows"]:
        lines.append(f"| {r['image']} | {r['mode']} | {r['bytes']} | {r['full_s']:.3f} | " + " | ".join(
            f"{s['speedup']:.1f}x, {s['psnr_box']:.2f}" for s in r["scales"].values()) + " |")
    return "\n".join(lines) + "\n"


def write(res, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(res, indent=1) + "\n")
    (out / "results.md").write_text(markdown(res))
    return [out / "results.json", out / "results.md"]


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m iwave.bench.preview", description=__doc__.split("\n\n")[0])
    p.add_argument("folder")
    p.add_argument("--out", default="results/preview")
    p.add_argument("--quality", type=float, action="append",
                   help="lossy quality to measure besides lossless (repeatable; default 80)")
    p.add_argument("--images", type=int, help="only the first N images (name order)")
    p.add_argument("--repeats", type=int, default=3, help="timed decodes per scale (default 3)")
    args = p.parse_args(argv)
    res = run(args.folder, args.quality or [80], args.images, args.repeats)
    print("wrote " + ", ".join(str(f) for f in write(res, args.out)))
    print(markdown(res).split("## Per image")[0])


if __name__ == "__main__":
    main()
