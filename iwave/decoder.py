"""The decoder: one tile's chunks back to pixels. It imports nothing that
only the encoder needs (tests/iwave/test_layout.py checks), so what a
decoder must do is visible here, in iwave.coding and in the modules they
import."""
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from iwave.entropy import EntropyError, ValueDecoder, plan_format
from iwave.entropy.context_model import PHASES
from iwave.entropy.tables import centroid_offsets
from iwave import (bitstream, coarse_band, directions, index_coder, lifting_paths, palette, pixel_prediction,
                   postfilter, preview, sample_map, ycbcr)
from iwave.coding import (ACTIVITIES, PART_REFERENCES, plan_inputs, planned_parameters,
                          reconstruct, residual, tile_window)
from iwave.colour import ycocg_to_rgb
from iwave.errors import IWaveError
from iwave.lifting import subband_shapes
from iwave.quantisation import dequantise


@dataclass(frozen=True)
class StreamFormat:
    """What each component's stream holds before its coefficients, by file
    format version: the one place that says what a version reads."""
    post_filter: bool        # lossy streams start with a post filter (version 7 on)
    plans: str               # "none" (1, 2), "single": one adjustment per subband (3), "plans" (4 on)
    plan_inputs: bool        # plans also mix in neighbours and have activity gains (5 on)
    side_code: object = None     # how the plans' integers are coded (plan_format.V5_SIDE / SIDE)
    sample_map: bool = False     # lossless streams start with a sample map flag (version 9 on)
    palette: bool = False        # lossless 8-bit RGB(A) tiles may be palette tiles (version 11 on)
    tight_depth: bool = False    # mapped indices coded at the fewest bits that hold them (13 on)
    colour_map: bool = False     # a lossless colour group may have one map of its RGB values (13 on)
    lifting_paths: bool = False  # lossless groups name their lifting path (13 on)
    zero_groups: bool = False    # streams flag their subbands of zeros, which have no plan (14 on)
    classified_filters: bool = False   # a lossy stream's post filter may be per class (15 on)
    coarse_band: bool = False    # a stream's LL band may be coded sequentially (16 on)
    directions: bool = False     # a lossy group may lift its finest levels along directions (17 on)
    ycbcr: bool = False          # a lossless colour group's planes may be the YCbCr it came from (18 on)
    subsampled: bool = False     # ... and its Cb and Cr at half resolution (19 on)
    pixels: bool = False         # a lossless group may be coded pixel by pixel (20 on)
    pixel_scheme: int = pixel_prediction.FIXED_ONLY   # ... predicted so: with a local least-squares
    #                              predictor (LOCAL, 21), and the earlier planes' samples (CROSS, 22 on)


class Group(NamedTuple):
    """A decoded component group (decode_group)."""
    bands: list          # subbands (None for a directly coded index plane)
    offsets: list        # centroid offsets (lossy), else None
    filters: list        # post filters (lossy), else None
    values: object       # the sample map's values, else None
    depth: int           # the bit depth the subbands were coded at
    colours: object      # a palette tile's palette, else None
    plane: object        # planes (n, h, w) decoded whole: a directly coded index plane, or pixel by pixel
    path: int            # the lifting path (iwave.lifting_paths) of a lossless group
    directions: object = None    # a lossy group's direction maps (iwave.directions), else None
    form: object = None          # planes of YCbCr: their ycbcr.Form; YCoCg-R or none: None
    decoders: object = None      # Y, Cb and Cr at half resolution: the streams' ValueDecoders, where
    #                              each plane's own (grey) stream begins


