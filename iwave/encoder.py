"""The encoder's side of a tile: quantisation (a dead zone, then rate-
distortion rounding under the model's own predictions), the coding plans
fitted to each subband, the post filter fitted to each lossy tile, and the
streams that carry them. Nothing here is needed to decode a file."""
import contextlib

import numpy as np
import torch

from iwave.entropy import ValueEncoder, plan_fit, plan_format
from iwave.entropy.context_model import PHASES, coding_parameters, scale_index_base
from iwave import (bitstream, coarse_band, coarse_band_fit, directions, directions_fit, effort, index_coder,
                   lifting_paths, palette, pixel_prediction_fit, postfilter, postfilter_fit, sample_map,
                   ycbcr, ycbcr_fit, ycbcr420_fit)
from iwave.coding import planned_parameters, plan_inputs, reconstruct, residual
from iwave.colour import YCOCG_SYNTHESIS_GAINS, rgb_to_ycocg
from iwave.quantisation import quantise

# The encoder's quantiser rounds magnitudes up from 0.6 of a step rather than
# 0.5 (a dead zone). On 16 held-out training crops, per-image BD-rate against
# JPEG 2000: rounding 0.5 +3.5%, 0.45 -0.9%, 0.4 -1.3%, 0.35 0.0%, 0.3 +2.2%.
ENCODER_ROUNDING = 0.4
# Then each index is re-rounded by rate-distortion cost (rd_quantise), a bit
# weighing this many squared steps. On the same crops, with iwave-lossy:
# lambda 0 -9.8%, 0.07 -12.4%, 0.1 -13.2%, 0.15 -13.0% (a second pass with
# re-predicted contexts: -12.6% at 0.07); iwave-default -1.3% -> -3.5% at 0.1.
RD_LAMBDA = 0.1


def component_groups(a):
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


def subbands(model, x, bit_depth, step, rd_rounding=True, transform=None, directions=None):
    """One component group (int64 array (n, H, W)) -> (subbands as (n, 1, h, w)
    float64 tensors, the context model's conditioning steps): transformed
    (by `transform`, else the model's; lossy, along `directions` if given),
    and quantised by the encoder's rule if `step` is given (else None; the
    rate-distortion rounding only if `rd_rounding`)."""
    with torch.no_grad():
        bands = (transform or model.transform)(torch.from_numpy(x).double()[:, None], bit_depth,
                                               rounding=step is None, directions=directions)
    if step is None:
        return bands, None
    n = x.shape[0]
    steps, cond = model.lossy_steps(step, n), model.condition_steps(step, n)
    return encoder_quantise(model, bands, steps, cond, lam=RD_LAMBDA if rd_rounding else 0), cond


def encoder_quantise(model, bands, steps, cond_steps, rounding=ENCODER_ROUNDING, lam=RD_LAMBDA,
                     batched=False, dtype=torch.float64, adjust=True):
    """The encoder's quantiser, which training also uses to see what the
    encoder will code: the dead zone (`rounding`), then, if lam > 0,
    rate-distortion rounding (rd_quantise). The codec calls it on one image
    (bands (n, 1, h, w), float64 predictions, one coding adjustment fitted
    per subband); training on a batch (batched: (B, n, h, w)) with its own
    float32 predictions and without the adjustment (adjust=False)."""
    q = quantise(bands, steps, comp_dim=1 if batched else 0, rounding=rounding)
    if not lam:
        return q
    return rd_quantise(model, bands, q, steps, cond_steps, lam, batched, dtype, adjust)


def teacher_forced(model, bands, bit_depth, cond_steps, dtype=torch.float64, batched=False,
                   grad=False):
    """The context model run over known subbands with the true values fed
    back (teacher forcing), as the coder would see them: a list of (band,
    component, phase, values, mean, log2 scale) in coding order. bands: per
    subband (n, 1, h, w) for one image, or (B, n, h, w) if batched; values
    and predictions come as (1 or B, h', w'), in `dtype` (float64: the
    coder's exact parameters; float32: training arithmetic); grad: keep the
    autograd graph (training's rate)."""
    n, batch = (bands[0].shape[1], bands[0].shape[0]) if batched else (bands[0].shape[0], 1)
    src = [b.to(dtype) for b in bands]
    out = []

    def emit(b, c, p, mean, log2_scale):
        dy, dx = PHASES[p]
        v = src[b][:, c, dy::2, dx::2] if batched else src[b][c:c + 1, 0, dy::2, dx::2]
        out.append((b, c, p, v, mean, log2_scale))
        return v

    with contextlib.nullcontext() if grad else torch.no_grad():
        model.context.walk([tuple(t.shape[-2:]) for t in bands], n, batch, bit_depth, emit,
                           dtype=dtype, band_steps=cond_steps)
    return out


