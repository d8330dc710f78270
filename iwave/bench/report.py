"""Writes a benchmark's results: results.json (everything), results.md
(tables) and plots (rate-distortion curves, lossless bar chart)."""
import json
import math
from pathlib import Path


def _f(v, digits=3, suffix=""):
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else \
        f"{v:.{digits}f}{suffix}"


def _pct(v):
    return "–" if v is None else f"{v:+.1f}%"


def _ms(v):
    return "–" if v is None else (f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s")


def markdown(res):
    lines = [f"# Benchmark: {res['data']}", ""]
    if res.get("command"):
        lines += [f"Made by `{res['command']}`.", ""]
    m = res["machine"]
    kind = "16-bit greyscale" if res.get("image_kind") == "grey16" else "8-bit RGB"
    lines += [(f"{len(res['images'])} {kind} images; {m['cpu']}, {m['cores']} cores; "
              f"{res['jobs']} job(s) at a time. Rates are whole files (bpp = bytes × 8 / pixels; "
              "bpsp = bpp / channels). PSNR-RGB is per image, then averaged; BD-rates use PCHIP "
              "(`bjontegaard`) over the overlapping PSNR range."), ""]
    for s in res["skipped_codecs"]:
        lines.append(f"- skipped {s['name']}: {s['reason']}")
    for s in res["skipped_images"]:
        lines.append(f"- skipped image {s['image']}: {s['reason']}")
    if res["skipped_codecs"] or res["skipped_images"]:
        lines.append("")

    if res["lossless"]:
        lines += ["## Lossless", "",
                  "| codec | bits/sub-pixel | bpp | exact | median encode | median decode | threads |",
                  "|---|---|---|---|---|---|---|"]
        order = sorted(res["lossless"].items(), key=lambda kv: kv[1]["bpsp"] or 1e9)
        for key, e in order:
            exact = "yes" if e["valid"] else "**INVALID** " + ", ".join(e["mismatched"] + e["errors"])
            lines.append(f"| {e['name']} | {_f(e['bpsp'])} | {_f(e['bpp'])} | {exact} | "
                         f"{_ms(e['median_encode_s'])} | {_ms(e['median_decode_s'])} | {e['threads']} |")
        lines.append("")

    if res["lossy"]:
        lines += ["## Lossy: rate-distortion points (set averages)", "",
                  "| codec | setting | bpp | PSNR-RGB (dB) | MS-SSIM (dB) | median encode | median decode |",
                  "|---|---|---|---|---|---|---|"]
        for e in res["lossy"].values():
            for p in e["points"]:
                lines.append(f"| {e['name']} | {e['setting_name']} {p['setting']:g} | {_f(p['bpp'])} | "
                             f"{_f(p['psnr'], 2)} | {_f(p['msssim_db'], 2)} | "
                             f"{_ms(p['median_encode_s'])} | {_ms(p['median_decode_s'])} |")
        lines.append("")
        lines += _bd_section(res, "bd_rate", "PSNR-RGB")
        lines += _bd_section(res, "bd_rate_msssim", "MS-SSIM (dB)", per_image=False)

    if res.get("complexity"):
        lines += ["## iwave complexity (768×512 RGB, FlopCounterMode, MAC = FLOP/2)", "",
                  "| model | encoder MAC/px | decoder MAC/px, lossless (the dearer route) "
                  "| decoder MAC/px, lossy |",
                  "|---|---|---|---|"]
        for name, c in res["complexity"].items():
            lossless = c.get("decoder_lossless_mac_per_px", c["decoder_mac_per_px"])
            lossy = c.get("decoder_lossy_mac_per_px", c["decoder_mac_per_px"])
            lines.append(f"| {name} | {c['encoder_mac_per_px']:,.0f} | {lossless:,.0f} | {lossy:,.0f} |")
        lines.append("")
    lines += ["## Versions", ""] + [f"- {k}: {v}" for k, v in res["versions"].items()] + [""]
    return "\n".join(lines)


def _names(res):
    n = {k: e["name"] for k, e in res["lossy"].items()}
    n.update({k: p["name"] for k, p in res.get("published", {}).items()})
    return n


def _bd_section(res, field, label, per_image=True):
    bd = res.get(field)
    if not bd:
        return []
    names = _names(res)
    out = []
    if per_image:
        keys = list(bd["per_image_median"])
        out += [f"## BD-rate, {label}, per image (median over images; row against column)", "",
                ("Each image's curve against the same image's curve for the column codec, over "
                "their overlapping range; negative means the row codec needs fewer bits."), "",
                "| | " + " | ".join(names[k] for k in keys) + " |",
                "|---" * (len(keys) + 1) + "|"]
        for t in keys:
            out.append(f"| {names[t]} | " + " | ".join(
                _pct(bd["per_image_median"][t][a]) for a in keys) + " |")
        out.append("")
    keys = list(bd["set_average"])
    if len(keys) > 1:
        out += [f"## BD-rate, {label}, set-averaged curves (row against column)", "",
                ("Includes published curves (marked). Set averages depend on how each codec's "
                "settings map to rates across images; the per-image table is the headline."), "",
                "| | " + " | ".join(names[k] for k in keys) + " |",
                "|---" * (len(keys) + 1) + "|"]
        for t in keys:
            out.append(f"| {names[t]} | " + " | ".join(
                _pct(bd["set_average"][t][a]) for a in keys) + " |")
        out.append("")
    return out


def plots(res, out_dir):
    """rd-psnr.png, rd-msssim.png, lossless.png; returns the files written."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    written = []
    for metric, label, fname in (("psnr", "PSNR-RGB (dB)", "rd-psnr.png"),
                                 ("msssim_db", "MS-SSIM (dB)", "rd-msssim.png")):
        if not res["lossy"]:
            break
        fig, ax = plt.subplots(figsize=(8, 6), dpi=120)
        for key, e in res["lossy"].items():
            pts = [(p["bpp"], p[metric]) for p in e["points"]
                   if p["bpp"] is not None and p[metric] is not None]
            if pts:
                iw = e.get("family") == "iwave"
                ax.plot(*zip(*pts), marker="o", ms=4, lw=2.5 if iw else 1.4,
                        color="black" if iw else None, label=e["name"], zorder=3 if iw else 2)
        for key, p in res.get("published", {}).items():
            if p.get(metric):
                ax.plot(p["bpp"], p[metric], ls="--", marker="s", ms=4, mfc="none", lw=1.2,
                        label=p["name"])
        ax.set_xlabel("bits per pixel (whole file)")
        ax.set_ylabel(label)
        ax.set_xlim(0, 2.2)
        ax.grid(alpha=0.3)
        ax.set_title(f"Rate-distortion, {len(res['images'])} images of {Path(res['data']).name} "
                     "(dashed: published)")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="lower right")
        else:
            ax.text(0.5, 0.5, f"no {label} values (MS-SSIM needs images over 160 px a side)",
                    ha="center", transform=ax.transAxes)
        fig.tight_layout()
        fig.savefig(out_dir / fname)
        plt.close(fig)
        written.append(out_dir / fname)
    if res["lossless"]:
        rows = sorted((e for e in res["lossless"].values() if e["bpsp"] is not None),
                      key=lambda e: e["bpsp"])
        items = [(e["name"], e["bpsp"], e["valid"]) for e in rows]
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(items) + 1.5), dpi=120)
        colours = ["black" if e.get("family") == "iwave" else ("tab:red" if not e["valid"] else "tab:blue")
                   for e in rows]
        ax.barh([n + ("" if ok else " (INVALID)") for n, _, ok in items],
                [b for _, b, _ in items], color=colours)
        for i, (_, b, _) in enumerate(items):
            ax.text(b, i, f" {b:.3f}", va="center", fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("bits per sub-pixel (lower is better)")
        ax.set_title(f"Lossless, {len(res['images'])} images of {Path(res['data']).name}")
        ax.set_xlim(0, max(b for _, b, _ in items) * 1.15)
        fig.tight_layout()
        fig.savefig(out_dir / "lossless.png")
        plt.close(fig)
        written.append(out_dir / "lossless.png")
    written += effort_plot(res, out_dir, plt)
    return written


def _size_against_time(res):
    """Lossy: (name, median encode s, per-image median BD-rate against JPEG
    2000) of every codec with both; lossless: (name, median encode s, bpsp)."""
    bd = (res.get("bd_rate") or {}).get("per_image_median", {})
    lossy = []
    for key, e in res["lossy"].items():
        times = [p["median_encode_s"] for p in e["points"] if p["median_encode_s"] is not None]
        if key != "jpeg2000" and bd.get(key, {}).get("jpeg2000") is not None and times:
            lossy.append((e["name"], sorted(times)[len(times) // 2], bd[key]["jpeg2000"]))
    lossless = [(e["name"], e["median_encode_s"], e["bpsp"]) for e in res["lossless"].values()
                if e["bpsp"] is not None and e["median_encode_s"] is not None]
    return lossy, lossless


def effort_plot(res, out_dir, plt):
    """effort.png: size against encode time, one point per codec row (so
    iwave's effort levels make a curve): lossy BD-rate against JPEG 2000 and
    lossless bits per sub-pixel."""
    lossy, lossless = _size_against_time(res)
    panels = [(pts, label) for pts, label in
              ((lossy, "per-image median BD-rate vs JPEG 2000 (%)"),
               (lossless, "lossless bits per sub-pixel")) if pts]
    if not panels:
        return []
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 5), dpi=120, squeeze=False)
    for ax, (pts, label) in zip(axes[0], panels):
        for name, t, v in pts:
            iw = name.startswith("iwave")
            ax.plot(t, v, "o", color="black" if iw else "tab:blue")
            ax.annotate(name, (t, v), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel("median encode time per image (s, log scale)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    fig.suptitle(f"Size against encode time, {len(res['images'])} images of {Path(res['data']).name}")
    fig.tight_layout()
    fig.savefig(out_dir / "effort.png")
    plt.close(fig)
    return [out_dir / "effort.png"]


def write(res, out_dir):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / "results.json.tmp"
    tmp.write_text(json.dumps(res, indent=1, allow_nan=False, default=str))
    tmp.replace(out_dir / "results.json")
    (out_dir / "results.md").write_text(markdown(res))
    return [out_dir / "results.json", out_dir / "results.md"] + plots(res, out_dir)
