"""Round-trip measurements through real files (what `iwave eval` and
`iwave demo` print). Rates are whole files, headers included."""
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from iwave.errors import IWaveError
from iwave.files import compress_file, decompress_file, list_images, progress
from iwave.imageio import read_image

SAMPLE = Path(__file__).with_name("data") / "sample.png"


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    peak = 65535.0 if a.dtype == np.uint16 else 255.0
    return float("inf") if mse == 0 else float(10 * np.log10(peak ** 2 / mse))


def roundtrip(codec, path, workdir, step=None, quality=None, name=None):
    """Compress `path` to a file, decompress it to PNG, re-read it, compare."""
    original = read_image(path, codec.max_pixels)
    comp = Path(workdir) / "image.iwv"
    back = Path(workdir) / "image.png"
    t0 = time.perf_counter()
    _, data = compress_file(codec, path, comp, step=step, quality=quality, strip=True,
                            warn=False)
    t1 = time.perf_counter()
    decompress_file(codec, comp, back)
    t2 = time.perf_counter()
    decoded = read_image(back)
    pixels = original.shape[0] * original.shape[1]
    channels = 1 if original.ndim == 2 else original.shape[2]
    return {"image": name or Path(path).name, "width": original.shape[1], "height": original.shape[0],
            "channels": channels, "bytes": len(data), "bpp": len(data) * 8 / pixels,
            "bpsp": len(data) * 8 / pixels / channels,
            "exact": bool(decoded.shape == original.shape and np.array_equal(decoded, original)),
            "psnr": psnr(original, decoded) if decoded.shape == original.shape else None,
            "encode_s": t1 - t0, "decode_s": t2 - t1}


def evaluate_folder(codec, folder, step=None, quality=None, show_progress=True):
    """Every image under `folder`, subfolders included; files that cannot be
    read (unsupported kinds, broken files) are listed, not fatal."""
    folder = Path(folder)
    if not folder.is_dir():
        raise IWaveError(f"{folder}: not a folder")
    files = list_images(folder)
    if not files:
        raise IWaveError(f"{folder}: no images found")
    rows, unsupported = [], []
    import torch
    with tempfile.TemporaryDirectory() as tmp:
        for i, f in enumerate(files):
            name = str(f.relative_to(folder))
            progress(i, len(files), name, show_progress)
            try:
                rows.append(roundtrip(codec, f, tmp, step, quality, name))
            except IWaveError as e:
                unsupported.append((name, str(e).removeprefix(f"{f}: ")))
        progress(len(files), len(files), "done", show_progress)
    if not rows:
        raise IWaveError(f"{folder}: none of its {len(files)} image files could be read "
                         f"(first: {unsupported[0][0]}: {unsupported[0][1]})")
    from iwave.codec import is_lossy
    lossless = not is_lossy(step, quality)
    mean = lambda k: statistics.fmean(r[k] for r in rows)
    summary = {"images": len(rows), "mode": "lossless" if lossless else "lossy",
               "step": step, "quality": quality, "mean_bpp": mean("bpp"), "mean_bpsp": mean("bpsp"),
               "mean_psnr": None if lossless else mean("psnr"),
               "median_encode_s": statistics.median(r["encode_s"] for r in rows),
               "median_decode_s": statistics.median(r["decode_s"] for r in rows),
               "torch_threads": torch.get_num_threads(), "model": codec.model_for(not lossless).identifier()}
    mismatches = [r["image"] for r in rows if lossless and not r["exact"]]
    text = (f"{len(rows)} images, {summary['mode']}: mean {summary['mean_bpp']:.4f} bpp, "
            f"{summary['mean_bpsp']:.4f} bpsp"
            + ("" if lossless else f", mean PSNR {summary['mean_psnr']:.2f} dB")
            + (", all exact" if lossless and not mismatches else "")
            + f"; median encode {summary['median_encode_s']:.2f} s, decode "
            f"{summary['median_decode_s']:.2f} s ({summary['torch_threads']} threads)"
            + (f"; {len(unsupported)} file(s) not measured" if unsupported else ""))
    return {"summary": summary, "images": rows, "mismatches": mismatches, "summary_text": text,
            "unsupported": unsupported}


def demo(codec, image=None, step=8.0):
    path = Path(image) if image else SAMPLE
    with tempfile.TemporaryDirectory() as tmp:
        a = roundtrip(codec, path, tmp)
        b = roundtrip(codec, path, tmp, step=step)
    raw = a["width"] * a["height"] * a["channels"]
    print(f"{path.name}: {a['width']}x{a['height']}, {a['channels']} channels, {raw} bytes raw")
    print(f"  lossless : {a['bytes']:>7} bytes  {a['bpp']:.3f} bpp  {a['bpsp']:.3f} bpsp  "
          f"round trip {'exact' if a['exact'] else 'MISMATCH'}  "
          f"(encode {a['encode_s']:.2f} s, decode {a['decode_s']:.2f} s)")
    print(f"  step {step:<4g}: {b['bytes']:>7} bytes  {b['bpp']:.3f} bpp  PSNR {b['psnr']:.2f} dB  "
          f"(encode {b['encode_s']:.2f} s, decode {b['decode_s']:.2f} s)")
    if not a["exact"]:
        raise IWaveError("lossless round trip was not exact")
