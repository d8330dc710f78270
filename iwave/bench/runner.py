"""Runs every codec over a folder of images and gathers comparable numbers:
rates from whole files, PSNR-RGB and MS-SSIM per image, lossless decodes
checked pixel for pixel, encode/decode wall and CPU time, BD-rates."""
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from iwave.bench.codecs import Codec, classic_codecs, spread
from iwave.bench.curves import DEFAULT_PUBLISHED_MATCH, bd_tables, load_published
from iwave.bench.metrics import ms_ssim_db, psnr_rgb
from iwave.errors import IWaveError
from iwave.files import IMAGE_EXTENSIONS, progress as show_bar
from iwave.imageio import read_image



# ------------------------------------------------------------------ iwave
class _IWaveAdapter:
    """Loads the model lazily, in whichever process runs the codec."""

    def __init__(self, name, path, threads, effort):
        self.name, self.path, self.threads, self.effort = name, str(path), threads, effort
        self._codec = None

    def _get(self):
        if self._codec is None:
            from iwave.codec import Codec as IWaveCodec
            self._codec = IWaveCodec(self.path, threads=self.threads,    # the count the report shows
                                     effort=self.effort)
        return self._codec

    def encode(self, rgb, step):
        return self._get().compress(rgb, step=step)

    def decode(self, data):
        return self._get().decompress(data)


def shipped_models():
    from iwave.shipped import weights_dirs
    seen = {}
    for d in weights_dirs():
        for p in sorted(d.glob("*.npz")):
            seen.setdefault(p.stem, p)
    return seen


# The shipped effort levels the benchmark measures besides the default
# (each its own row: `iwave-lossy-e9`, `iwave-lossless-ll-e1`, ...; named,
# not run by default).
BENCH_EFFORTS = (1, 9)


def iwave_codecs(points, threads, models=None):
    from iwave.effort import DEFAULT_EFFORT
    from iwave.model import IWaveModel
    out = []
    for name, path in (models or shipped_models()).items():
        model = IWaveModel.load(path)
        for effort in (DEFAULT_EFFORT,) + BENCH_EFFORTS:
            def version(model=model, effort=effort):   # (the model is loaded anyway, for its modes)
                from iwave import __version__, bitstream
                return (f"iwave {__version__}, format {bitstream.VERSION}, "
                        f"model {model.identifier()}, effort {effort}")
            a = _IWaveAdapter(name, path, threads, effort)
            default = effort == DEFAULT_EFFORT
            tag, label = ("", "") if default else (f"-e{effort}", f" effort {effort}")
            out.append(Codec(f"{name}-ll{tag}", f"{name} lossless{label}", True, a.encode, a.decode,
                             "torch", threads=threads, version=version, family="iwave",
                             default=default and model.trained_for(lossy=False), grey16=True))
            out.append(Codec(f"{name}{tag}", f"{name}{label}", False, a.encode, a.decode, "torch",
                             spread(12.0, 320.0, points, geometric=True), "step",
                             threads=threads, version=version, family="iwave",
                             default=default and model.trained_for(lossy=True)))
    return out


def select(codecs, wanted):
    """Keep the codecs named in `wanted` (keys or families such as 'jxl'; a
    family, or no `wanted`, leaves out the codecs that are not `default`)."""
    if not wanted:
        return [c for c in codecs if c.default]
    known = {c.key for c in codecs} | {c.family for c in codecs}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise IWaveError(f"unknown codec(s): {', '.join(unknown)} "
                         f"(known: {', '.join(sorted(known))})")
    return [c for c in codecs if c.key in wanted or (c.family in wanted and c.default)]