def model_outputs(model, bands, bit_depth, cond_steps, dtype=torch.float64, batched=False):
    """teacher_forced's outputs by component and band:
    [component][band] -> [(values, mean, log2 scale) per phase]."""
    n = bands[0].shape[1 if batched else 0]
    out = [[[] for _ in bands] for _ in range(n)]
    for b, c, _, v, mean, log2_scale in teacher_forced(model, bands, bit_depth, cond_steps, dtype,
                                                       batched):
        out[c][b].append((v, mean, log2_scale))
    return out


def subband_arrays(phases):
    """One subband's phases from model_outputs -> flat numpy (int64 values,
    float means, unclamped scale indices), as entropy.plan_fit takes them."""
    values = torch.cat([v.reshape(-1) for v, _, _ in phases]).to(torch.int64)
    means = torch.cat([m.reshape(-1) for _, m, _ in phases]).double()
    scales = torch.cat([scale_index_base(s.double()).reshape(-1) for _, _, s in phases])
    return values.numpy(), means.numpy(), scales.to(torch.int64).numpy()


def coding_plan(phases, tables, references=None, part_references=None, activities=None,
                search=plan_fit.DEFAULT_SEARCH):
    """The coding plan fitted to one subband's phases of one component
    (entropy.plan_fit, searching as `search` says); references: per phase,
    the same positions' values of the earlier components (c, h, w), if any;
    part_references: per phase, its neighbours' residuals; activities: per
    phase, _activities."""
    return plan_fit.plan([subband_arrays([ph]) for ph in phases], tables=tables,
                         references=references, part_references=part_references,
                         activities=activities, search=search)


def group_plan(phases, tables, inputs, search=plan_fit.DEFAULT_SEARCH):
    """coding_plan of one subband's phases from their plan_inputs."""
    refs, neighbours, activities = zip(*inputs)
    return coding_plan(phases, tables, refs if refs[0] is not None else None, neighbours, activities,
                       search)


def plan_search(settings):
    """The plan search of an effort level's settings (iwave.effort)."""
    return plan_fit.Search(samples=settings.plan_samples, gain_steps=settings.plan_gain_steps)


def coded_streams(model, bands, bit_depth, cond_steps, search=plan_fit.DEFAULT_SEARCH):
    """What the encoder codes for one component group: per component, the
    coding plan of each subband (entropy.plan_fit, searching as `search`
    says; None for a subband whose values are all zero, which is flagged
    and not coded) and the (values, integer means, scale indices) of every
    phase of the other subbands in coding order."""
    tables = model.tables
    outputs = model_outputs(model, bands, bit_depth, cond_steps)
    values = [[[v.to(torch.int64).numpy() for v, _, _ in phases] for phases in per_band]
              for per_band in outputs]
    residuals = [[[residual(v, mean) for v, mean, _ in phases] for phases in per_band]
                 for per_band in outputs]
    out = []
    for c, per_band in enumerate(outputs):
        inputs = [[plan_inputs(values, residuals, c, b, p, ph[1].shape[-2:]) for p, ph in enumerate(phases)]
                  for b, phases in enumerate(per_band)]
        plans = [group_plan(phases, tables, inputs[b], search) for b, phases in enumerate(per_band)]
        symbols = [group_symbols(model, plan, phases, inputs[b], values[c][b])
                   for b, (phases, plan) in enumerate(zip(per_band, plans))]
        zero = zero_groups(model, cond_steps, plans, symbols)
        if not zero[0] and coarse_band_fit.applies(model, cond_steps):
            plans[0], symbols[0] = coarse_band_fit.choice(model, bands[0][c, 0].numpy(), plans[0], symbols[0])
        out.append(([None if z else plan for z, plan in zip(zero, plans)],
                    [s for z, per_band in zip(zero, symbols) if not z for s in per_band]))
    return out


