"""python -m iwave.bench.speed FOLDER: iwave's encode and decode times beside
JPEG XL e7's, in one run, on an idle machine and again with one busy-looping
process started by the script (what a desktop or a shared server looks like).

JPEG XL runs on one thread, iwave on --threads (default: its own choice,
one). Every figure is a ratio within this run, since absolute times on a shared
machine say little: iwave / JPEG XL for the same images and mode, and
busy / idle for iwave. Times are medians over the images of the best of
--repeats timings. Writes speed.json and speed.md to --out.
"""
import argparse
import json
import multiprocessing
import statistics
import time
from pathlib import Path


def _busy():
    while True:
        pass


def best_time(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def measure(images, codec, quality, repeats):
    import imagecodecs
    jxl_encode = lambda a, **kw: imagecodecs.jpegxl_encode(a, effort=7, numthreads=1, **kw)
    jxl_decode = lambda data: imagecodecs.jpegxl_decode(data, numthreads=1)
    rows = []
    for name, a in images:
        ll, lossy = codec.compress(a), codec.compress(a, quality=quality)
        target = len(lossy) * 8 / (a.shape[0] * a.shape[1])      # --bpp aims at the lossy file's rate
        jxl_ll, jxl_lossy = jxl_encode(a, lossless=True), jxl_encode(a, distance=1.0)
        rows.append({
            "image": name,
            "iwave_lossless_encode": best_time(lambda: codec.compress(a), 1),
            "iwave_lossless_decode": best_time(lambda: codec.decompress(ll), repeats),
            "iwave_lossy_decode": best_time(lambda: codec.decompress(lossy), repeats),
            "iwave_lossy_encode": best_time(lambda: codec.compress(a, quality=quality), 1),
            "iwave_bpp_encode": best_time(lambda: codec.compress(a, bpp=target), 1),
            "jxl_lossless_encode": best_time(lambda: jxl_encode(a, lossless=True), repeats),
            "jxl_lossless_decode": best_time(lambda: jxl_decode(jxl_ll), repeats),
            "jxl_lossy_decode": best_time(lambda: jxl_decode(jxl_lossy), repeats)})
    return rows


def summary(rows):
    med = lambda k: statistics.median(r[k] for r in rows)
    return {"lossless_decode_vs_jxl": med("iwave_lossless_decode") / med("jxl_lossless_decode"),
            "lossy_decode_vs_jxl": med("iwave_lossy_decode") / med("jxl_lossy_decode"),
            "lossless_encode_vs_jxl": med("iwave_lossless_encode") / med("jxl_lossless_encode"),
            "bpp_encode_vs_lossy_encode": med("iwave_bpp_encode") / med("iwave_lossy_encode"),
            **{k: med(k) for k in rows[0] if k != "image"}}


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m iwave.bench.speed", description=__doc__.split("\n\n")[0])
    p.add_argument("folder", type=Path, help="folder of 8-bit RGB images")
    p.add_argument("--images", type=int, default=6, help="use the first N images (default 6)")
    p.add_argument("--quality", type=float, default=60, help="quality of the lossy files (default 60)")
    p.add_argument("--repeats", type=int, default=3, help="timings per decode; the best counts (default 3)")
    p.add_argument("--threads", type=int, help="iwave's threads (default: iwave's own choice)")
    p.add_argument("--out", type=Path, default=Path("results/speed"))
    args = p.parse_args(argv)
    from iwave.codec import Codec
    from iwave.files import list_images
    from iwave.imageio import read_image
    images = [(f.name, read_image(f)) for f in list_images(args.folder)[:args.images]]
    codec = Codec(threads=args.threads)
    codec.decompress(codec.compress(images[0][1][:64, :64]))      # warm up (numba, torch)
    idle = measure(images, codec, args.quality, args.repeats)
    busy_loop = multiprocessing.get_context("spawn").Process(target=_busy, daemon=True)
    busy_loop.start()
    try:
        time.sleep(1.0)
        busy = measure(images, codec, args.quality, args.repeats)
    finally:
        busy_loop.terminate()
    result = {"images": len(images), "threads": codec.threads, "quality": args.quality,
              "idle": summary(idle), "busy": summary(busy),
              "busy_vs_idle_lossless_decode": summary(busy)["iwave_lossless_decode"]
              / summary(idle)["iwave_lossless_decode"],
              "busy_vs_idle_lossy_decode": summary(busy)["iwave_lossy_decode"]
              / summary(idle)["iwave_lossy_decode"],
              "per_image": {"idle": idle, "busy": busy},
              "command": "python -m iwave.bench.speed " + " ".join(argv if argv is not None else
                                                                     __import__("sys").argv[1:])}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "speed.json").write_text(json.dumps(result, indent=1))
    i, b = result["idle"], result["busy"]
    lines = [f"# Speed against JPEG XL e7 ({result['images']} images, iwave {result['threads']} thread(s))",
             "", f"`{result['command']}`", "",
             "| ratio | idle | one core busy |", "|---|---|---|",
             f"| iwave lossless decode / JPEG XL e7 lossless decode | {i['lossless_decode_vs_jxl']:.1f}x | "
             f"{b['lossless_decode_vs_jxl']:.1f}x |",
             f"| iwave lossy (quality {args.quality:g}) decode / JPEG XL e7 (distance 1) decode | "
             f"{i['lossy_decode_vs_jxl']:.1f}x | {b['lossy_decode_vs_jxl']:.1f}x |",
             f"| iwave lossless encode / JPEG XL e7 lossless encode | {i['lossless_encode_vs_jxl']:.1f}x | "
             f"{b['lossless_encode_vs_jxl']:.1f}x |",
             f"| iwave --bpp (the quality-{args.quality:g} file's rate) encode / iwave quality "
             f"{args.quality:g} encode | {i['bpp_encode_vs_lossy_encode']:.1f}x | "
             f"{b['bpp_encode_vs_lossy_encode']:.1f}x |", "",
             f"iwave's decode time with one core busy / idle: lossless "
             f"{result['busy_vs_idle_lossless_decode']:.2f}x, "
             f"lossy {result['busy_vs_idle_lossy_decode']:.2f}x.",
             "", "Median seconds: " + ", ".join(f"{k} {i[k]:.3f} (busy {b[k]:.3f})" for k in i
                                                 if "_vs_" not in k) + "."]
    (args.out / "speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
