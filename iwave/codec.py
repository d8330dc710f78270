"""Compress and decompress images: colour -> transform -> quantise -> context
model -> range coder -> bitstream, and back."""
import math
import os
import zlib

import numpy as np
import torch

from entropy import EntropyError, ValueDecoder, ValueEncoder, adaptation
from entropy.context_model import PHASES, coding_parameters, scale_index_base
from entropy.tables import centroid_offsets
from iwave import bitstream, postfilter
from iwave.colour import YCOCG_SYNTHESIS_GAINS, rgb_to_ycocg, ycocg_to_rgb
from iwave.errors import IWaveError
from iwave.imageio import read_image, validate_array
from iwave.lifting import subband_shapes
from iwave.model import IWaveModel, find_shipped_model, resolve_model_paths
from iwave.quantisation import dequantise, quantise

MIN_STEP, MAX_STEP = 0.1, 1e6
BPP_GRID_START, BPP_GRID_SIZE = 8.0, 10     # --bpp first tries steps 8, 16, ... 4096


def quality_to_step(quality: float):
    """--quality 1..100 -> step, or None for lossless: 100 is lossless, 90
    is step 2, and every 10 points down doubles the step. (Below step 1 a
    lossy file of a photo is larger than the lossless one, so the lossy
    scale ends at 99, step 1.07.)"""
    if not 1 <= quality <= 100:
        raise IWaveError("quality must be between 1 and 100")
    return None if quality == 100 else 2.0 ** ((100.0 - quality) / 10.0)


def is_lossy(step=None, quality=None, bpp=None) -> bool:
    """Whether these rate options ask for a lossy file (quality 100 is lossless)."""
    return step is not None or bpp is not None or (quality is not None and quality < 100)


def pixel_crc(a: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes())


def _groups(a):
    """Split an image into component groups coded together: colour (1 or 3
    components) and, separately, alpha. Returns [(int64 array (n, H, W), colour)]."""
    x = a.astype(np.int64)
    if x.ndim == 2:
        return [(x[None], bitstream.COLOUR_NONE)]
    c = x.shape[2]
    colour = x[:, :, :3] if c >= 3 else x[:, :, :1]
    out = [(np.moveaxis(rgb_to_ycocg(colour), -1, 0), bitstream.COLOUR_YCOCG_R) if c >= 3
           else (colour.transpose(2, 0, 1), bitstream.COLOUR_NONE)]
    if c in (2, 4):
        out.append((x[:, :, -1][None], bitstream.COLOUR_NONE))
    return out


# The encoder's quantiser rounds magnitudes up from 0.6 of a step rather than
# 0.5 (a dead zone). On 16 held-out training crops, per-image BD-rate against
# JPEG 2000: rounding 0.5 +3.5%, 0.45 -0.9%, 0.4 -1.3%, 0.35 0.0%, 0.3 +2.2%.
ENCODER_ROUNDING = 0.4
# Then each index is re-rounded by rate-distortion cost (rd_quantise), a bit
# weighing this many squared steps. On the same crops, with iwave-lossy:
# lambda 0 -9.8%, 0.07 -12.4%, 0.1 -13.2%, 0.15 -13.0% (a second pass with
# re-predicted contexts: -12.6% at 0.07); iwave-default -1.3% -> -3.5% at 0.1.
RD_LAMBDA = 0.1

DEFAULT_TILE = 1024          # pixels; a 1024 x 1024 tile codes in about 0.5 GB
LOSSY_OVERLAP = 16           # lossy tiles extend this far into their neighbours: no seams
_shared = {}                 # what forked tile workers read (set just before forking)


def _extend(core, overlap, h, w):
    y0, y1, x0, x1 = core
    return max(y0 - overlap, 0), min(y1 + overlap, h), max(x0 - overlap, 0), min(x1 + overlap, w)


def _run_tile(args):
    return getattr(_shared["codec"], args[0])(*args[1:])