def group_symbols(model, plan, phases, inputs, values):
    """(values, integer means, scale indices) of each phase of a subband
    (model_outputs' phases, plan_inputs' inputs, and its phases' values as
    int64 numpy arrays, which the caller has made for the plan inputs)
    under its coding plan."""
    return [(values[p],
             *(t.numpy() for t in planned_parameters(plan, p, mean, log2_scale, model.mean_resolution,
                                                     *inputs[p])))
            for p, (_, mean, log2_scale) in enumerate(phases)]


def zero_groups(model, cond_steps, plans, symbols):
    """Which of a stream's subbands to flag as entirely zero (format 14): those whose values are all
    zero, if flagging them costs fewer bits than coding them (their plans and values) and flagging none;
    else none. Also none for a lossy model with centroid reconstruction: its coded zeros get centroid
    offsets and flagged ones none, so its pixels must not depend on a choice made by bits."""
    zero = [not any(v.any() for v, _, _ in per_band) for per_band in symbols]
    if not any(zero) or (cond_steps is not None and model.lossy_option("centroid")):
        return [False] * len(zero)
    tables = model.tables
    coded = sum(plan_fit.side_bits(plan, tables) + sum(float(plan_fit.value_bits(*s, tables).sum())
                                                        for s in per_band)
                for z, plan, per_band in zip(zero, plans, symbols) if z)
    none = [False] * len(zero)
    flags = lambda z: plan_fit.integer_bits(plan_format.zero_group_side(z), tables)
    return zero if flags(zero) < flags(none) + coded else none


def rd_quantise(model, raw, q, steps, cond_steps, lam, batched=False, dtype=torch.float64,
                adjust=True):
    """Rate-distortion rounding: each coefficient takes whichever of the two
    integers around it (in steps) costs less in squared error (in steps,
    which weighs every band and component alike in RGB) plus lam times its
    bits. The bits are the coder's, under the model's prediction (and, if
    `adjust`, one coding adjustment per subband: cheaper than the coder's
    plan, and close enough here) for the dead-zone indices `q` (later
    contexts are not re-predicted, so this is a one-pass approximation).
    Layouts as for encoder_quantise."""
    out = [t.clone() for t in q]
    tables = model.tables
    for c, per_band in enumerate(model_outputs(model, q, 8, cond_steps, dtype, batched)):
        for b, phases in enumerate(per_band):
            plan = (plan_format.single(plan_fit.fit(*subband_arrays(phases), tables=tables))
                    if adjust else None)
            for p, (_, mean, log2_scale) in enumerate(phases):
                dy, dx = PHASES[p]
                at = ((slice(None), c) if batched else (c, 0)) + (slice(dy, None, 2), slice(dx, None, 2))
                x = (raw[b][at] / steps[b][c]).cpu().numpy()
                if plan is None:
                    params = coding_parameters(mean.double(), log2_scale.double(),
                                               resolution=model.mean_resolution)
                else:
                    params = planned_parameters(plan, p, mean, log2_scale, model.mean_resolution)
                m, k = (t.cpu().numpy().reshape(x.shape) for t in params)
                target = out[b][at]
                target[...] = torch.from_numpy(rd_choice(x, m, k, tables, lam)).to(target)
    return out


def rd_choice(x, m, k, tables, lam):
    """Of the two integers around each x (numpy, in steps), the one that
    costs less in squared error plus lam times its bits under the coder's
    integer means m and scale indices k."""
    low = np.sign(x) * np.floor(np.abs(x))
    high = low + np.sign(x)
    cost = lambda v: (x - v) ** 2 + lam * plan_fit.value_bits(v.astype(np.int64), m, k, tables)
    return np.where(cost(high) < cost(low), high, low) + 0.0