# ------------------------------------------------------------------ images
def find_images(folder):
    """The images of a folder that the benchmark compares: its 8-bit RGB
    images or, in a folder with none, its 16-bit greyscale ones (compared
    losslessly only, as scans are archived); the others are skipped with a
    reason. Returns (images, skipped, "rgb8" or "grey16")."""
    folder = Path(folder)
    if not folder.is_dir():
        raise IWaveError(f"{folder}: not a folder")
    kinds, skipped = {"rgb8": [], "grey16": []}, []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        try:
            a = read_image(p)
        except IWaveError as e:
            skipped.append({"image": p.name, "reason": str(e)})
            continue
        if a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3:
            kinds["rgb8"].append(p)
        elif a.dtype == np.uint16 and a.ndim == 2:
            kinds["grey16"].append(p)
        else:
            skipped.append({"image": p.name, "reason": "the benchmark compares 8-bit RGB or 16-bit "
                                                       "greyscale images only"})
    kind = "rgb8" if kinds["rgb8"] else "grey16"
    images = kinds[kind]
    if not images:
        raise IWaveError(f"{folder}: no 8-bit RGB or 16-bit greyscale images found")
    skipped += [{"image": p.name, "reason": "16-bit greyscale: benchmarked in a folder of their own"}
                for p in kinds["grey16"] if kind == "rgb8"]
    return images, skipped, kind


# ------------------------------------------------------------------ one measurement
_WORKER_CODECS = {}


def _init_worker(codecs):
    _WORKER_CODECS.update({c.key: c for c in codecs})


def _clock():
    return time.perf_counter(), time.process_time()


def measure(codec, path, setting):
    """Encode and decode one image with one setting; never raises."""
    row = {"image": Path(path).name, "setting": setting}
    try:
        original = read_image(path)
        t0, c0 = _clock()
        data = bytes(codec.encode(original, setting))
        t1, c1 = _clock()
        decoded = np.asarray(codec.decode(data))
        t2, c2 = _clock()
    except Exception as e:  # noqa: BLE001        # a codec failing on one image is a result, not a crash
        row["error"] = f"{type(e).__name__}: {e}"
        return row
    pixels = original.shape[0] * original.shape[1]
    channels = 1 if original.ndim == 2 else original.shape[2]
    row.update(bytes=len(data), bpp=len(data) * 8 / pixels, bpsp=len(data) * 8 / pixels / channels,
               encode_s=t1 - t0, decode_s=t2 - t1, encode_cpu_s=c1 - c0, decode_cpu_s=c2 - c1)
    same_shape = decoded.shape == original.shape
    if codec.lossless:
        row["exact"] = bool(same_shape and np.array_equal(decoded, original))
    elif not same_shape:
        row["error"] = f"decoded shape {decoded.shape} differs from {original.shape}"
    else:
        row["psnr"] = psnr_rgb(original, decoded)
        row["msssim_db"] = ms_ssim_db(original, decoded)
    return row


def _measure_task(task):
    key, path, setting = task
    return key, measure(_WORKER_CODECS[key], path, setting)


# ------------------------------------------------------------------ aggregation
def _mean(rows, field):
    vals = [r[field] for r in rows if r.get(field) is not None]
    return float(np.mean(vals)) if vals and len(vals) == len(rows) else None


def _median(rows, field):
    vals = [r[field] for r in rows if r.get(field) is not None]
    return float(statistics.median(vals)) if vals else None


def summarise_lossless(codec, rows):
    ok = [r for r in rows if "error" not in r]
    return {"name": codec.name, "family": codec.family, "threads": codec.threads, "per_image": rows,
            "valid": len(ok) == len(rows) and all(r["exact"] for r in ok),
            "mismatched": [r["image"] for r in ok if not r["exact"]],
            "errors": [f"{r['image']}: {r['error']}" for r in rows if "error" in r],
            "bpsp": _mean(ok, "bpsp") if len(ok) == len(rows) else None,
            "bpp": _mean(ok, "bpp") if len(ok) == len(rows) else None,
            "median_encode_s": _median(ok, "encode_s"), "median_decode_s": _median(ok, "decode_s"),
            "median_encode_cpu_s": _median(ok, "encode_cpu_s"),
            "median_decode_cpu_s": _median(ok, "decode_cpu_s")}


