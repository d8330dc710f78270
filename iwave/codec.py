"""The codec's entry points: `Codec` (models kept loaded, options checked,
images cut into tiles, tiles coded in parallel processes if asked, --bpp's
search), and `compress` / `decompress` with a default Codec. The work on a
tile is iwave.encoder's and iwave.decoder's."""
import math
import numbers
import os

import numpy as np
import torch
from PIL import Image

from iwave import bitstream, effort as efforts, preview
from iwave.coding import pixel_crc, tile_window
from iwave.decoder import decode_tile
from iwave.encoder import encode_tile
from iwave.errors import IWaveError
from iwave.imageio import read_image, validate_array
from iwave.metadata import checked
from iwave.model import IWaveModel, find_shipped_model, resolve_model_paths
from iwave.quantisation import MAX_STEP, MIN_STEP
from iwave.threads import limited, resolve

BPP_GRID_START, BPP_GRID_SIZE = 8.0, 10     # --bpp first tries steps 8, 16, ... 4096
DEFAULT_TILE = 1024          # pixels; a 1024 x 1024 tile codes in about 0.5 GB
LOSSY_OVERLAP = 16           # lossy tiles extend this far into their neighbours: no seams
_worker_models = {}          # in a tile worker process only: the models of the Codec that forked it


def _start_worker(models, threads):
    torch.set_num_threads(threads)
    _worker_models.update(models)


def _run_job(job):
    fn, model_id, *args = job
    return fn(_worker_models[model_id], *args)


def quality_to_step(quality: float):
    """--quality 1..100 -> step, or None for lossless: 100 is lossless, 90
    is step 2, and every 10 points down doubles the step. (Below step 1 a
    lossy file of a photo is larger than the lossless one, so the lossy
    scale ends at 99, step 1.07.)"""
    if not 1 <= quality <= 100:
        raise IWaveError("quality must be between 1 and 100")
    return None if quality == 100 else 2.0 ** ((100.0 - quality) / 10.0)