def encode_tile(model, pixels, keep, bit_depth, step, level=effort.DEFAULT_EFFORT, progressive=False):
    """Chunks of one tile, one per component: `pixels` is the tile with the
    overlap it reaches into its neighbours, `keep` the slices of its own
    pixels in it (what the post filter is fitted to). Each component group
    is transformed, quantised (colour only, in lossy mode) and coded, with
    the searches of effort `level` (iwave.effort; `progressive`: no lossless
    group pixel by pixel)."""
    settings = effort.settings(level, progressive)
    search = plan_search(settings)
    chunks = []
    for gi, (x, _) in enumerate(component_groups(pixels)):
        if step is None or gi > 0:          # alpha is always lossless
            rgb = pixels[:, :, :3].astype(np.int64).transpose(2, 0, 1) if len(x) == 3 else None
            chunks += encode_lossless_group(model, x, bit_depth, search=search, rgb=rgb,
                                            paths=settings.lifting_paths, pixels=settings.pixels)
            continue
        maps = directions_fit.choose(model, x, step) if settings.directions != "no" else None
        tries = [maps] + ([None] if maps is not None and settings.directions == "both" else [])
        coded = [encode_lossy_group(model, x, step, keep, settings.rd_rounding, search, m, len(tries) > 1)
                 for m in tries]
        chunks += min(coded, key=lambda c: c[0])[1]
    if step is None and bit_depth == 8 and pixels.ndim == 3 and pixels.shape[2] >= 3:
        chunks = encode_palette(model, pixels, chunks, search, settings.lifting_paths, settings.pixels)
    return chunks


def encode_lossy_group(model, x, step, keep, rd_rounding, search, maps=None, with_cost=False):
    """(cost, streams) of a lossy group's planes x (n, H, W), lifted along `maps` (None: separably);
    the cost (directions_fit.cost, else 0) decides between two ways of coding the group."""
    bands, cond = subbands(model, x, 8, step, rd_rounding, directions=maps)
    # (the post filter: fitted without centroid offsets, which the decoder alone computes)
    weights = YCOCG_SYNTHESIS_GAINS if len(x) == 3 else (1.0,)
    recon = reconstruct(model, bands, step, directions=maps)
    filters = postfilter_fit.fit(recon, torch.from_numpy(x)[:, None], keep, weights, step)
    head = lambda e: directions.write(e, maps, directions_fit.offsets(maps, model.tables))  # noqa: E731
    streams = encode_group(model, bands, 8, cond, filters, search=search, head=head)
    return (directions_fit.cost(recon, filters, x, keep, weights, step, streams) if with_cost else 0,
            streams)


def encode_palette(model, pixels, chunks, search=plan_fit.DEFAULT_SEARCH, paths="own", pixel_coding=True):
    """A lossless 8-bit RGB(A) tile's chunks: `chunks` (its full-colour
    coding) or, if the tile has few colours and that is smaller, one plane
    of indices into its palette (iwave.palette) and empty chunks for its
    other components; each of palette.ORDERS is tried."""
    colours = palette.candidate(pixels)
    if colours is None:
        return chunks
    best = chunks
    for order in palette.ORDERS:
        entries = palette.ordered(colours, pixels, order)
        indices = palette.to_indices(pixels, entries)[None]
        coded = encode_lossless_group(model, indices, 8, head=lambda e, p=entries: palette.write(e, p),
                                      search=search, paths=paths, pixels=pixel_coding)
        coded += [b""] * (pixels.shape[2] - 1)
        if sum(map(len, coded)) < sum(map(len, best)):
            best = coded
    return best


