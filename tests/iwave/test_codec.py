import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

import iwave
from iwave.errors import IWaveError
from tests.conftest import ROOT, force_lossless_path, photo_like


@settings(max_examples=20, deadline=None)
@given(h=st.integers(1, 24), w=st.integers(1, 24), channels=st.sampled_from([None, 1, 2, 3, 4]),
       sixteen=st.booleans(), seed=st.integers(0, 1000))
def test_lossless_roundtrip_keeps_dtype_and_shape(codec, h, w, channels, sixteen, seed):
    """Every accepted array, (H, W) and (H, W, 1) alike, comes back with its
    own dtype and shape."""
    rng = np.random.default_rng(seed)
    dtype = np.uint16 if sixteen else np.uint8
    a = rng.integers(0, np.iinfo(dtype).max + 1, (h, w) if channels is None else (h, w, channels),
                     dtype=np.int64).astype(dtype)
    out = codec.decompress(codec.compress(a))
    assert out.dtype == a.dtype and out.shape == a.shape
    np.testing.assert_array_equal(out, a)


@pytest.mark.parametrize("dtype", [bool, np.int8, np.int16, np.int32, np.int64, np.uint32, np.uint64,
                                   np.float16, np.float32, np.float64])
def test_dtypes_that_cannot_come_back_are_refused(codec, dtype):
    with pytest.raises(IWaveError, match=f"pixel type {np.dtype(dtype)} cannot be stored exactly"):
        codec.compress(np.zeros((6, 7), dtype))


def test_lossy_keeps_an_explicit_channel_axis(codec, sample):
    grey = sample[:40, :48, 1:2]
    out = codec.decompress(codec.compress(grey, step=8))
    assert out.shape == grey.shape and out.dtype == grey.dtype


def test_paths_are_accepted_where_a_user_would_try_them(codec, sample, tmp_path):
    Image.fromarray(sample).save(tmp_path / "x.png")
    data = codec.compress(str(tmp_path / "x.png"))
    assert data == codec.compress(tmp_path / "x.png") == codec.compress(sample)
    (tmp_path / "x.iwv").write_bytes(data)
    np.testing.assert_array_equal(codec.decompress(tmp_path / "x.iwv"), sample)
    np.testing.assert_array_equal(iwave.decompress(str(tmp_path / "x.iwv")), sample)
    with pytest.raises(IWaveError, match="not bytes"):
        codec.compress(data)
    with pytest.raises(IWaveError, match="no such file"):
        codec.compress(tmp_path / "missing.png")
    with pytest.raises(IWaveError, match="no such file"):
        codec.decompress(str(tmp_path / "missing.iwv"))
    with pytest.raises(IWaveError, match="bytes of an .iwv file"):
        codec.decompress(12345)


def test_quality_100_is_lossless_and_99_is_smaller(codec, sample):
    lossless = codec.compress(sample)
    assert codec.compress(sample, quality=100) == lossless
    # (not the sample: a decoded JPEG, whose lossless file is its YCbCr planes, file format 18)
    photo = photo_like(64, 80, 3, seed=4)
    assert len(codec.compress(photo, quality=99)) < len(codec.compress(photo))
    sixteen = photo_like(12, 10, 3, dtype=np.uint16)         # 16-bit images take quality 100 too
    np.testing.assert_array_equal(codec.decompress(codec.compress(sixteen, quality=100)), sixteen)


@pytest.mark.parametrize("channels,dtype", [(1, np.uint8), (1, np.uint16), (3, np.uint8),
                                            (3, np.uint16), (4, np.uint8), (4, np.uint16)])
def test_lossless_photo_like(codec, channels, dtype):
    a = photo_like(61, 90, channels, dtype=dtype)
    data = codec.compress(a)
    np.testing.assert_array_equal(codec.decompress(data), a)
    raw_bits = a.size * (16 if dtype == np.uint16 else 8)
    assert len(data) * 8 < raw_bits          # it compresses


def test_lossy_rate_falls_and_error_grows_with_step(codec, sample):
    sizes, errors = [], []
    for step in (2, 8, 32):
        data = codec.compress(sample, step=step)
        out = codec.decompress(data)
        assert out.shape == sample.shape and out.dtype == np.uint8
        sizes.append(len(data))
        errors.append(np.mean((out.astype(float) - sample) ** 2))
    assert sizes[0] > sizes[1] > sizes[2]
    assert errors[0] < errors[1] < errors[2]