STREAM_FORMATS = {
    1: StreamFormat(False, "none", False), 2: StreamFormat(False, "none", False),
    3: StreamFormat(False, "single", False),
    4: StreamFormat(False, "plans", False, plan_format.V5_SIDE),
    5: StreamFormat(False, "plans", True, plan_format.V5_SIDE),
    6: StreamFormat(False, "plans", True, plan_format.SIDE),
    7: StreamFormat(True, "plans", True, plan_format.SIDE),
    8: StreamFormat(True, "plans", True, plan_format.SIDE),
    9: StreamFormat(True, "plans", True, plan_format.SIDE, sample_map=True),
    10: StreamFormat(True, "plans", True, plan_format.SIDE, sample_map=True),   # + metadata
    11: StreamFormat(True, "plans", True, plan_format.SIDE, sample_map=True, palette=True),
    12: StreamFormat(True, "plans", True, plan_format.SIDE, sample_map=True, palette=True),  # + effort
    13: StreamFormat(True, "plans", True, plan_format.SIDE, sample_map=True, palette=True,
                     tight_depth=True, colour_map=True, lifting_paths=True),
    14: StreamFormat(True, "plans", True, plan_format.SIDE, sample_map=True, palette=True,
                     tight_depth=True, colour_map=True, lifting_paths=True, zero_groups=True),
    15: StreamFormat(True, "plans", True, plan_format.SIDE, sample_map=True, palette=True,
                     tight_depth=True, colour_map=True, lifting_paths=True, zero_groups=True,
                     classified_filters=True),
    16: StreamFormat(True, "plans", True, plan_format.SIDE, sample_map=True, palette=True,
                     tight_depth=True, colour_map=True, lifting_paths=True, zero_groups=True,
                     classified_filters=True, coarse_band=True),
    17: StreamFormat(True, "plans", True, plan_format.SIDE, sample_map=True, palette=True,
                     tight_depth=True, colour_map=True, lifting_paths=True, zero_groups=True,
                     classified_filters=True, coarse_band=True, directions=True),
    18: StreamFormat(True, "plans", True, plan_format.SIDE, sample_map=True, palette=True,
                     tight_depth=True, colour_map=True, lifting_paths=True, zero_groups=True,
                     classified_filters=True, coarse_band=True, directions=True, ycbcr=True),
    19: StreamFormat(True, "plans", True, plan_format.SIDE, sample_map=True, palette=True,
                     tight_depth=True, colour_map=True, lifting_paths=True, zero_groups=True,
                     classified_filters=True, coarse_band=True, directions=True, ycbcr=True,
                     subsampled=True),
    20: StreamFormat(True, "plans", True, plan_format.SIDE, sample_map=True, palette=True,
                     tight_depth=True, colour_map=True, lifting_paths=True, zero_groups=True,
                     classified_filters=True, coarse_band=True, directions=True, ycbcr=True,
                     subsampled=True, pixels=True),
    21: StreamFormat(True, "plans", True, plan_format.SIDE, sample_map=True, palette=True,
                     tight_depth=True, colour_map=True, lifting_paths=True, zero_groups=True,
                     classified_filters=True, coarse_band=True, directions=True, ycbcr=True,
                     subsampled=True, pixels=True, pixel_scheme=pixel_prediction.LOCAL),
    22: StreamFormat(True, "plans", True, plan_format.SIDE, sample_map=True, palette=True,
                     tight_depth=True, colour_map=True, lifting_paths=True, zero_groups=True,
                     classified_filters=True, coarse_band=True, directions=True, ycbcr=True,
                     subsampled=True, pixels=True, pixel_scheme=pixel_prediction.CROSS),
}


def is_palette_tile(header, chunks):
    """Whether a tile's chunks code it through a palette (version 11 on:
    an empty second chunk); IWaveError if its chunks are not a valid tile."""
    if not STREAM_FORMATS[header.version].palette or header.mode != bitstream.MODE_LOSSLESS or \
            header.components < 3 or header.bit_depth != 8:
        return False
    empty = [not c for c in chunks]
    if not empty[1]:
        if any(empty):
            raise IWaveError("file is corrupt (an empty chunk outside a palette tile)")
        return False
    if empty[0] or not all(empty[1:]):
        raise IWaveError("file is corrupt (a palette tile's chunks are malformed)")
    return True


def read_plans(decoder, count, fmt, component):
    """The coding plans of `count` subbands at the start of a component's
    stream; None for a subband flagged as entirely zero (format 14 on), a
    coarse_band.Sequential for an LL band coded sequentially (16 on)."""
    zero = plan_format.read_zero_groups(decoder, count) if fmt.zero_groups else [False] * count
    first = coarse_band.read_choice(decoder) if fmt.coarse_band and not zero[0] else None
    plans = iter(_plans(decoder, count - sum(zero) - (first is not None), fmt, component))
    return [None if z else first if b == 0 and first is not None else next(plans)
            for b, z in enumerate(zero)]


def _plans(decoder, count, fmt, component):
    """`count` coding plans as version `fmt` writes them."""
    if fmt.plans == "plans" and fmt.plan_inputs:
        return plan_format.read_plans(decoder, count, len(PHASES), references=component,
                                     part_references=PART_REFERENCES, activities=ACTIVITIES,
                                     code=fmt.side_code)
    if fmt.plans == "plans":
        return plan_format.read_plans(decoder, count, len(PHASES), references=component,
                                     code=fmt.side_code)
    if fmt.plans == "single":
        return [plan_format.single(a) for a in plan_format.read(decoder, count)]
    return [plan_format.IDENTITY_PLAN] * count