def subbands(model, x, bit_depth, step):
    """One component group (int64 array (n, H, W)) -> (subbands as (n, 1, h, w)
    float64 tensors, the context model's conditioning steps): transformed,
    and quantised by the encoder's rule if `step` is given (else None)."""
    with torch.no_grad():
        bands = model.transform(torch.from_numpy(x).double()[:, None], bit_depth,
                                rounding=step is None)
    if step is None:
        return bands, None
    n = x.shape[0]
    steps, cond = model.lossy_steps(step, n), model.condition_steps(step, n)
    q = quantise(bands, steps, rounding=ENCODER_ROUNDING)
    if RD_LAMBDA:
        q = rd_quantise(model, bands, q, steps, cond, RD_LAMBDA)
    return q, cond


def model_outputs(model, bands, bit_depth, cond_steps, dtype=torch.float64):
    """Run the context model over known subbands (teacher forcing):
    [component][band] -> [(values, mean, log2 scale) per phase], in `dtype`
    (float64: the coder's exact parameters; float32: training arithmetic)."""
    n = bands[0].shape[0]
    src = [b.to(dtype) for b in bands]
    out = [[[] for _ in bands] for _ in range(n)]

    def emit(b, c, p, mean, log2_scale):
        dy, dx = PHASES[p]
        v = src[b][c:c + 1, 0, dy::2, dx::2]
        out[c][b].append((v, mean, log2_scale))
        return v

    with torch.no_grad():
        model.context.walk([tuple(t.shape[-2:]) for t in bands], n, 1, bit_depth, emit,
                           dtype=dtype, band_steps=cond_steps)
    return out


def subband_arrays(phases):
    """One subband's phases from model_outputs -> flat numpy (int64 values,
    float means, unclamped scale indices), as entropy.adaptation takes them."""
    values = torch.cat([v.reshape(-1) for v, _, _ in phases]).to(torch.int64)
    means = torch.cat([m.reshape(-1) for _, m, _ in phases]).double()
    scales = torch.cat([scale_index_base(s.double()).reshape(-1) for _, _, s in phases])
    return values.numpy(), means.numpy(), scales.to(torch.int64).numpy()


def coding_plan(phases, tables, references=None, part_references=None, activities=None):
    """The coding plan fitted to one subband's phases of one component
    (entropy.adaptation); references: per phase, the same positions' values
    of the earlier components (c, h, w), if any; part_references: per phase,
    its neighbours' residuals; activities: per phase, _activities."""
    return adaptation.plan([subband_arrays([ph]) for ph in phases], tables=tables,
                           references=references, part_references=part_references,
                           activities=activities)


def planned_parameters(plan, p, mean, log2_scale, resolution, references=None, part_references=None,
                       activities=None):
    """The coder's integer means and scale indices of phase p of a subband
    under its coding plan (references as for coding_plan, of phase p)."""
    kbase = scale_index_base(log2_scale).to(torch.int64).numpy()
    adjustment = tuple(torch.from_numpy(x) for x in plan.arrays(p, kbase, references, part_references,
                                                                activities))
    return coding_parameters(mean, log2_scale, adjustment, resolution)


# For each phase, its coded neighbours in earlier phases of the same subband,
# as (phase, row offset, column offset) on the phase grids
_NEIGHBOURS = {1: ((0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1)),
               2: ((0, 0, 0), (0, 0, 1), (1, -1, 0), (1, 0, 0)),
               3: ((0, 0, 0), (0, 1, 0), (1, 0, -1), (1, 0, 0), (2, 0, 0), (2, 1, 0), (2, 0, -1),
                   (2, 1, -1))}
PART_REFERENCES = [len(_NEIGHBOURS.get(p, ())) for p in range(len(PHASES))]


def _residual(v, mean):
    """A coded value less its rounded predicted mean, on its phase grid."""
    return np.asarray(v, dtype=np.int64).reshape(mean.shape[-2:]) - \
        torch.floor(mean + 0.5).to(torch.int64).numpy().reshape(mean.shape[-2:])


