"""An exponential moving average of the weights (config "ema": its decay per
step, e.g. 0.998 averages over about the last 500 steps).

Small crops and small batches make each step's weights a noisy sample
around a good point; the average of the recent weights sits nearer it (on
iwave-lossless grown to ctx_width 11 it measured no better on whole files,
see README). With "ema" set, validation, the summary and the exported model
use it, while training goes on from the raw weights (both are in the
checkpoint, so resuming stays exact)."""
from contextlib import contextmanager

import torch


class WeightAverage:
    def __init__(self, model: torch.nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError("config ema must be a decay between 0 and 1, such as 0.998")
        self.decay = decay
        self.shadow = {k: p.detach().clone() for k, p in model.named_parameters()}

    @torch.no_grad()
    def update(self, model):
        """One step of the average. Parameters not being trained are constant,
        so their average stays equal to them."""
        for k, p in model.named_parameters():
            self.shadow[k].mul_(self.decay).add_(p.detach(), alpha=1.0 - self.decay)

    def apply_to(self, model):
        """Load the averaged weights into `model` (for good)."""
        _load(model, self.shadow)

    @contextmanager
    def applied(self, model):
        """The averaged weights in `model` for the duration, then the raw ones back."""
        raw = {k: p.detach().clone() for k, p in model.named_parameters()}
        self.apply_to(model)
        try:
            yield model
        finally:
            _load(model, raw)

    def state_dict(self):
        return dict(self.shadow)

    def load_state_dict(self, state):
        if state.keys() != self.shadow.keys():
            raise SystemExit("the checkpoint's weight average does not match the model")
        for k, v in state.items():
            self.shadow[k] = v.detach().clone().to(self.shadow[k].device)


@torch.no_grad()
def _load(model, tensors):
    for k, p in model.named_parameters():
        p.copy_(tensors[k])
