"""Multiply-accumulates per pixel of the encoder and decoder, counted with
torch.utils.flop_counter.FlopCounterMode (MAC = FLOP / 2) on a 768x512 RGB
image, as the brief prescribes."""
import torch
from torch.utils.flop_counter import FlopCounterMode


def _count(fn):
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() / 2


def macs_per_pixel(model, width=768, height=512):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (3, 1, height, width), generator=g).double()
    pixels = width * height
    with torch.no_grad():
        bands = model.transform(x)
        shapes = [tuple(t.shape[-2:]) for t in bands]

        def walk():
            model.context.walk(shapes, 3, 1, 8,
                               lambda b, c, p, m, s: torch.zeros_like(m))
        transform = _count(lambda: model.transform(x)) / pixels
        inverse = _count(lambda: model.transform.inverse(bands)) / pixels
        context = _count(walk) / pixels
        denoiser = 0.0
        if model.denoiser is not None:
            ycc = x.transpose(0, 1)
            denoiser = _count(lambda: model.denoiser(ycc, 8.0)) / pixels
    return {"image": f"{width}x{height} RGB",
            "encoder": {"transform": transform, "context_model": context,
                        "total": transform + context},
            "decoder": {"context_model": context, "inverse_transform": inverse,
                        "denoiser (lossy)": denoiser, "total": context + inverse + denoiser}}
