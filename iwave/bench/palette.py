"""python -m iwave.bench.palette --out results/palette: palette and 1-bit PNGs
of photographs and of graphics, each written as an optimised PNG (Pillow,
optimize=True) and coded losslessly by iwave; reports the PNG's bytes,
iwave's bytes and their ratio per file, and the means. Every decode is
checked exact against the PNG's pixels (as iwave reads them).

The set (made here, reproducibly): five photographs (iwave/data/sample.png
and four 256x256 training crops of ../shared/data/train, files 200, 400,
600 and 800 in name order; sample.png is file 0) quantised by Pillow to
adaptive palettes of 256, 16 and 2 colours (median cut, Floyd-Steinberg
dithering) and dithered to 1 bit; synthetic graphics (text,
a chart, flat shapes, the shapes on a transparent background) as palette
PNGs, and the text as a 1-bit PNG."""
import argparse
import io
import json
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT.parent / "shared" / "data" / "train"


def photos(train):
    yield "sample", Image.open(ROOT / "iwave" / "data" / "sample.png").convert("RGB")
    crops = sorted(Path(train).glob("*.png"))[200::200][:4]
    for p in crops:
        yield p.stem, Image.open(p).convert("RGB")


def graphics():
    rng = np.random.default_rng(26)
    text = Image.new("RGB", (320, 240), "white")
    d = ImageDraw.Draw(text)
    words = "lossless wavelet lifting palette index plane sample map header chunk stream".split()
    for row in range(14):
        line = " ".join(rng.choice(words, 5))
        d.text((8, 6 + 16 * row), line, fill=(20, 20, 20) if row % 4 else (180, 30, 30))
    yield "text", text
    chart = Image.new("RGB", (320, 240), (250, 250, 245))
    d = ImageDraw.Draw(chart)
    d.line([(30, 10), (30, 210), (310, 210)], fill="black", width=2)
    colours = [(66, 133, 244), (219, 68, 55), (244, 180, 0), (15, 157, 88)]
    for i, v in enumerate(rng.integers(30, 190, 12)):
        d.rectangle([40 + 22 * i, 210 - int(v), 56 + 22 * i, 209], fill=colours[i % 4])
    pts = [(40 + 22 * i, 200 - int(v)) for i, v in enumerate(rng.integers(20, 180, 13))]
    d.line(pts, fill=(90, 90, 90), width=2)
    for y in range(30, 210, 30):
        d.line([(31, y), (310, y)], fill=(220, 220, 220))
        d.text((4, y - 6), str(210 - y), fill="black")
    yield "chart", chart
    shapes = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    d = ImageDraw.Draw(shapes)
    for _ in range(18):
        x, y = rng.integers(0, 220, 2)
        s = int(rng.integers(16, 90))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3)) + (255,)
        box = [int(x), int(y), int(x) + s, int(y) + s]
        (d.ellipse if rng.random() < 0.5 else d.rectangle)(box, fill=fill)
    yield "shapes", shapes.convert("RGB")
    yield "shapes-transparent", shapes


def png_bytes(im):
    buf = io.BytesIO()
    im.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def make_set():
    """[(name, kind, PNG bytes)]."""
    out = []
    for name, im in photos(TRAIN):
        for n in (256, 16, 2):
            out.append((f"{name}-p{n}", "photo palette", png_bytes(im.quantize(n))))
        out.append((f"{name}-1bit", "photo 1-bit", png_bytes(im.convert("1"))))
    for name, im in graphics():
        if im.mode == "RGBA":
            p = im.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        else:
            p = im.quantize(256, dither=Image.Dither.NONE)
        out.append((name, "graphics palette", png_bytes(p)))
    out.append(("text-1bit", "graphics 1-bit", png_bytes(next(graphics())[1].convert("L").point(
        lambda v: 255 if v > 128 else 0).convert("1"))))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/palette")
    args = ap.parse_args(argv)
    from iwave.codec import Codec
    from iwave.imageio import read_image
    codec = Codec()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, tmp = [], Path(tempfile.mkdtemp())
    for name, kind, data in make_set():
        path = tmp / f"{name}.png"             # (the PNGs are remade identically on every run)
        path.write_bytes(data)
        coded = codec.compress(path)
        decoded, original = codec.decompress(coded), read_image(path)
        if decoded.shape != original.shape or not np.array_equal(decoded, original):
            raise SystemExit(f"{name}: decode is not exact")
        mode = Image.open(path).mode
        rows.append({"file": f"{name}.png", "kind": kind, "png_mode": mode, "png_bytes": len(data),
                     "iwave_bytes": len(coded), "ratio": len(coded) / len(data)})
        print(f"{name:40s} {mode:2s} {len(data):8d} {len(coded):8d} {len(coded) / len(data):6.3f}",
              flush=True)
    kinds = sorted({r["kind"] for r in rows})
    means = {k: float(np.mean([r["ratio"] for r in rows if r["kind"] == k])) for k in kinds}
    means["all"] = float(np.mean([r["ratio"] for r in rows]))
    (out / "palette.json").write_text(json.dumps({"files": rows, "mean_ratio": means}, indent=1) + "\n")
    lines = ["# Palette and 1-bit PNGs: iwave lossless vs the optimised PNG", "",
             "Made by `python -m iwave.bench.palette --out results/palette` (iwave/bench/palette.py "
             "says how the set is made); ratio = iwave bytes / PNG bytes, every decode exact.", "",
             "| file | kind | PNG mode | PNG bytes | iwave bytes | ratio |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['file']} | {r['kind']} | {r['png_mode']} | {r['png_bytes']} | {r['iwave_bytes']} | "
              f"{r['ratio']:.3f} |" for r in rows]
    lines += ["", "| kind | mean ratio |", "|---|---|"] + [f"| {k} | {v:.3f} |" for k, v in means.items()]
    (out / "README.md").write_text("\n".join(lines) + "\n")
    for k, v in means.items():
        print(f"mean ratio {k}: {v:.3f}")


if __name__ == "__main__":
    main()