def summarise_lossy(codec, rows_by_setting):
    points = []
    for setting, rows in rows_by_setting.items():
        ok = [r for r in rows if "error" not in r]
        complete = len(ok) == len(rows)
        points.append({"setting": setting, "per_image": rows,
                       "errors": [f"{r['image']}: {r['error']}" for r in rows if "error" in r],
                       "bpp": _mean(ok, "bpp") if complete else None,
                       "psnr": _mean(ok, "psnr") if complete else None,
                       "msssim_db": _mean(ok, "msssim_db") if complete else None,
                       "median_encode_s": _median(ok, "encode_s"),
                       "median_decode_s": _median(ok, "decode_s"),
                       "median_encode_cpu_s": _median(ok, "encode_cpu_s"),
                       "median_decode_cpu_s": _median(ok, "decode_cpu_s")})
    points.sort(key=lambda p: (p["bpp"] is None, p["bpp"] or 0))
    return {"name": codec.name, "family": codec.family, "setting_name": codec.setting_name,
            "threads": codec.threads,
            "points": points}


def machine_info():
    import torch
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__}


def _version(codec):
    try:
        return codec.version()
    except Exception as e:  # noqa: BLE001 -- a version string must not stop the run
        return f"unknown ({e})"


# ------------------------------------------------------------------ the run
class MeasurementCache:
    """Measurements already made, one JSON line each, keyed by codec, codec
    version (for iwave: the model id), image content and setting. A long
    benchmark that is interrupted, or re-run after a new model is trained,
    only measures what is missing. With reuse=False nothing is read, but new
    measurements are still appended (a later line wins over an earlier one)."""

    def __init__(self, path, reuse=True):
        self.path, self.rows = (Path(path) if path else None), {}
        if self.path and reuse and self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    item = json.loads(line)
                    self.rows[item["key"]] = item["row"]
                except (ValueError, KeyError):
                    continue        # a line cut short by an interruption
        self._file = None

    @staticmethod
    def key(codec_key, cache_id, image_digest, setting):
        """cache_id: the codec's version string and revision."""
        return json.dumps([codec_key, cache_id, image_digest, setting])

    def add(self, key, row):
        if self.path is None or "error" in row:
            return
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a")
        self._file.write(json.dumps({"key": key, "row": row}) + "\n")
        self._file.flush()

    def close(self):
        if self._file:
            self._file.close()