def _neighbour_residuals(residuals, p, shape):
    """(n, h*w) residuals of phase p's coded neighbours (zero outside)."""
    h, w = shape
    rows = []
    for q, dy, dx in _NEIGHBOURS.get(p, ()):
        r, out = residuals[q], np.zeros((h, w), np.int64)
        ys, xs = np.arange(h) + dy, np.arange(w) + dx
        my, mx = (ys >= 0) & (ys < r.shape[0]), (xs >= 0) & (xs < r.shape[1])
        out[np.ix_(my, mx)] = r[np.ix_(ys[my], xs[mx])]
        rows.append(out.reshape(-1))
    return np.stack(rows) if rows else np.zeros((0, h * w), np.int64)


ACTIVITIES = 3     # neighbours, earlier components, earlier subbands of the level


def _on_grid(r, shape):
    """r cropped or zero-padded to shape (subbands of a level can differ by one)."""
    out = np.zeros(shape, np.int64)
    h, w = min(shape[0], r.shape[0]), min(shape[1], r.shape[1])
    out[:h, :w] = r[:h, :w]
    return out


def _activities(residuals, c, b, p, shape, neighbours):
    """(ACTIVITIES, h*w) magnitudes of coded residuals near each value of
    phase p (grid `shape`) of subband b, component c, from the residual grids
    residuals[c][b][p] coded before it: summed over its neighbours
    (`neighbours`, from _neighbour_residuals), over the earlier components at
    the same position, and over the earlier subbands of the same level at
    the same position."""
    first = b - (b - 1) % 3 if b else b          # the level's first subband (LL is alone)
    zero = np.zeros(shape, np.int64)
    return np.stack([np.abs(neighbours).sum(0),
                     sum((np.abs(residuals[j][b][p]) for j in range(c)), zero).reshape(-1),
                     sum((np.abs(_on_grid(residuals[c][q][p], shape)) for q in range(first, b)),
                         zero).reshape(-1)])


def _references(decoded, c, b, p):
    """The values of components before c at phase p of subband b, (c, n)."""
    return np.stack([decoded[j][b][p].reshape(-1) for j in range(c)]) if c else None


def plan_inputs(values, residuals, c, b, p, shape):
    """What the coding plan of phase p (grid `shape`) of subband b, component
    c reads from what is coded before it (values[c][b][p] and their
    residuals): the earlier components' values (None for the first), its
    neighbours' residuals and its activities, as Plan.arrays takes them."""
    neighbours = _neighbour_residuals(residuals[c][b], p, shape)
    return (_references(values, c, b, p), neighbours,
            _activities(residuals, c, b, p, shape, neighbours))


def group_plan(phases, tables, inputs):
    """coding_plan of one subband's phases from their plan_inputs."""
    refs, neighbours, activities = zip(*inputs)
    return coding_plan(phases, tables, refs if refs[0] is not None else None, neighbours, activities)


def coded_streams(model, bands, bit_depth, cond_steps):
    """What the encoder codes for one component group: per component, the
    coding plan of each subband (entropy.adaptation) and the (values, integer
    means, scale indices) of every phase in coding order."""
    tables = model.tables
    outputs = model_outputs(model, bands, bit_depth, cond_steps)
    values = [[[v.to(torch.int64).numpy() for v, _, _ in phases] for phases in per_band]
              for per_band in outputs]
    residuals = [[[_residual(v, mean) for v, mean, _ in phases] for phases in per_band]
                 for per_band in outputs]
    out = []
    for c, per_band in enumerate(outputs):
        inputs = [[plan_inputs(values, residuals, c, b, p, ph[1].shape[-2:]) for p, ph in enumerate(phases)]
                  for b, phases in enumerate(per_band)]
        plans = [group_plan(phases, tables, inputs[b]) for b, phases in enumerate(per_band)]
        symbols = [(values[c][b][p],
                    *(t.numpy() for t in planned_parameters(plan, p, mean, log2_scale,
                                                            model.mean_resolution, *inputs[b][p])))
                   for b, (phases, plan) in enumerate(zip(per_band, plans))
                   for p, (_, mean, log2_scale) in enumerate(phases)]
        out.append((plans, symbols))
    return out


