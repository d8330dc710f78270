"""Whole folders: `iwave compress DIR -o OUT` and `iwave decompress DIR -o OUT`.

Every file is coded on its own; one that fails is reported and the rest carry
on. Outputs are written atomically (a temporary file renamed into place), so
an output that exists is complete, and a re-run skips it. Inputs are only read.
"""
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from iwave.bitstream import DEFAULT_MAX_PIXELS
from iwave.errors import IWaveError

_worker = {}


@dataclass
class FolderReport:
    done: list = field(default_factory=list)       # (input, output, bytes)
    skipped: list = field(default_factory=list)    # outputs that already existed
    failed: list = field(default_factory=list)     # (input, reason)
    seconds: float = 0.0

    def summary(self, verb):
        lines = [f"{len(self.done)} {verb}, {len(self.skipped)} skipped (already done), "
                 f"{len(self.failed)} failed, {self.seconds:.1f} s"]
        lines += [f"  failed: {p}: {why.removeprefix(f'{p}: ')}" for p, why in self.failed]
        return "\n".join(lines)


def plan(src, dst, suffixes, new_suffix, force):
    """(input, output) pairs mirroring src's tree under dst, and the outputs
    that already exist (skipped unless force)."""
    src, dst = Path(src), Path(dst)
    if dst.resolve() == src.resolve() or src.resolve() in dst.resolve().parents:
        raise IWaveError(f"the output folder {dst} must not be inside the input folder {src}")
    pairs, skipped, clashes, claimed = [], [], [], {}
    from iwave.files import list_images
    for p in list_images(src, extensions=suffixes):
        out = (dst / p.relative_to(src)).with_suffix(new_suffix)
        if out in claimed:       # a.png and a.tif would both become a.iwv
            clashes.append((str(p), f"same output name as {claimed[out].name}; rename one"))
        elif out.exists() and not force:
            skipped.append(out)
        else:
            pairs.append((p, out))
        claimed.setdefault(out, p)
    return pairs, skipped, clashes


def _init(model, max_pixels, threads, tile):
    from iwave.codec import DEFAULT_TILE, Codec
    _worker["codec"] = Codec(model, max_pixels=max_pixels, tile=tile or DEFAULT_TILE, threads=threads)


def _one(job):
    """Code one file; never raises (a failure is returned as text)."""
    from iwave.files import compress_file, decompress_file
    kind, inp, out, options = job
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if kind == "compress":
            _, data = compress_file(_worker["codec"], inp, out, **options)
            return inp, out, len(data), None
        decompress_file(_worker["codec"], inp, out, **options)
        return inp, out, out.stat().st_size, None
    except IWaveError as e:
        return inp, out, 0, str(e)
    except MemoryError:
        return inp, out, 0, "out of memory"
    except OSError as e:
        return inp, out, 0, f"{e.strerror or e}"
    except Exception as e:  # noqa: BLE001 -- one bad file must not stop the folder
        return inp, out, 0, f"internal error: {type(e).__name__}: {e}"


def run(kind, src, dst, model=None, max_pixels=None, jobs=1, force=False, progress=True,
        options=None, tile=None, threads=None):
    """Code every file under src into dst; `threads` (default: the free
    cores) are shared by the `jobs` processes, so they never oversubscribe."""
    from iwave.files import IMAGE_EXTENSIONS, progress as show
    src = Path(src)
    if not src.is_dir():
        raise IWaveError(f"{src}: not a folder")
    if dst is None:
        raise IWaveError("give an output folder with -o when the input is a folder")
    if jobs < 1:
        raise IWaveError("--jobs must be at least 1")
    suffixes, new = ((IMAGE_EXTENSIONS, ".iwv") if kind == "compress" else ({".iwv"}, ".png"))
    pairs, skipped, clashes = plan(src, dst, suffixes, new, force)
    report = FolderReport(skipped=skipped, failed=clashes)
    t0 = time.perf_counter()
    from iwave.threads import resolve
    threads = max(1, resolve(threads) // jobs)
    jobs_list = [(kind, i, o, options or {}) for i, o in pairs]
    init = (model, max_pixels or DEFAULT_MAX_PIXELS, threads, tile)
    if jobs == 1 or len(jobs_list) <= 1:
        _init(*init)
        results = map(_one, jobs_list)
        pool = None
    else:
        pool = ProcessPoolExecutor(jobs, initializer=_init, initargs=init)
        results = pool.map(_one, jobs_list)
    try:
        for n, (inp, out, size, error) in enumerate(results, 1):
            if error:
                report.failed.append((str(inp), error))
            else:
                report.done.append((str(inp), str(out), size))
            show(n, len(jobs_list), Path(inp).name, progress)
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    report.seconds = time.perf_counter() - t0
    return report
