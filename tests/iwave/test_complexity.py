"""iwave.complexity counts what the decoder computes, though the context
model runs in compiled kernels that a FLOP counter cannot see."""
import pytest

from iwave.complexity import macs_per_pixel
from iwave.lifting import subband_shapes
from iwave.model import IWaveModel
from tests.conftest import ROOT


def layer_count(context, shapes, components=3):
    """The context model's multiply-accumulates from its layers' shapes: per
    component and subband, the first two layers over the fixed inputs once
    and over the component's own inputs, then the hidden and output layers,
    in each of the four phases; the LSTM's step after every subband but the
    last (each on the subband's quarter-size phase grid)."""
    total = 0
    for b, (h, w) in enumerate(shapes):
        n = ((h + 1) // 2) * ((w + 1) // 2)
        for c in range(components):
            net = context.phase_nets[c]
            width, fixed = net.mix.out_channels, net.spatial.in_channels - 8
            total += n * (9 * fixed + fixed * width)
            total += 4 * n * (9 * 8 + 8 * width + width * width + 2 * width)
        if b + 1 < len(shapes):
            m = context.lstm.spatial.in_channels
            total += n * (9 * m + m * context.lstm.gates.out_channels)
    return total


@pytest.mark.parametrize("name, lossy", [("iwave-lossless", False), ("iwave-lossy", True)])
def test_the_context_model_is_counted_layer_by_layer(name, lossy):
    model = IWaveModel.load(ROOT / "weights" / f"{name}.npz")
    counted = macs_per_pixel(model, lossy=lossy)["decoder"]["context_model"]
    expected = layer_count(model.context, subband_shapes(512, 768, model.levels)) / (512 * 768)
    assert counted == pytest.approx(expected, rel=1e-9) and counted > 500


def test_lossless_files_count_the_pixel_by_pixel_route_apart():
    """A lossless group coded pixel by pixel (format 20) runs its predictions
    instead of the wavelet's decoder, so it is a route of its own, under the
    budget; the encoder runs both."""
    from iwave import pixel_prediction
    model = IWaveModel.load(ROOT / "weights" / "iwave-lossless.npz")
    lossless = macs_per_pixel(model)
    pixel = pixel_prediction.ops_per_pixel(3)
    assert lossless["decoder_pixel_by_pixel"] == {"pixel_prediction": pixel, "total": pixel}
    assert "pixel_prediction" not in lossless["decoder"] and pixel < 2000
    assert lossless["encoder"]["pixel_prediction"] == pixel
    assert "decoder_pixel_by_pixel" not in macs_per_pixel(model, lossy=True)