def test_small_steps_approach_lossless(codec, sample):
    """Regression: rounding inside the lifting steps once capped lossy quality
    near 41 dB whatever the step."""
    out = codec.decompress(codec.compress(sample, step=1.0))
    mse = np.mean((out.astype(float) - sample) ** 2)
    assert mse < 0.25                      # > 54 dB


def test_rgba_lossy_keeps_alpha_exact(codec):
    a = photo_like(40, 33, 4)
    out = codec.decompress(codec.compress(a, step=10))
    np.testing.assert_array_equal(out[..., 3], a[..., 3])


def test_quality_and_bpp_options(codec, sample):
    hi = codec.compress(sample, quality=90)
    lo = codec.compress(sample, quality=30)
    assert len(hi) > len(lo)
    data = codec.compress(sample, bpp=1.0)
    bpp = len(data) * 8 / (sample.shape[0] * sample.shape[1])
    assert 0.8 < bpp <= 1.0


def test_bad_options_are_clear_errors(codec, sample):
    for kw in [dict(step=0), dict(step=-3), dict(step=float("nan")), dict(quality=0),
               dict(quality=101), dict(bpp=-1), dict(step=2, quality=50)]:
        with pytest.raises(IWaveError):
            codec.compress(sample, **kw)
    with pytest.raises(IWaveError, match="8-bit"):
        codec.compress(photo_like(8, 8, 3, dtype=np.uint16), step=4)
    for bad in [np.zeros((4, 4), np.float32), np.zeros((4, 4, 5), np.uint8), np.zeros((0, 3), np.uint8),
                np.full((3, 3), -1)]:
        with pytest.raises(IWaveError):
            codec.compress(bad)


@pytest.mark.parametrize("call,why", [
    (lambda c, a: c.compress(a, step="4"), "step must be a number, not str"),
    (lambda c, a: c.compress(a, quality="x"), "quality must be a number"),
    (lambda c, a: c.compress(a, bpp=[1]), "bpp must be a number"),
    (lambda c, a: c.compress(a, step=True), "step must be a number, not bool"),
    (lambda c, a: c.compress(a, strip="no"), "strip must be True or False"),
    (lambda c, a: c.compress(None), "not NoneType"),
    (lambda c, a: c.compress(5), "not int"),
    (lambda c, a: iwave.Codec(model=5), "model must be"),
    (lambda c, a: iwave.Codec(max_pixels="x"), "max_pixels must be a whole number"),
    (lambda c, a: iwave.Codec(max_pixels=0), "max_pixels must be at least 1"),
    (lambda c, a: iwave.Codec(tile="x"), "tile must be a whole number"),
    (lambda c, a: iwave.Codec(tile=100.5), "tile must be a whole number"),
    (lambda c, a: iwave.read_metadata(None), "not NoneType")])
def test_arguments_of_the_wrong_type_are_clear_errors(codec, sample, call, why):
    with pytest.raises(IWaveError, match=why):
        call(codec, sample)


def test_numpy_numbers_are_numbers(codec, sample):
    a = sample[:16, :16]
    assert codec.compress(a, step=np.float32(4)) == codec.compress(a, step=4)
    assert iwave.Codec(tile=np.int64(128)).compress(a) == iwave.Codec(tile=128).compress(a)


def test_pil_input_and_module_api(codec, sample):
    img = Image.fromarray(sample)
    np.testing.assert_array_equal(codec.decompress(codec.compress(img)), sample)
    np.testing.assert_array_equal(iwave.decompress(iwave.compress(sample[:16, :16])), sample[:16, :16])


def test_palette_image_is_converted(codec):
    img = Image.fromarray(photo_like(20, 20, 3)).convert("P")
    out = codec.decompress(codec.compress(img))
    np.testing.assert_array_equal(out, np.asarray(img.convert("RGB")))