def _number(name, value, whole=False):
    """An option that must be a number (a whole one if `whole`): the value,
    or an IWaveError naming the option (True, "4" and None are not numbers;
    the caller checks the range)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise IWaveError(f"{name} must be a {'whole ' if whole else ''}number, not "
                         f"{type(value).__name__} {value!r}")
    if whole and (not math.isfinite(value) or value != int(value)):
        raise IWaveError(f"{name} must be a whole number, not {value!r}")
    return int(value) if whole else float(value)


def _rate_options(step, quality, bpp):
    """step, quality and bpp checked to be numbers where given."""
    return tuple(None if v is None else _number(name, v)
                 for name, v in (("step", step), ("quality", quality), ("bpp", bpp)))


def is_lossy(step=None, quality=None, bpp=None) -> bool:
    """Whether these rate options ask for a lossy file (quality 100 is lossless)."""
    return step is not None or bpp is not None or (quality is not None and quality < 100)


class Codec:
    """Keeps models loaded for compressing and decompressing many images:
    one for lossless and one for lossy coding (the same one when a model is
    named, or when no separate lossy model is shipped); a file decodes with
    whichever made it (its id is in the header).

    Images are coded in independent square tiles (`tile` pixels a side), so
    memory stays bounded for any image size and tiles can be coded in
    parallel processes (`jobs`). Lossy tiles overlap their neighbours by
    LOSSY_OVERLAP pixels and the decoder keeps each tile's own pixels, so
    tile borders do not show.

    `threads`: torch threads for the work (default 1, see
    iwave.threads), shared among the `jobs` processes; the caller's own
    torch setting is restored after each call. `effort`: the encoder's
    effort level, 1 (fastest) to 9 (smallest files), default 7
    (iwave.effort); compress can override it per call."""

    def __init__(self, model=None, max_pixels=bitstream.DEFAULT_MAX_PIXELS, tile=DEFAULT_TILE,
                 jobs=1, threads=None, effort=None):
        if model is not None and not isinstance(model, (str, os.PathLike, IWaveModel)):
            raise IWaveError(f"model must be a model's name, a path to its .npz or an IWaveModel, "
                             f"not {type(model).__name__}")
        tile, jobs = _number("tile", tile, whole=True), _number("jobs", jobs, whole=True)
        max_pixels = _number("max_pixels", max_pixels, whole=True)
        if max_pixels < 1:
            raise IWaveError("max_pixels must be at least 1")
        if isinstance(model, IWaveModel):
            self.models = {"lossless": model, "lossy": model}
        else:
            paths = resolve_model_paths(model)
            loaded = {p: IWaveModel.load(p) for p in set(paths.values())}
            self.models = {mode: loaded[p] for mode, p in paths.items()}
        self._by_id = {}
        for m in self.models.values():
            m.eval()
            self._by_id[m.identifier()] = m
        if not bitstream.MIN_TILE <= int(tile) <= bitstream.MAX_TILE:
            raise IWaveError(f"tile size must be between {bitstream.MIN_TILE} and {bitstream.MAX_TILE}")
        if int(jobs) < 1:
            raise IWaveError("jobs must be at least 1")
        self.max_pixels, self.tile, self.jobs = max_pixels, int(tile), int(jobs)
        self.threads = resolve(threads)
        self.effort = efforts.checked(effort)

    def model_for(self, lossy: bool) -> IWaveModel:
        """The model that codes lossless (False) or lossy (True) files."""
        return self.models["lossy" if lossy else "lossless"]

    def _map(self, fn, model, jobs):
        """[fn(model, *job) for job in jobs], in parallel processes if asked.
        The workers are forked with this Codec's models and get each job's
        data with it, so nothing global is shared: a Codec is re-entrant."""
        if self.jobs == 1 or len(jobs) < 2:
            with limited(self.threads):
                return [fn(model, *j) for j in jobs]
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        threads = max(1, self.threads // self.jobs)
        model_id = model.identifier()
        with ProcessPoolExecutor(min(self.jobs, len(jobs)), multiprocessing.get_context("fork"),
                                 initializer=_start_worker, initargs=({model_id: model}, threads)) as pool:
            return list(pool.map(_run_job, [(fn, model_id, *j) for j in jobs]))

    # ---------------------------------------------------------------- encode
    def compress(self, image, *, step=None, quality=None, bpp=None, strip=False, metadata=None,
                 effort=None, progressive=False) -> bytes:
        """Compress an image: a uint8 or uint16 array of shape (H, W) or
        (H, W, C) with C from 1 to 4, a PIL image, or an image file's path.
        Lossless unless step, quality (below 100) or bpp is given; `effort`
        1-9 (default: the Codec's) trades encoding time for size.
        `progressive`: a lossless file codes no group pixel by pixel, so
        that a preview (decompress's scale) reads its coarse subbands alone
        rather than decoding it whole (lossy files always are so; planes of
        few values, such as palettes, may still be coded as indices).

        A file's ICC profile, EXIF and XMP are kept unless strip is set;
        `metadata` ({"icc", "exif", "xmp" -> bytes}) gives them for an array
        (or replaces a file's). --bpp's target counts the image, not them."""
        for name, flag in (("strip", strip), ("progressive", progressive)):
            if not isinstance(flag, bool):
                raise IWaveError(f"{name} must be True or False, not {flag!r}")
        if strip and metadata:
            raise IWaveError("give metadata or strip, not both")
        step, quality, bpp = _rate_options(step, quality, bpp)
        level = self.effort if effort is None else efforts.checked(effort)
        if isinstance(image, (str, os.PathLike)):
            a = read_image(image, self.max_pixels)
            if metadata is None and not strip:
                from iwave.image_metadata import read_image_metadata
                metadata = read_image_metadata(image)
        elif isinstance(image, (bytes, bytearray, memoryview)):
            raise IWaveError("compress takes an image (array, PIL image or file path), not bytes")
        elif not isinstance(image, (np.ndarray, Image.Image)) and not hasattr(image, "__array__"):
            raise IWaveError(f"compress takes an image (array, PIL image or file path), not "
                             f"{type(image).__name__}")
        else:
            a = validate_array(image)
        h, w = a.shape[:2]
        if h * w > self.max_pixels:
            raise IWaveError(f"image is {w}x{h}, more than the limit of {self.max_pixels} pixels")
        given = [o for o in (step, quality, bpp) if o is not None]
        if len(given) > 1:
            raise IWaveError("give only one of step, quality and bpp")
        lossy = is_lossy(step, quality, bpp)
        bit_depth = 16 if a.dtype == np.uint16 else 8
        if lossy and bit_depth == 16:
            raise IWaveError("lossy mode supports 8-bit images only: code this 16-bit image "
                             "losslessly (without a step, quality or bpp)")
        if quality is not None:
            step = quality_to_step(quality)
        if step is not None and not MIN_STEP <= step <= MAX_STEP:     # also refuses NaN
            raise IWaveError(f"step must be between {MIN_STEP} and {MAX_STEP:g}")
        if bpp is not None and not (0 < bpp < 64):
            raise IWaveError("bpp must be a positive number of bits per pixel (below 64)")
        metadata = checked(metadata)
        if bpp is not None:
            return self._search_bpp(a, bit_depth, bpp, metadata, level)
        return self._code(a, bit_depth, step if lossy else None, metadata, level, progressive)

    def _code(self, a, bit_depth, step, metadata=None, level=efforts.DEFAULT_EFFORT, progressive=False):
        h, w = a.shape[:2]
        if step is not None:
            step = bitstream.stored_step(step)
        model = self.model_for(step is not None)
        overlap = LOSSY_OVERLAP if step is not None else 0
        jobs = []
        for core in bitstream.tile_grid(h, w, self.tile):
            (y0, y1, x0, x1), keep = tile_window(core, overlap, h, w)
            jobs.append((a[y0:y1, x0:x1], keep, bit_depth, step, level, progressive))
        chunks = [c for t in self._map(encode_tile, model, jobs) for c in t]
        header = bitstream.Header(
            width=w, height=h, components=1 if a.ndim == 2 else a.shape[2], bit_depth=bit_depth,
            colour=bitstream.COLOUR_YCOCG_R if a.ndim == 3 and a.shape[2] >= 3 else bitstream.COLOUR_NONE,
            has_alpha=a.ndim == 3 and a.shape[2] in (2, 4),
            mode=bitstream.MODE_LOSSLESS if step is None else bitstream.MODE_LOSSY,
            levels=model.levels, step=1.0 if step is None else float(step),
            weights_id=model.identifier(), pixel_crc=pixel_crc(a) if step is None else 0,
            tile=self.tile, overlap=overlap, channel_axis=a.ndim == 3 and a.shape[2] == 1,
            metadata=metadata or {}, effort=level)
        return bitstream.write(header, chunks)

    def _search_bpp(self, a, bit_depth, target, metadata, level):
        """A file close to the target rate and not above it: steered by a
        rate estimate (iwave.rate_search, about two encodes, at least
        rate_search.CLOSE_ENOUGH of the target), else the largest file not
        above it. Files shrink as the step grows only up to a point (far
        beyond the steps a model was trained with they grow again), so that
        search first finds the smallest file on a coarse grid of steps, then
        bisects log(step) below that step."""
        from iwave import rate_search
        pixels = a.shape[0] * a.shape[1]
        extra = bitstream.metadata_bytes(metadata)       # the same in every candidate file
        with limited(self.threads):
            estimate = rate_search.RateEstimate(self.model_for(True), a)
        found = rate_search.search(lambda s: self._code(a, bit_depth, s, metadata, level), estimate,
                                   target, lambda data: (len(data) - extra) * 8 / pixels)
        if found is not None:
            return found
        grid = [BPP_GRID_START * 2.0 ** k for k in range(BPP_GRID_SIZE)]
        files = [self._code(a, bit_depth, s, metadata, level) for s in grid]
        k = min(range(len(grid)), key=lambda i: len(files[i]))
        top, smallest, size = grid[k], files[k], len(files[k]) - extra
        if size * 8 / pixels > target:
            raise IWaveError(f"cannot reach {target:g} bpp: the smallest file for this image is "
                             f"{size * 8 / pixels:.3f} bpp")
        best = smallest
        lo, hi = math.log(MIN_STEP), math.log(top)
        for _ in range(12):
            mid = 0.5 * (lo + hi)
            data = self._code(a, bit_depth, math.exp(mid), metadata, level)
            if (len(data) - extra) * 8 / pixels <= target:
                best, hi = data, mid
            else:
                lo = mid
        return best

    # ---------------------------------------------------------------- decode
    def decompress(self, data: bytes, *, scale=1, _order=None) -> np.ndarray:
        """Decode to an array with the original dtype and shape. (`_order`:
        the order tiles are decoded in; tests use it to show it does not matter.)
        `data` may also be the path of an .iwv file. `scale` 1/2, 1/4, ...
        (or "1/4", 0.25, ...) decodes a preview from the coarse subbands only:
        ceil(H/2^k) x ceil(W/2^k) pixels for scale 1/2^k (docs/preview.md)."""
        level = preview.scale_level(scale)
        if isinstance(data, (str, os.PathLike)):
            path = data
            if not os.path.isfile(path):
                raise IWaveError(f"{path}: no such file")
            with open(path, "rb") as f:
                data = f.read()
        elif not isinstance(data, (bytes, bytearray, memoryview)):
            raise IWaveError(f"decompress takes the bytes of an .iwv file or its path, "
                             f"not {type(data).__name__}")
        header, chunks = bitstream.read(bytes(data), self.max_pixels)
        model = self._by_id.get(header.weights_id)
        if model is None:
            model = find_shipped_model(header.weights_id)
            if model is not None:
                model.eval()
                self._by_id[header.weights_id] = model
        if model is None:
            loaded = " and ".join(sorted(self._by_id))
            raise IWaveError(f"file was made with model {header.weights_id}, which is neither the "
                             f"loaded model ({loaded}) nor shipped; decode it with the model that "
                             f"made it (--model)")
        if header.levels != model.levels:
            raise IWaveError("file is corrupt (levels do not match the model)")
        preview.check_level(header, level)
        tiles = header.tiles()
        order = list(range(len(tiles))) if _order is None else list(_order)
        per_tile = header.components
        jobs = [(header, chunks[i * per_tile:(i + 1) * per_tile], tiles[i], level) for i in order]
        dtype = np.uint16 if header.bit_depth == 16 else np.uint8
        out = np.empty((preview.reduced(header.height, level), preview.reduced(header.width, level),
                        header.components), dtype)
        for i, pixels in zip(order, self._map(decode_tile, model, jobs)):
            y0, x0 = tiles[i][0] >> level, tiles[i][2] >> level
            out[y0:y0 + pixels.shape[0], x0:x0 + pixels.shape[1]] = pixels
        if out.shape[2] == 1 and not header.channel_axis:
            out = out[:, :, 0]
        if header.mode == bitstream.MODE_LOSSLESS and level == 0 and pixel_crc(out) != header.pixel_crc:
            raise IWaveError("decoded pixels do not match the file's checksum: the file is corrupt")
        return out


_default_codec = None


def _codec():
    global _default_codec
    if _default_codec is None:
        _default_codec = Codec()
    return _default_codec


def compress(image, *, step=None, quality=None, bpp=None, strip=False, metadata=None,
             effort=None, progressive=False) -> bytes:
    """Compress an image (uint8/uint16 array, PIL image or file path) to
    .iwv bytes. Lossless unless step, quality (below 100) or bpp is given.
    A file's ICC profile, EXIF and XMP are kept unless strip=True; metadata=
    {"icc", "exif", "xmp" -> bytes} gives them for an array. effort: 1
    (fastest) to 9 (smallest), default 7. progressive=True: a lossless file
    whose previews need no full decode (Codec.compress)."""
    return _codec().compress(image, step=step, quality=quality, bpp=bpp, strip=strip,
                             metadata=metadata, effort=effort, progressive=progressive)


def decompress(data: bytes, *, scale=1) -> np.ndarray:
    """Decode .iwv bytes (or an .iwv file's path) to an array with the
    original dtype and shape; `scale` 1/2, 1/4, ... (or "1/4", 0.25) decodes
    a preview of ceil(H/2^k) x ceil(W/2^k) pixels from the coarse subbands."""
    return _codec().decompress(data, scale=scale)