def _digest(path):
    import hashlib
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def run(data_dir, codecs=None, lossless=True, lossy=True, points=8, jobs=1, published=(),
        published_match=DEFAULT_PUBLISHED_MATCH, progress=True, models=None, command=None,
        cache=None, reuse=True):
    """Benchmark `codecs` (default: iwave's shipped models and every classic
    codec; a list of keys/families, or Codec objects) on a folder. `cache`: a
    file of earlier measurements to reuse (unless reuse=False) and extend
    (MeasurementCache)."""
    if jobs < 1:
        raise IWaveError("--jobs must be at least 1")
    if points < 2:
        raise IWaveError("--points must be at least 2")
    images, skipped_images, kind = find_images(data_dir)
    lossy = lossy and kind == "rgb8"           # 16-bit scans are compared losslessly
    pub = load_published(published, published_match) if published else {}
    threads = max(1, (os.cpu_count() or 1) // jobs)
    if codecs and all(isinstance(c, Codec) for c in codecs):
        chosen = list(codecs)
    else:
        chosen = select(iwave_codecs(points, threads, models) + classic_codecs(points), codecs)
    chosen = [c for c in chosen if (lossless if c.lossless else lossy)]
    skipped, runnable = [], []
    for c in chosen:
        why = None if kind == "rgb8" or c.grey16 else "does not code 16-bit greyscale losslessly"
        why = why or c.unavailable()
        (skipped.append({"codec": c.key, "name": c.name, "reason": why}) if why
         else runnable.append(c))
        if why and progress:
            print(f"skipping {c.name}: {why}", file=sys.stderr)

    store = MeasurementCache(cache, reuse)
    digests = {str(p): _digest(p) for p in images}
    versions = {c.key: _version(c) for c in runnable}
    cache_ids = {c.key: [versions[c.key], c.revision] for c in runnable}
    rows, tasks = {}, []
    for c in runnable:
        for s in c.settings:
            for p in images:
                hit = store.rows.get(store.key(c.key, cache_ids[c.key], digests[str(p)], s))
                if hit is not None:
                    rows.setdefault(c.key, []).append(hit)
                else:
                    tasks.append((c.key, str(p), s))
    if progress and store.rows:
        print(f"reusing {sum(map(len, rows.values()))} earlier measurements from {cache}",
              file=sys.stderr)
    if jobs == 1:
        _init_worker(runnable)
        results = map(_measure_task, tasks)
        pool = None
    else:   # fork: workers inherit the codec objects (lambdas cannot be pickled)
        pool = ProcessPoolExecutor(jobs, multiprocessing.get_context("fork"),
                                   initializer=_init_worker, initargs=(runnable,))
        results = pool.map(_measure_task, tasks, chunksize=1)
    try:
        for i, (key, row) in enumerate(results, 1):
            rows.setdefault(key, []).append(row)
            task = tasks[i - 1]
            store.add(store.key(key, cache_ids[key], digests[task[1]], task[2]), row)
            show_bar(i, len(tasks), f"{key} {row['image']}", progress)
    finally:
        store.close()
        if pool:
            pool.shutdown(cancel_futures=True)

    out = {"command": command, "data": str(data_dir), "images": [p.name for p in images],
           "image_kind": kind,
           "skipped_images": skipped_images, "skipped_codecs": skipped, "jobs": jobs,
           "machine": machine_info(), "versions": {}, "lossless": {}, "lossy": {},
           "published": pub}
    for c in runnable:
        out["versions"][c.key] = versions[c.key]
        r = sorted(rows.get(c.key, []), key=lambda row: row["image"])
        if c.lossless:
            out["lossless"][c.key] = summarise_lossless(c, r)
        else:
            by_setting = {}
            for row in r:
                by_setting.setdefault(row["setting"], []).append(row)
            out["lossy"][c.key] = summarise_lossy(c, by_setting)
    names = [p.name for p in images]
    if out["lossy"]:
        out["bd_rate"] = bd_tables(out["lossy"], pub, names, "psnr")
        out["bd_rate_msssim"] = bd_tables(out["lossy"], pub, names, "msssim_db")
    out["complexity"] = _complexity(runnable)
    return out


def _complexity(codecs):
    from iwave.complexity import macs_per_pixel
    from iwave.model import IWaveModel
    out = {}
    for c in codecs:
        adapter = getattr(c.encode, "__self__", None)
        if isinstance(adapter, _IWaveAdapter) and adapter.name not in out:
            model = IWaveModel.load(adapter.path)
            m = {mode: macs_per_pixel(model, lossy=mode == "lossy") for mode in ("lossless", "lossy")}
            # a lossless group is decoded on the wavelet or pixel by pixel: the dearer counts
            ll = m["lossless"]
            lossless = max(ll["decoder"]["total"], ll["decoder_pixel_by_pixel"]["total"])
            out[adapter.name] = {
                "encoder_mac_per_px": max(v["encoder"]["total"] for v in m.values()),
                "decoder_mac_per_px": max(lossless, m["lossy"]["decoder"]["total"]),
                "decoder_lossless_mac_per_px": lossless,
                "decoder_lossy_mac_per_px": m["lossy"]["decoder"]["total"], "detail": m}
    return out