def _read_plans(decoder, count, version, component):
    """The coding plans at the start of a component's stream: since version 5
    with neighbour mixes and gains (since version 6 coded more compactly), in
    version 4 without them, in version 3 one adjustment per subband, before
    that none."""
    if version >= 5:
        return adaptation.read_plans(decoder, count, len(PHASES), references=component,
                                     part_references=PART_REFERENCES, activities=ACTIVITIES,
                                     code=adaptation.SIDE if version >= 6 else adaptation.V5_SIDE)
    if version == 4:
        return adaptation.read_plans(decoder, count, len(PHASES), references=component,
                                     code=adaptation.V5_SIDE)
    if version == 3:
        return [adaptation.single(a) for a in adaptation.read(decoder, count)]
    return [adaptation.IDENTITY_PLAN] * count


def reconstruct(model, bands, step, offsets=None):
    """The real-valued planes (n, 1, H, W) of one lossy component group's
    quantised bands: dequantised, inverse transformed and, for colour at the
    steps the model's denoiser serves, denoised; what the post filter works on."""
    n = bands[0].shape[0]
    with torch.no_grad():
        x = model.transform.inverse(dequantise(bands, model.lossy_steps(step, n), offsets=offsets),
                                    8, rounding=False)
        if n == 3 and model.denoiser_applies(step):
            x = model.denoiser(x.transpose(0, 1), step).transpose(0, 1)
    return x


def rd_quantise(model, raw, q, steps, cond_steps, lam):
    """Rate-distortion rounding: each coefficient takes whichever of the two
    integers around it (in steps) costs less in squared error (in steps,
    which weighs every band and component alike in RGB) plus lam times its
    bits. The bits are the coder's, under the model's prediction and the
    coding adjustments for the dead-zone indices `q` (later contexts are not
    re-predicted, so this is a one-pass approximation)."""
    out = [t.clone() for t in q]
    tables = model.tables
    for c, per_band in enumerate(model_outputs(model, q, 8, cond_steps)):
        for b, phases in enumerate(per_band):
            # one adjustment per subband: cheaper than the coder's plan, and
            # close enough for this approximation
            plan = adaptation.single(adaptation.fit(*subband_arrays(phases), tables=tables))
            for p, (_, mean, log2_scale) in enumerate(phases):
                dy, dx = PHASES[p]
                x = (raw[b][c, 0, dy::2, dx::2] / steps[b][c]).numpy()
                m, k = (t.numpy().reshape(x.shape)
                        for t in planned_parameters(plan, p, mean, log2_scale,
                                                    model.mean_resolution))
                out[b][c, 0, dy::2, dx::2] = torch.from_numpy(rd_choice(x, m, k, tables, lam))
    return out


def rd_choice(x, m, k, tables, lam):
    """Of the two integers around each x (numpy, in steps), the one that
    costs less in squared error plus lam times its bits under the coder's
    integer means m and scale indices k."""
    low = np.sign(x) * np.floor(np.abs(x))
    high = low + np.sign(x)
    cost = lambda v: (x - v) ** 2 + lam * adaptation.value_bits(v.astype(np.int64), m, k, tables)
    return np.where(cost(high) < cost(low), high, low) + 0.0