def decode_tile(model, header, chunks, core, level=0):
    """The pixels of one tile's own area `core` (y0, y1, x0, x1) from its
    chunks (one per component); with `level` k > 0, its preview at scale
    1/2^k: only the subbands of levels L .. k+1 are decoded and inverted,
    giving the low-pass band of level k (iwave.preview, docs/preview.md)."""
    (y0, y1, x0, x1), keep = tile_window(core, header.overlap, header.height, header.width)
    if level:
        keep = preview.reduced_keep(keep, level)
    n_colour = header.components - int(header.has_alpha)
    lossy = header.mode == bitstream.MODE_LOSSY
    indexed = is_palette_tile(header, chunks)
    comps, start = [], 0
    for gi, n in enumerate([1] if indexed else [n_colour] + ([1] if header.has_alpha else [])):
        steps = model.lossy_steps(header.step, n) if lossy and gi == 0 else None
        cond = model.condition_steps(header.step, n) if steps else None
        group = decode_group(model, chunks[start:start + n], y1 - y0, x1 - x0, header, cond, level, indexed)
        start += n
        if group.decoders is not None:
            comps.append(subsampled_rgb(model, header, group, y1 - y0, x1 - x0, level))
        else:
            comps.append(group_pixels(model, header, group, steps, level, colour=gi == 0 and not indexed))
    if indexed:             # (one group: the loop's last is the index plane's)
        colours = group.colours
        x = np.clip(comps[0][0], 0, len(colours) - 1) if level else comps[0][0]
        try:
            return palette.colours_of(x, colours)[keep[0], keep[1]]
        except EntropyError as e:
            raise IWaveError(f"file is corrupt ({e})") from None
    return assemble([c[:, keep[0], keep[1]] for c in comps], header, clip=level > 0)


def group_pixels(model, header, group, steps, level, colour):
    """A decoded Group's planes (n, h, w) int64: its subbands inverted (lossy:
    dequantised, denoised and post-filtered) or its index plane, through
    `colour` (the colour group's) to RGB, then through its sample map."""
    bands, offsets, filters, values, depth, _, plane, path, maps, form = group[:10]
    if plane is not None:     # planes of context-coded indices (a preview keeps every 2^level-th sample)
        x = torch.from_numpy(plane[:, None, ::1 << level, ::1 << level]).double()   # or coded pixel by pixel
    elif steps and level:     # dequantised coarse bands; no denoiser, no post filter
        with torch.no_grad():
            x = model.transform.inverse(dequantise(bands, steps, offsets=offsets), 8, rounding=False,
                                        directions=maps)
        x = x / preview.dc_gain(model.transform.lossy_coeffs) ** (2 * level)
    elif steps:
        x = reconstruct(model, bands, header.step, offsets, maps)
        if filters is not None:
            x = postfilter.apply(x, filters, header.step)
    else:
        transform = lifting_paths.transform(model, path)
        with torch.no_grad():
            x = transform.inverse(bands, depth, rounding=True)
        if level and (gain := preview.dc_gain(transform.coeffs)) != 1:
            x = x / gain ** (2 * level)
    x = torch.floor(x[:, 0] + 0.5).to(torch.int64).numpy()
    if colour:      # before a sample map, which is of RGB values
        x = to_rgb(x, header, form, level)
    if values is not None:
        if level:            # a low-pass index between or beyond the map's: the nearest one
            x = np.clip(x, 0, len(values) - 1)
        try:
            x = sample_map.from_indices(x, values)
        except EntropyError as e:
            raise IWaveError(f"file is corrupt ({e})") from None
    return x


def subsampled_rgb(model, header, group, height, width, level=0):
    """RGB (3, height, width) of a colour group coded as Y and half-resolution
    Cb, Cr (iwave.ycbcr, format 19), each plane a grey image in its own
    stream; a preview (`level` k > 0) reads chroma to level k - 1."""
    (py, px), vertical = group.form.phase, group.form.vertical
    h2, w2 = ycbcr.plane_shape(height, width, py, px, vertical)
    planes = []
    for d, (h, w), at in zip(group.decoders, ((height, width), (h2, w2), (h2, w2)),
                             (level, max(level - 1, 0), max(level - 1, 0))):
        plane = decode_group(model, None, h, w, header, None, at, decoders=[d])
        planes.append(group_pixels(model, header, plane, None, at, colour=False)[0])
    y, cb, cr = planes
    if level:
        cb, cr = (ycbcr.preview_chroma(p, y.shape, level, py, px, vertical) for p in (cb, cr))
        return ycbcr.to_rgb(np.stack([y, cb - 128, cr - 128]))
    if any(p.min() < 0 or p.max() > 255 for p in planes):
        raise IWaveError("file is corrupt (decoded pixels out of range)")
    cb, cr = (ycbcr.upsample(p, height, width, py, px, vertical) for p in (cb, cr))
    return ycbcr.apply(ycbcr.to_rgb(np.stack([y, cb - 128, cr - 128])), group.form.fixes)