def encode_lossless_group(model, x, bit_depth, head=None, search=plan_fit.DEFAULT_SEARCH, rgb=None,
                          paths="own", pixels=True):
    """The streams of a losslessly coded component group (int64 (n, H, W)), in the smallest of its
    forms: as is; through a sample map of the values a component (or a colour group's RGB planes, `rgb`,
    whose YCoCg-R x is) uses (iwave.sample_map); a colour group as the YCbCr planes it was decoded from,
    its chroma at full or half resolution (iwave.ycbcr). Each on the lifting paths (iwave.lifting_paths)
    `paths` asks for: the model's "own", the one whose subbands "estimate" smallest, or "all" (with
    several forms, on the estimated path first for each, then every other path for the smallest alone),
    and, if `pixels`, pixel by pixel (iwave.pixel_prediction; else previews decode the coarse subbands
    alone); a component of few values also as context-coded indices (iwave.index_coder).
    head: writes what the first stream starts with (a palette), if anything; search: the coding plans'
    (entropy.plan_fit.Search)."""
    head = (lambda e: ycbcr.write(e, None)) if len(x) == 3 else head     # format 18: the colour form
    inputs = [(x, bit_depth, None, head)]            # (planes, coded depth, sample map, head)
    source = x if len(x) == 1 else rgb
    values = sample_map.candidate(source, bit_depth) if source is not None else None
    if values is not None:
        indices = sample_map.to_indices(source, values)
        if len(x) > 1:
            indices = np.moveaxis(rgb_to_ycocg(np.moveaxis(indices, 0, -1)), -1, 0)
        inputs.append((indices, sample_map.coded_depth(values, bit_depth, tight=True), values, head))
    found = len(x) == 3 and bit_depth == 8 and ycbcr_fit.planes(rgb)
    half = found and ycbcr420_fit.planes(rgb)        # chroma at half resolution: coded below
    if found and (paths == "all" or not ycbcr420_fit.settled(half)):      # ("all": effort 9)
        inputs.append((found[0], 8, None, lambda e: ycbcr.write(e, ycbcr.Form(None, found[1]))))

    def coded_on(planes, depth, mapped, head, which, done=None):
        maps = [mapped] + [None] * (len(x) - 1)

        def bands_on(transform):
            return subbands(model, planes, depth, None, transform=transform)[0]
        for path, bands in lifting_paths.tried(model, which, bands_on, pixels=pixels and done is None):
            if path == lifting_paths.PIXELS:         # (tried in the first round only)
                yield path, pixel_prediction_fit.encode(model, planes, head, maps,
                                                        every_variant=paths == "all")    # (effort 9)
            elif path != done:
                yield path, encode_group(model, bands, depth, None, head=head, search=search, path=path,
                                         sample_maps=maps)

    first = "estimate" if paths == "all" and len(inputs) > 1 else paths
    best = None                                      # (streams, input, path)
    for form in inputs:
        for path, coded in coded_on(*form, first):
            if best is None or sum(map(len, coded)) < sum(map(len, best[0])):
                best = (coded, form, path)
    if first != paths:             # every other path, for the smaller form alone
        _, form, done = best
        for path, coded in coded_on(*form, paths, done):
            if sum(map(len, coded)) < sum(map(len, best[0])):
                best = (coded, form, path)
    best = best[0]
    if half:          # each plane coded as grey
        best = ycbcr420_fit.smaller(half, best, lambda p, h: encode_lossless_group(
            model, p[None], 8, h, search, paths=paths, pixels=pixels)[0])
    if len(x) == 1 and len(values := np.unique(x)) <= index_coder.MAX_VALUES and \
            not index_coder.hopeless(sample_map.to_indices(x[0], values), len(values), len(best[0])):
        direct = [encode_direct(model, x[0], values, head, len(best[0]))]
        best = direct if len(direct[0]) < len(best[0]) else best
    return best


def encode_direct(model, x, values, head=None, rival_bytes=None):
    """The stream of one component (int64 (H, W)) of at most 256 `values` as context-coded indices
    (iwave.index_coder) after its map, flag 2 (rival_bytes: as index_coder.write takes it)."""
    encoder = ValueEncoder(model.tables)
    if head is not None:
        head(encoder)
    lifting_paths.write(encoder, lifting_paths.OWN)        # (no transform: any path would do)
    sample_map.write(encoder, values, direct=True)
    index_coder.write(encoder, sample_map.to_indices(x, values), len(values), rival_bytes)
    return encoder.finish()


def encode_group(model, bands, bit_depth, cond_steps, filters=None, sample_maps=None, head=None,
                 search=plan_fit.DEFAULT_SEARCH, path=None):
    """One stream per component: its post filter (lossy) or its sample map flag and map (lossless),
    which subbands are entirely zero, the coding plans fitted to this image for the others
    (entropy.plan_fit, searching as `search` says), then their coefficients; the first stream starts with
    what `head` writes, if given, then the lifting path `path` of the bands (lossless; None: not written)."""
    streams = []
    for c, (plans, symbols) in enumerate(coded_streams(model, bands, bit_depth, cond_steps, search)):
        encoder = ValueEncoder(model.tables)
        if head is not None and c == 0:
            head(encoder)
        if path is not None and c == 0:
            lifting_paths.write(encoder, path)
        if sample_maps is not None:
            sample_map.write(encoder, sample_maps[c])
        if filters is not None:
            postfilter.write(encoder, [filters[c]])
        plan_format.write_zero_groups(encoder, [plan is None for plan in plans])
        if plans[0] is not None:
            coarse_band.write_choice(encoder, plans[0] if isinstance(plans[0], coarse_band.Sequential)
                                     else None)
        plan_format.write_plans(encoder, [plan for plan in plans if isinstance(plan, plan_format.Plan)])
        for v, m, k in symbols:
            encoder.add(v, m, k)
        streams.append(encoder.finish())
    return streams