class Codec:
    """Keeps models loaded for compressing and decompressing many images:
    one for lossless and one for lossy coding (the same one when a model is
    named, or when no separate lossy model is shipped); a file decodes with
    whichever made it (its id is in the header).

    Images are coded in independent square tiles (`tile` pixels a side), so
    memory stays bounded for any image size and tiles can be coded in
    parallel processes (`jobs`). Lossy tiles overlap their neighbours by
    LOSSY_OVERLAP pixels and the decoder keeps each tile's own pixels, so
    tile borders do not show."""

    def __init__(self, model=None, max_pixels=bitstream.DEFAULT_MAX_PIXELS, tile=DEFAULT_TILE,
                 jobs=1):
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

    def model_for(self, lossy: bool) -> IWaveModel:
        """The model that codes lossless (False) or lossy (True) files."""
        return self.models["lossy" if lossy else "lossless"]

    def _map(self, method, jobs):
        """[self.method(*job) for job in jobs], in parallel processes if asked."""
        if self.jobs == 1 or len(jobs) < 2:
            return [getattr(self, method)(*j) for j in jobs]
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        _shared["codec"] = self
        threads = max(1, torch.get_num_threads() // self.jobs)
        with ProcessPoolExecutor(min(self.jobs, len(jobs)), multiprocessing.get_context("fork"),
                                 initializer=torch.set_num_threads, initargs=(threads,)) as pool:
            return list(pool.map(_run_tile, [(method, *j) for j in jobs]))

    # ---------------------------------------------------------------- encode
    def compress(self, image, *, step=None, quality=None, bpp=None) -> bytes:
        """Compress an image: a uint8 or uint16 array of shape (H, W) or
        (H, W, C) with C from 1 to 4, a PIL image, or an image file's path.
        Lossless unless step, quality (below 100) or bpp is given."""
        if isinstance(image, (str, os.PathLike)):
            a = read_image(image, self.max_pixels)
        elif isinstance(image, (bytes, bytearray, memoryview)):
            raise IWaveError("compress takes an image (array, PIL image or file path), not bytes")
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
            raise IWaveError("lossy mode supports 8-bit images only; 16-bit images are coded losslessly")
        if quality is not None:
            step = quality_to_step(quality)
        if step is not None and not MIN_STEP <= step <= MAX_STEP:     # also refuses NaN
            raise IWaveError(f"step must be between {MIN_STEP} and {MAX_STEP:g}")
        if bpp is not None and not (0 < bpp < 64):
            raise IWaveError("bpp must be a positive number of bits per pixel (below 64)")
        if bpp is not None:
            return self._search_bpp(a, bit_depth, bpp)
        return self._code(a, bit_depth, step if lossy else None)

    def _code(self, a, bit_depth, step):
        h, w = a.shape[:2]
        if step is not None:
            step = bitstream.stored_step(step)
        model = self.model_for(step is not None)
        overlap = LOSSY_OVERLAP if step is not None else 0
        _shared["image"] = a
        tiles = bitstream.tile_grid(h, w, self.tile)
        chunks = [c for t in self._map("_encode_tile", [(t, overlap, bit_depth, step) for t in tiles])
                  for c in t]
        header = bitstream.Header(
            width=w, height=h, components=1 if a.ndim == 2 else a.shape[2], bit_depth=bit_depth,
            colour=bitstream.COLOUR_YCOCG_R if a.ndim == 3 and a.shape[2] >= 3 else bitstream.COLOUR_NONE,
            has_alpha=a.ndim == 3 and a.shape[2] in (2, 4),
            mode=bitstream.MODE_LOSSLESS if step is None else bitstream.MODE_LOSSY,
            levels=model.levels, step=1.0 if step is None else float(step),
            weights_id=model.identifier(), pixel_crc=pixel_crc(a) if step is None else 0,
            tile=self.tile, overlap=overlap, channel_axis=a.ndim == 3 and a.shape[2] == 1)
        return bitstream.write(header, chunks)

    def _encode_tile(self, core, overlap, bit_depth, step):
        """Chunks of one tile: each component group transformed, quantised
        (colour only, in lossy mode) and entropy coded."""
        a = _shared["image"]
        model = self.model_for(step is not None)
        y0, y1, x0, x1 = _extend(core, overlap, *a.shape[:2])
        keep = (slice(core[0] - y0, core[1] - y0), slice(core[2] - x0, core[3] - x0))
        chunks = []
        for gi, (x, _) in enumerate(_groups(a[y0:y1, x0:x1])):
            lossy_step = step if gi == 0 else None          # alpha is always lossless
            bands, cond = subbands(model, x, bit_depth, lossy_step)
            filters = None
            if lossy_step is not None and bitstream.VERSION >= 7:
                # (fitted without the centroid option's offsets, which only the
                # decoder computes; no shipped model uses them)
                weights = YCOCG_SYNTHESIS_GAINS if len(x) == 3 else (1.0,)
                filters = postfilter.fit(reconstruct(model, bands, step),
                                         torch.from_numpy(x)[:, None], keep, weights)
            chunks += self._encode_group(model, bands, bit_depth if lossy_step is None else 8, cond,
                                         filters)
        return chunks

    def _encode_group(self, model, bands, bit_depth, cond_steps, filters=None):
        """One stream per component: its post filter (lossy), the per-subband
        coding plans fitted to this image (entropy.adaptation), then the
        coefficients."""
        streams = []
        for c, (plans, symbols) in enumerate(coded_streams(model, bands, bit_depth, cond_steps)):
            encoder = ValueEncoder(model.tables)
            if filters is not None:
                postfilter.write(encoder, [filters[c]])
            adaptation.write_plans(encoder, plans)
            for v, m, k in symbols:
                encoder.add(v, m, k)
            streams.append(encoder.finish())
        return streams

    def _search_bpp(self, a, bit_depth, target):
        """The largest file not above the target rate. Files shrink as the
        step grows only up to a point (far beyond the steps a model was
        trained with they grow again), so first find the smallest file on a
        coarse grid of steps, then bisect log(step) below that step."""
        pixels = a.shape[0] * a.shape[1]
        grid = [BPP_GRID_START * 2.0 ** k for k in range(BPP_GRID_SIZE)]
        files = [self._code(a, bit_depth, s) for s in grid]
        k = min(range(len(grid)), key=lambda i: len(files[i]))
        top, smallest, size = grid[k], files[k], len(files[k])
        if size * 8 / pixels > target:
            raise IWaveError(f"cannot reach {target:g} bpp: the smallest file for this image is "
                             f"{size * 8 / pixels:.3f} bpp")
        best = smallest
        lo, hi = math.log(MIN_STEP), math.log(top)
        for _ in range(12):
            mid = 0.5 * (lo + hi)
            data = self._code(a, bit_depth, math.exp(mid))
            if len(data) * 8 / pixels <= target:
                best, hi = data, mid
            else:
                lo = mid
        return best

    # ---------------------------------------------------------------- decode
    def decompress(self, data: bytes, _order=None) -> np.ndarray:
        """Decode to an array with the original dtype and shape. (`_order`:
        the order tiles are decoded in; tests use it to show it does not matter.)
        `data` may also be the path of an .iwv file."""
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
        tiles = header.tiles()
        order = list(range(len(tiles))) if _order is None else list(_order)
        _shared["file"] = (header, chunks)
        dtype = np.uint16 if header.bit_depth == 16 else np.uint8
        out = np.empty((header.height, header.width, header.components), dtype)
        for i, pixels in zip(order, self._map("_decode_tile", [(i,) for i in order])):
            y0, y1, x0, x1 = tiles[i]
            out[y0:y1, x0:x1] = pixels
        if out.shape[2] == 1 and not header.channel_axis:
            out = out[:, :, 0]
        if header.mode == bitstream.MODE_LOSSLESS and pixel_crc(out) != header.pixel_crc:
            raise IWaveError("decoded pixels do not match the file's checksum: the file is corrupt")
        return out

    def _decode_tile(self, i):
        header, chunks = _shared["file"]
        model = self._by_id[header.weights_id]
        core = header.tiles()[i]
        y0, y1, x0, x1 = _extend(core, header.overlap, header.height, header.width)
        n_colour = header.components - int(header.has_alpha)
        lossy = header.mode == bitstream.MODE_LOSSY
        comps, start = [], i * header.components
        for gi, n in enumerate([n_colour] + ([1] if header.has_alpha else [])):
            steps = model.lossy_steps(header.step, n) if lossy and gi == 0 else None
            cond = model.condition_steps(header.step, n) if steps else None
            bands, offsets, filters = self._decode_group(model, chunks[start:start + n], y1 - y0,
                                                         x1 - x0, header, cond)
            start += n
            if steps:
                x = reconstruct(model, bands, header.step, offsets)
                if filters is not None:
                    x = postfilter.apply(x, filters)
            else:
                with torch.no_grad():
                    x = model.transform.inverse(bands, header.bit_depth, rounding=True)
            comps.append(torch.floor(x[:, 0] + 0.5).to(torch.int64).numpy())
        keep = (slice(core[0] - y0, core[1] - y0), slice(core[2] - x0, core[3] - x0))
        return self._assemble([c[:, keep[0], keep[1]] for c in comps], header)

    def _decode_group(self, model, chunks, height, width, header, cond_steps):
        """cond_steps: the steps the context model is conditioned on (None: lossless)."""
        n = len(chunks)
        shapes = subband_shapes(height, width, header.levels)
        try:
            decoders = [ValueDecoder(c, model.tables) for c in chunks]
            filters = ([postfilter.read(d, 1)[0] for d in decoders]
                       if cond_steps is not None and header.version >= 7 else None)
            plans = [_read_plans(d, len(shapes), header.version, c) for c, d in enumerate(decoders)]
        except EntropyError as e:
            raise IWaveError(f"file is corrupt ({e})") from None
        centroid = cond_steps is not None and model.lossy_option("centroid")
        offsets = [torch.zeros((n, 1) + s, dtype=torch.float64) for s in shapes] if centroid else None
        table = torch.from_numpy(centroid_offsets())
        decoded = [[[None] * len(PHASES) for _ in shapes] for _ in range(n)]   # for the plans' mixes
        residuals = [[[None] * len(PHASES) for _ in shapes] for _ in range(n)]

        def emit(b, c, p, mean, log2_scale):
            m, k = planned_parameters(plans[c][b], p, mean, log2_scale, model.mean_resolution,
                                      *plan_inputs(decoded, residuals, c, b, p, tuple(mean.shape[-2:])))
            try:
                v = decoders[c].decode(m.numpy(), k.numpy())
            except EntropyError as e:
                raise IWaveError(f"file is corrupt ({e})") from None
            decoded[c][b][p] = v
            residuals[c][b][p] = _residual(v, mean)
            v = torch.from_numpy(v).view(m.shape)
            if centroid:     # move towards the predicted mean, to the bin's centroid
                dy, dx = PHASES[p]
                offsets[b][c, 0, dy::2, dx::2] = (-torch.sign(v * model.mean_resolution - m).double()
                                                  * table[k][0])
            return v.double()

        with torch.no_grad():
            bands = model.context.walk(shapes, n, 1, 8 if cond_steps else header.bit_depth,
                                            emit, band_steps=cond_steps)
        for d in decoders:
            try:
                d.check_end()
            except EntropyError as e:
                raise IWaveError(f"file is corrupt ({e})") from None
        return [b[0][:, None] for b in bands], offsets, filters

    @staticmethod
    def _assemble(comps, header):
        """One tile's component planes -> (h, w, components) pixels."""
        hi = (1 << header.bit_depth) - 1
        dtype = np.uint16 if header.bit_depth == 16 else np.uint8
        colour = comps[0]
        if header.colour == bitstream.COLOUR_YCOCG_R:
            colour = np.moveaxis(ycocg_to_rgb(np.moveaxis(colour, 0, -1)), -1, 0)
        planes = list(colour) + ([comps[1][0]] if header.has_alpha else [])
        if header.mode == bitstream.MODE_LOSSLESS and any(p.min() < 0 or p.max() > hi for p in planes):
            raise IWaveError("file is corrupt (decoded pixels out of range)")
        return np.stack([np.clip(p, 0, hi) for p in planes], -1).astype(dtype)


_default_codec = None


def _codec():
    global _default_codec
    if _default_codec is None:
        _default_codec = Codec()
    return _default_codec


def compress(image, *, step=None, quality=None, bpp=None) -> bytes:
    """Compress an image (uint8/uint16 array, PIL image or file path) to
    .iwv bytes. Lossless unless step, quality (below 100) or bpp is given."""
    return _codec().compress(image, step=step, quality=quality, bpp=bpp)


def decompress(data: bytes) -> np.ndarray:
    """Decode .iwv bytes (or an .iwv file's path) to an array with the
    original dtype and shape."""
    return _codec().decompress(data)