def decode_group(model, chunks, height, width, header, cond_steps, level=0, indexed=False, decoders=None):
    """A Group: the subbands of one component group from its streams, with
    what the streams carry besides: centroid offsets, post filters (lossy),
    the sample map (lossless: the values its indices stand for, or None)
    and the bit depth the subbands were coded at,
    for the index plane of a palette tile (`indexed`) its palette (else
    None), if the stream codes its indices directly (iwave.index_coder;
    bands, offsets and filters then None) the plane, and the lifting path
    of a lossless group (format 13 on; before, the model's own).
    cond_steps: the steps the context model is conditioned on (None: lossless).
    level k > 0: only the subbands of levels L .. k+1 (the first 1 + 3(L - k)
    in coding order); the streams are read that far. `decoders`: the
    streams' ValueDecoders, read from where they stand, instead of `chunks`.
    A colour group of Y and half-resolution Cb, Cr stops after its form
    (Group.decoders: see subsampled_rgb)."""
    n = len(chunks) if decoders is None else len(decoders)
    shapes = subband_shapes(height, width, header.levels)
    wanted = shapes[:1 + 3 * (header.levels - level)]
    fmt = STREAM_FORMATS[header.version]
    depth, values, colours, path = (8 if cond_steps else header.bit_depth), None, None, lifting_paths.OWN
    form = None
    try:
        decoders = decoders or [ValueDecoder(c, model.tables) for c in chunks]
        if indexed:
            colours = palette.read(decoders[0], header.components)
        elif cond_steps is None and fmt.ycbcr and n == 3:
            form = ycbcr.read(decoders[0], height * width, fmt.subsampled)
            if form is not None and header.bit_depth != 8:
                raise EntropyError("YCbCr planes in a 16-bit file")
            if form is not None and form.phase is not None:
                return Group(None, None, None, None, 8, None, None, None, form=form, decoders=decoders)
        if cond_steps is None and fmt.lifting_paths:
            path = lifting_paths.read(decoders[0], fmt.pixels)
        if cond_steps is None and fmt.sample_map:
            maps = [sample_map.read_flagged(d, header.bit_depth, fmt.palette) for d in decoders]
            if any(m is not None for m, _ in maps):
                # a colour group (format 13 on): one map, on its first stream, of its RGB values
                shared = fmt.colour_map and n == 3 and not maps[0][1] and \
                    all(m is None for m, _ in maps[1:])
                if n != 1 and not shared or form is not None:
                    raise EntropyError("sample map on a colour group")
                values, direct = maps[0]
                depth = sample_map.coded_depth(values, depth, fmt.tight_depth)
                if direct:
                    plane = index_coder.read(decoders[0], height, width, len(values))
                    decoders[0].check_end()
                    return Group(None, None, None, values, depth, colours, plane[None], path)
        if path == lifting_paths.PIXELS:
            return _pixel_group(model, decoders, (height, width), depth, len(wanted), values, colours, form,
                                fmt.pixel_scheme)
        maps = (directions.read(decoders[0], height, width)
                if cond_steps is not None and fmt.directions else None)
        filters = ([postfilter.read(d, 1, fmt.classified_filters)[0] for d in decoders]
                   if cond_steps is not None and fmt.post_filter else None)
        plans = [read_plans(d, len(shapes), fmt, c) for c, d in enumerate(decoders)]
    except EntropyError as e:
        raise IWaveError(f"file is corrupt ({e})") from None
    centroid = cond_steps is not None and model.lossy_option("centroid")
    offsets = [torch.zeros((n, 1) + s, dtype=torch.float64) for s in wanted] if centroid else None
    table = torch.from_numpy(centroid_offsets())
    decoded = [[[None] * len(PHASES) for _ in shapes] for _ in range(n)]   # for the plans' mixes
    residuals = [[[None] * len(PHASES) for _ in shapes] for _ in range(n)]
    sequential = [None] * n      # LL bands coded sequentially, by component

    def ll_phase(c, p, choice):
        """Phase p of component c's sequentially coded LL band, which is
        read whole where its first phase is needed."""
        if p == 0:
            try:
                sequential[c] = coarse_band.read(decoders[c], shapes[0], choice, model.mean_resolution)
            except EntropyError as e:
                raise IWaveError(f"file is corrupt ({e})") from None
        dy, dx = PHASES[p]
        return sequential[c][dy::2, dx::2]

    def emit(b, c, p, mean, log2_scale):
        plan = plans[c][b]
        if plan is None or isinstance(plan, coarse_band.Sequential):
            # a subband of zeros (nothing coded, nor centroid offsets) or LL coded sequentially
            v = (np.zeros(tuple(mean.shape), dtype=np.int64) if plan is None
                 else np.ascontiguousarray(ll_phase(c, p, plan)).reshape(tuple(mean.shape)))
            decoded[c][b][p], residuals[c][b][p] = v.reshape(-1), residual(v, mean)
            return torch.from_numpy(v).double()
        m, k = planned_parameters(plans[c][b], p, mean, log2_scale, model.mean_resolution,
                                  *plan_inputs(decoded, residuals, c, b, p, tuple(mean.shape[-2:])))
        try:
            v = decoders[c].decode(m.numpy(), k.numpy())
        except EntropyError as e:
            raise IWaveError(f"file is corrupt ({e})") from None
        decoded[c][b][p] = v
        residuals[c][b][p] = residual(v, mean)
        v = torch.from_numpy(v).view(m.shape)
        if centroid:     # move towards the predicted mean, to the bin's centroid
            dy, dx = PHASES[p]
            offsets[b][c, 0, dy::2, dx::2] = (-torch.sign(v * model.mean_resolution - m).double()
                                              * table[k][0])
        return v.double()

    with torch.no_grad():
        bands = model.context.walk(wanted, n, 1, depth, emit, band_steps=cond_steps)
    for d in decoders if len(wanted) == len(shapes) else ():     # a preview stops early
        try:
            d.check_end()
        except EntropyError as e:
            raise IWaveError(f"file is corrupt ({e})") from None
    return Group([b[0][:, None] for b in bands], offsets, filters, values, depth, colours, None, path,
                 maps, form)