def test_corrupt_data_never_gives_a_wrong_image(codec, sample):
    data = codec.compress(sample[:32, :48])
    rng = np.random.default_rng(0)
    for _ in range(60):
        bad = bytearray(data)
        i = int(rng.integers(len(bad)))
        bad[i] ^= int(rng.integers(1, 256))
        with pytest.raises(IWaveError):
            codec.decompress(bytes(bad))
    for n in (0, 5, len(data) // 2, len(data) - 1):
        with pytest.raises(IWaveError):
            codec.decompress(data[:n])
    with pytest.raises(IWaveError):
        codec.decompress(rng.integers(0, 256, 500, dtype=np.uint8).tobytes())


def test_a_file_of_a_model_not_shipped_is_a_clear_error(codec, sample):
    from iwave.codec import Codec
    from iwave.model import IWaveModel
    other = IWaveModel(codec.model_for(False).config)      # untrained: not shipped
    with pytest.raises(IWaveError, match="decode it with the model that made it"):
        codec.decompress(Codec(other).compress(sample[:8, :8]))


DECODE = """
import sys, numpy as np
from iwave import Codec
c = Codec(threads=int(sys.argv[1]))
data = open(sys.argv[2], 'rb').read()
np.save(sys.argv[3], c.decompress(data))
"""
ENCODE = """
import sys, numpy as np
from iwave import Codec
a = np.load(sys.argv[2])
step = float(sys.argv[4]) if len(sys.argv) > 4 else None
open(sys.argv[3], 'wb').write(Codec(threads=int(sys.argv[1])).compress(a, step=step))
"""


@pytest.mark.parametrize("step", [None, 6.0])
def test_identical_across_threads_and_processes(tmp_path, sample, step):
    """Encode with 1 thread in one process, decode with 1 and 2 threads in
    fresh processes: the same bytes decode to the same pixels everywhere."""
    np.save(tmp_path / "a.npy", sample)
    extra = [] if step is None else [str(step)]
    run = lambda *args: subprocess.run([sys.executable, "-c", *args], check=True, cwd=ROOT)
    run(ENCODE, "1", str(tmp_path / "a.npy"), str(tmp_path / "x.iwv"), *extra)
    run(ENCODE, "2", str(tmp_path / "a.npy"), str(tmp_path / "y.iwv"), *extra)
    assert (tmp_path / "x.iwv").read_bytes() == (tmp_path / "y.iwv").read_bytes()
    run(DECODE, "1", str(tmp_path / "x.iwv"), str(tmp_path / "d1.npy"))
    run(DECODE, "2", str(tmp_path / "x.iwv"), str(tmp_path / "d2.npy"))
    d1, d2 = np.load(tmp_path / "d1.npy"), np.load(tmp_path / "d2.npy")
    np.testing.assert_array_equal(d1, d2)
    if step is None:
        np.testing.assert_array_equal(d1, sample)


@pytest.mark.parametrize("step", [None, 6.0])
def test_identical_without_avx(tmp_path, sample, step):
    """ATEN_CPU_CAPABILITY=default makes torch use its plain (non-SIMD)
    kernels, as on a CPU without AVX: files made with AVX2 decode to the same
    pixels, and encoding gives the same bytes."""
    import os
    np.save(tmp_path / "a.npy", sample)
    extra = [] if step is None else [str(step)]
    plain = {**os.environ, "ATEN_CPU_CAPABILITY": "default"}
    run = lambda *args, env=None: subprocess.run([sys.executable, "-c", *args], check=True,  # noqa: E731
                                                 cwd=ROOT, env=env)
    run(ENCODE, "2", str(tmp_path / "a.npy"), str(tmp_path / "avx.iwv"), *extra)
    run(ENCODE, "2", str(tmp_path / "a.npy"), str(tmp_path / "plain.iwv"), *extra, env=plain)
    assert (tmp_path / "avx.iwv").read_bytes() == (tmp_path / "plain.iwv").read_bytes()
    run(DECODE, "2", str(tmp_path / "avx.iwv"), str(tmp_path / "d_avx.npy"))
    run(DECODE, "2", str(tmp_path / "avx.iwv"), str(tmp_path / "d_plain.npy"), env=plain)
    np.testing.assert_array_equal(np.load(tmp_path / "d_avx.npy"), np.load(tmp_path / "d_plain.npy"))


def test_lossless_reencode_gives_identical_bytes(codec, sample):
    first = codec.compress(sample)
    again = codec.compress(codec.decompress(first))
    assert first == again


def test_context_conditioning_is_capped_at_the_largest_trained_step():
    from iwave.model import IWaveModel
    m = IWaveModel({"lossy": {"wavelet": "cdf53", "condition_max_step": 256.0}})
    assert m.condition_steps(100.0, 3) == m.lossy_steps(100.0, 3)
    assert m.condition_steps(5000.0, 3) == m.lossy_steps(256.0, 3)
    assert IWaveModel().condition_steps(5000.0, 3) == IWaveModel().lossy_steps(5000.0, 3)


def test_adjustments_make_biased_subbands_cheaper(codec):
    """A constant checkerboard in green (as demosaicking leaves in photos)
    puts a constant in the finest chroma HH band that the model does not
    predict; the per-image adjustments absorb it."""
    from iwave.entropy import plan_fit, plan_format
    rng = np.random.default_rng(3)
    a = np.clip(rng.normal(128, 6, (96, 96, 3)), 0, 255)
    yy, xx = np.mgrid[:96, :96]
    a[:, :, 1] += 3 * (-1.0) ** (yy + xx)
    a = np.clip(np.round(a), 0, 255).astype(np.uint8)
    adapted = codec.compress(a)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(plan_fit, "plan", lambda *args, **kw: plan_format.IDENTITY_PLAN)
        plain = codec.compress(a)
    assert len(adapted) < 0.97 * len(plain)
    assert np.array_equal(codec.decompress(adapted), a)


def unfiltered(codec, a, step):
    """A lossy file of this version with every post filter off."""
    from iwave import postfilter_fit
    with pytest.MonkeyPatch.context() as m:
        m.setattr(postfilter_fit, "fit", lambda recon, *_: [None] * recon.shape[0])
        return codec.compress(a, step=step)


def test_post_filters_are_sent_where_they_pay_and_bring_the_image_closer(sample, monkeypatch):
    """On the lossy model at a low rate the encoder sends filters for the
    sample photo; the file decodes closer to the original than without them."""
    from iwave import postfilter_fit
    from iwave.codec import Codec
    from iwave.model import IWaveModel, resolve_model_paths
    lossy = Codec(IWaveModel.load(resolve_model_paths()["lossy"]))
    sent = []
    fit = postfilter_fit.fit
    monkeypatch.setattr(postfilter_fit, "fit", lambda *args: sent.append(fit(*args)) or sent[-1])
    filtered = lossy.compress(sample, step=60.0)
    assert any(f is not None for f in sent[0])
    error = lambda data: ((lossy.decompress(data).astype(float) - sample) ** 2).mean()
    assert error(filtered) < error(unfiltered(lossy, sample, 60.0))


def test_neighbours_are_the_adjacent_samples_of_earlier_phases():
    """Each phase's neighbour residuals are the residuals at the adjacent
    positions of the whole subband that earlier phases hold."""
    from iwave.entropy.context_model import PHASES
    from iwave.coding import NEIGHBOURS, neighbour_residuals
    h, w = 7, 9
    band = np.arange(h * w).reshape(h, w) + 1                     # position code, 0 = outside
    res = [band[dy::2, dx::2] for dy, dx in PHASES]
    for p in range(1, 4):
        dy, dx = PHASES[p]
        got = neighbour_residuals(res, p, res[p].shape)
        for i in range(res[p].shape[0]):
            for j in range(res[p].shape[1]):
                y, x = 2 * i + dy, 2 * j + dx
                want = []
                for q, oy, ox in NEIGHBOURS[p]:
                    qy, qx = PHASES[q]
                    yy, xx = 2 * (i + oy) + qy, 2 * (j + ox) + qx
                    assert max(abs(yy - y), abs(xx - x)) == 1 and q < p
                    want.append(band[yy, xx] if 0 <= yy < h and 0 <= xx < w else 0)
                assert got[:, i * res[p].shape[1] + j].tolist() == want


def test_plan_mixes_make_correlated_colours_cheaper(codec, monkeypatch):
    """Colour planes that are scaled copies of one texture: Co and Cg follow
    Y, which the plans' mixes (entropy.plan_fit) predict. (The image has
    few colours: its palette coding, format 11, is kept out, and it is coded
    on the wavelet: pixel by pixel, format 22, has no plans.)"""
    from iwave import lifting_paths, palette
    from iwave.entropy import plan_fit
    monkeypatch.setattr(palette, "candidate", lambda pixels: None)
    force_lossless_path(monkeypatch, lifting_paths.OWN)
    rng = np.random.default_rng(4)
    t = rng.normal(0, 12, (96, 96))
    a = np.clip(np.round(np.stack([128 + t, 128 + 0.4 * t, 128 - 0.3 * t], -1)), 0, 255).astype(np.uint8)
    mixed = codec.compress(a)
    plan = plan_fit.plan
    with pytest.MonkeyPatch.context() as m:
        m.setattr(plan_fit, "plan", lambda parts, tables=None, references=None, **kw:
                  plan(parts, tables, None, **kw)._replace(
                      mix=(0,) * (0 if references is None else len(references[0]))))
        plain = codec.compress(a)
    assert len(mixed) < 0.95 * len(plain)
    assert np.array_equal(codec.decompress(mixed), a)
    assert np.array_equal(codec.decompress(plain), a)


def test_rate_distortion_rounding_picks_a_neighbouring_integer(codec, sample):
    """rd_quantise keeps every index on one of the two integers around the
    coefficient, gives nearest rounding at no weight on bits, and spends
    fewer bits as the weight grows."""
    import torch

    from iwave.entropy import plan_fit
    from iwave.encoder import model_outputs, rd_quantise, subband_arrays
    from iwave.colour import rgb_to_ycocg
    from iwave.quantisation import quantise
    model = codec.model_for(True)
    x = torch.from_numpy(np.moveaxis(rgb_to_ycocg(sample[:48, :64]), -1, 0)).double()
    with torch.no_grad():
        raw = model.transform(x[:, None], 8, rounding=False)
    steps, cond = model.lossy_steps(24.0, 3), model.condition_steps(24.0, 3)
    q = quantise(raw, steps, rounding=0.4)
    scaled = [r / torch.tensor(s).view(3, 1, 1, 1) for r, s in zip(raw, steps)]

    def bits(bands):
        return sum(plan_fit.bits(*subband_arrays(phases)) for per_band in
                   model_outputs(model, bands, 8, cond) for phases in per_band)

    nearest = quantise(raw, steps, rounding=0.5 - 1e-9)    # exact halves (they occur) towards 0
    assert all(torch.equal(a, b) for a, b in
               zip(rd_quantise(model, raw, q, steps, cond, 0.0), nearest))
    light, heavy = (rd_quantise(model, raw, q, steps, cond, lam) for lam in (0.1, 1.0))
    for out in (light, heavy):
        assert all(((o - s).abs() < 1).all() for o, s in zip(out, scaled))
    assert bits(heavy) < bits(light) < bits(nearest)


def test_activities_are_the_coded_magnitudes_nearby():
    """A_0: the phase's neighbours, A_1: earlier components at the same
    position, A_2: earlier subbands of the level at the same position (a
    smaller grid counts 0 where it has no sample)."""
    from iwave.coding import activities_of, neighbour_residuals
    rng = np.random.default_rng(0)
    shapes = {0: (2, 3), 1: (2, 3), 2: (3, 3), 3: (3, 3)}      # LL, HL, LH, HH of one level
    res = [[[rng.integers(-9, 10, shapes[b]) for _ in range(4)] for b in range(4)] for _ in range(2)]
    c, b, p = 1, 3, 2
    nb = neighbour_residuals(res[c][b], p, shapes[b])
    a = activities_of(res, c, b, p, shapes[b], nb)
    assert a[0].tolist() == np.abs(nb).sum(0).tolist()
    assert a[1].tolist() == np.abs(res[0][b][p]).reshape(-1).tolist()
    hl = np.zeros((3, 3), np.int64)
    hl[:2] = np.abs(res[c][1][p])
    assert a[2].tolist() == (hl + np.abs(res[c][2][p])).reshape(-1).tolist()
    assert not activities_of(res, 0, 1, 0, shapes[1], neighbour_residuals(res[0][1], 0, shapes[1])).any()


def test_plan_gains_decode_exactly(codec, sample):
    """Files whose plans move scales by the activities decode bit-exactly
    (every plan forced to use all three gains)."""
    from iwave import lifting_paths
    from iwave.entropy import plan_fit
    a = sample[:40, :56]
    plan = plan_fit.plan
    with pytest.MonkeyPatch.context() as m:
        force_lossless_path(m, lifting_paths.OWN)      # (pixel by pixel has no plans)
        plain = codec.compress(a)
        m.setattr(plan_fit, "plan", lambda *args, **kw: plan(*args, **kw)._replace(gains=(4, 8, 12)))
        data = codec.compress(a)
        lossy = codec.compress(a, step=6.0)
    assert np.array_equal(codec.decompress(data), a)
    assert np.abs(codec.decompress(lossy).astype(int) - a).mean() < 4
    assert len(data) != len(plain)
