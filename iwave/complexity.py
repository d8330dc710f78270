"""Multiply-accumulates per pixel of the encoder and decoder, counted with
torch.utils.flop_counter.FlopCounterMode (MAC = FLOP / 2) on a 768x512 RGB
image, as the brief prescribes, plus the elementwise multiplies of the fixed
lifting path and of the post filter, which that counter does not see. The
context model and the denoiser are counted in torch's operations: their
compiled kernels (entropy.exact_kernels) do the same
arithmetic where the counter cannot see it."""
import torch
from torch.utils.flop_counter import FlopCounterMode

from iwave import coarse_band, filter_classes, lifting_paths, pixel_prediction, postfilter
from iwave.entropy.exact import in_tensor_operations

COUNTED_STEP = 32.0     # lossy counts: any step (the networks' size does not depend on it)


def linear_lifting_macs(levels, height, width, components=3, multiplies=4):
    """Multiplies of the fixed lifting path, which FlopCounterMode does not
    see (they are elementwise): per 1-D pass, `multiplies` (summed over the
    four steps; 4 for two-tap wavelets) per sample of the half each step
    updates; a level passes over its input twice (rows, then the columns of
    both halves)."""
    total = 0
    for _ in range(levels):
        total += multiplies * height * width
        height, width = (height + 1) // 2, (width + 1) // 2
    return components * total


def _linear_multiplies(model, lossy):
    """Multiplies per updated sample of the linear lifting path a decoder
    may have to run: for lossless files the dearest of the lifting paths a
    file may name (iwave.lifting_paths)."""
    if lossy:
        return model.transform.linear_multiplies(False)
    return max(lifting_paths.transform(model, p).linear_multiplies(True)
               for p in range(len(lifting_paths.PATHS)))


def _count(fn):
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() / 2


def macs_per_pixel(model, lossy=False, width=768, height=512):
    """Encoder and decoder MAC/px of one model coding lossless or lossy files
    (lossy: the real-valued transform, the step-conditioned context model and
    the denoiser, if the model has one)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (3, 1, height, width), generator=g).double()
    pixels = width * height
    rounding = not lossy
    steps = model.condition_steps(COUNTED_STEP, 3) if lossy else None
    with torch.no_grad():
        bands = model.transform(x, 8, rounding=rounding)
        shapes = [tuple(t.shape[-2:]) for t in bands]

        def walk():      # in torch's operations, which the counter sees (not the compiled kernels)
            with in_tensor_operations():
                model.context.walk(shapes, 3, 1, 8, lambda b, c, p, m, s: torch.zeros_like(m),
                                   band_steps=steps)
        linear = linear_lifting_macs(model.levels, height, width, multiplies=_linear_multiplies(model, lossy))
        transform = (_count(lambda: model.transform(x, 8, rounding=rounding)) + linear) / pixels
        inverse = (_count(lambda: model.transform.inverse(bands, 8, rounding=rounding))
                   + linear) / pixels
        context = _count(walk) / pixels
        decoder = {"context_model": context, "inverse_transform": inverse}
        # an LL band coded sequentially (format 16): its own prediction and scale, per LL value
        decoder["coarse_band"] = 3 * coarse_band.OPS_PER_VALUE * shapes[0][0] * shapes[0][1] / pixels
        if lossy and model.denoiser is not None:
            ycc = x.transpose(0, 1)
            with in_tensor_operations():
                decoder["denoiser"] = _count(lambda: model.denoiser(ycc, COUNTED_STEP)) / pixels
    encoder = {"transform": transform, "context_model": context}
    from iwave.encoder import RD_LAMBDA
    if lossy and RD_LAMBDA:      # rd_quantise runs the context model once more
        encoder["rd_rounding"] = context
    if lossy:
        # the post filter's multiplies (elementwise, unseen by the counter): at
        # most its largest shape's taps per sample; the encoder reconstructs
        # what the decoder will (inverse transform, denoiser) and builds the
        # least-squares normal equations of all the shapes' taps at once;
        # classifying the samples for per-class filters (format 15) costs
        # filter_classes.OPS_PER_SAMPLE additions, counted as MACs, on both sides
        decoder["post_filter"] = 3 * postfilter.MACS_PER_SAMPLE + filter_classes.OPS_PER_SAMPLE
        encoder["post_filter_fit"] = (inverse + decoder.get("denoiser", 0.0)
                                      + 3 * (len(postfilter.ALL_TAPS) + 1) ** 2
                                      + filter_classes.OPS_PER_SAMPLE)
    if not lossy:
        # a lossless group may instead be coded pixel by pixel (format 20): its
        # predictions alone on the decoder's side, a route of its own; the
        # encoder tries it beside the wavelet
        encoder["pixel_prediction"] = pixel_prediction.ops_per_pixel(3)
    result = {"image": f"{width}x{height} RGB", "mode": "lossy" if lossy else "lossless",
              "encoder": dict(encoder, total=sum(encoder.values())),
              "decoder": dict(decoder, total=sum(decoder.values()))}
    if not lossy:
        result["decoder_pixel_by_pixel"] = {"pixel_prediction": encoder["pixel_prediction"],
                                            "total": encoder["pixel_prediction"]}
    return result