def _pixel_group(model, decoders, shape, depth, n_bands, values, colours, form, scheme):
    """The Group of planes coded pixel by pixel (iwave.pixel_prediction); for
    a preview, the subbands the model's own transform gives them, so that
    it shows what a wavelet-coded group would (the low-pass band)."""
    planes = pixel_prediction.read(decoders, shape, depth, model.mean_resolution, scheme)
    for d in decoders:
        d.check_end()
    if n_bands == 3 * model.transform.levels + 1:
        return Group(None, None, None, values, depth, colours, planes, lifting_paths.PIXELS, form=form)
    with torch.no_grad():
        bands = model.transform(torch.from_numpy(planes).double()[:, None], depth, rounding=True)
    return Group(bands[:n_bands], None, None, values, depth, colours, None, lifting_paths.OWN, form=form)


def to_rgb(colour, header, form=None, level=0):
    """A colour group's planes (n, h, w) in the header's colour space, or
    in YCbCr with its ycbcr.Form (a preview, `level` > 0, without its
    fixes), -> RGB."""
    if form is not None:
        rgb = ycbcr.to_rgb(colour)
        return rgb if level else ycbcr.apply(rgb, form.fixes)
    if header.colour == bitstream.COLOUR_YCOCG_R:
        return np.moveaxis(ycocg_to_rgb(np.moveaxis(colour, 0, -1)), -1, 0)
    return colour


def assemble(comps, header, clip=False):
    """One tile's component planes, RGB (or grey) and alpha, -> (h, w,
    components) pixels. Lossless pixels out of range mean a corrupt file,
    unless `clip` (a preview: a low-pass band may overshoot)."""
    hi = (1 << header.bit_depth) - 1
    dtype = np.uint16 if header.bit_depth == 16 else np.uint8
    planes = list(comps[0]) + ([comps[1][0]] if header.has_alpha else [])
    lossless = header.mode == bitstream.MODE_LOSSLESS and not clip
    if lossless and any(p.min() < 0 or p.max() > hi for p in planes):
        raise IWaveError("file is corrupt (decoded pixels out of range)")
    return np.stack([np.clip(p, 0, hi) for p in planes], -1).astype(dtype)
