"""`iwave bench` plumbing on tiny generated images (the Kodak run is the
benchmark itself, not a test)."""
import json

import numpy as np
import pytest
from PIL import Image

from iwave.bench import Codec, classic_codecs, run, write
from iwave.bench.metrics import bd_rate, monotone_curve
from iwave.bench.runner import shipped_models
from iwave.model import IWaveModel
from iwave.cli import main
from tests.conftest import photo_like
from tests.iwave.test_cli import assert_one_line_error


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("bench")
    for i in range(2):
        Image.fromarray(photo_like(40 + 8 * i, 56, 3, seed=i)).save(d / f"im{i}.png")
    Image.fromarray(photo_like(20, 20, 1)).save(d / "grey.png")      # not RGB: skipped
    return d


def jpeg_like(key, quality_offset=0, lossless=False, decode_fix=None):
    """A real lossy codec (Pillow JPEG) under another name, for plumbing tests."""
    from iwave.bench.codecs import pil_load, pil_save
    enc = (lambda x, s: pil_save(x, "PNG")) if lossless else \
        (lambda x, q: pil_save(x, "JPEG", quality=int(q) + quality_offset, subsampling=0))
    dec = pil_load if decode_fix is None else (lambda d: decode_fix(pil_load(d)))
    return Codec(key, key.upper(), lossless, enc, dec, "PIL",
                 (None,) if lossless else (20, 50, 80, 95), "quality")


def test_bd_rate_of_a_curve_against_itself_is_zero():
    curve = ([0.2, 0.5, 1.0, 2.0], [28.0, 31.0, 34.5, 38.0])
    assert bd_rate(curve, curve) == pytest.approx(0.0, abs=1e-9)
    cheaper = ([r * 0.8 for r in curve[0]], curve[1])
    assert bd_rate(curve, cheaper) == pytest.approx(-20.0, abs=1e-6)
    assert bd_rate(curve, ([0.1, 0.2], [10.0, 12.0])) is None      # no overlap


def test_monotone_curve_drops_points_that_add_nothing():
    assert monotone_curve([1.0, 0.5, 2.0, 1.5], [30, 28, 33, 29]) == ([0.5, 1.0, 2.0], [28, 30, 33])


def test_same_codec_twice_gives_zero_bd_rate_per_image(folder):
    res = run(folder, [jpeg_like("a"), jpeg_like("b")], progress=False)
    assert [s["image"] for s in res["skipped_images"]] == ["grey.png"]
    bd = res["bd_rate"]
    assert bd["per_image_median"]["a"]["b"] == pytest.approx(0.0, abs=1e-9)
    assert bd["images_with_overlap"]["a"]["b"] == 2
    assert bd["set_average"]["b"]["a"] == pytest.approx(0.0, abs=1e-9)
    # and a codec that is truly different gives a non-zero BD-rate
    res = run(folder, [jpeg_like("a"), jpeg_like("worse", quality_offset=-15)], progress=False)
    assert res["bd_rate"]["per_image_median"]["worse"]["a"] != pytest.approx(0.0, abs=0.5)


def test_parallel_jobs_give_the_same_results(folder):
    one = run(folder, [jpeg_like("a")], progress=False)
    two = run(folder, [jpeg_like("a")], jobs=2, progress=False)
    size = lambda r: [[row["bytes"] for row in p["per_image"]] for p in r["lossy"]["a"]["points"]]
    assert size(one) == size(two)


def test_corrupted_lossless_decode_is_flagged_invalid(folder, tmp_path):
    def flip(a):
        a = a.copy()
        a[0, 0, 0] ^= 1
        return a
    res = run(folder, [jpeg_like("good", lossless=True), jpeg_like("bad", lossless=True, decode_fix=flip)],
              progress=False)
    assert res["lossless"]["good"]["valid"]
    assert not res["lossless"]["bad"]["valid"]
    assert sorted(res["lossless"]["bad"]["mismatched"]) == ["im0.png", "im1.png"]
    write(res, tmp_path)
    assert "**INVALID**" in (tmp_path / "results.md").read_text()


def test_missing_library_is_skipped_not_a_crash(folder):
    missing = Codec("ghost", "Ghost codec", True, None, None, "no_such_codec_library_xyz")
    res = run(folder, [missing, jpeg_like("png", lossless=True)], progress=False)
    assert res["skipped_codecs"] == [{"codec": "ghost", "name": "Ghost codec",
                                     "reason": "library 'no_such_codec_library_xyz' is not installed"}]
    assert res["lossless"]["png"]["valid"]


def test_a_codec_failing_on_an_image_is_reported(folder):
    def boom(x, s):
        raise RuntimeError("encoder exploded")
    c = Codec("boom", "Boom", True, boom, None, "PIL")
    res = run(folder, [c], progress=False)
    assert not res["lossless"]["boom"]["valid"]
    assert "encoder exploded" in res["lossless"]["boom"]["errors"][0]


def test_every_classic_codec_declares_a_sweep():
    for c in classic_codecs(points=5):
        assert c.lossless or len(c.settings) >= 4, c.key


def test_cli_writes_every_output(folder, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["bench", str(folder), "--out", str(out), "--codecs", "iwave,png,jpeg2000",
                 "--points", "3"])
    assert code == 0, capsys.readouterr().err
    for name in ("results.json", "results.md", "rd-psnr.png", "rd-msssim.png", "lossless.png"):
        assert (out / name).stat().st_size > 0, name
    res = json.loads((out / "results.json").read_text())
    assert res["lossless"]["iwave-default-ll"]["valid"]
    assert res["lossless"]["jpeg2000-ll"]["valid"]
    # every shipped iwave model, in the modes it was trained for
    trained = {name: IWaveModel.load(path) for name, path in shipped_models().items()}
    assert set(res["lossy"]) == {n for n, m in trained.items() if m.trained_for(lossy=True)} | {"jpeg2000"}
    assert set(res["lossless"]) >= {f"{n}-ll" for n, m in trained.items() if m.trained_for(lossy=False)}
    assert "iwave-lossless" not in res["lossy"]      # fine-tuned on lossless batches only
    c = res["complexity"]["iwave-default"]
    assert c["decoder_mac_per_px"] > 0      # a lossless file may decode either way: the dearer counts
    assert c["decoder_lossless_mac_per_px"] == max(c["detail"]["lossless"]["decoder"]["total"],
                                                   c["detail"]["lossless"]["decoder_pixel_by_pixel"]["total"])
    assert np.isfinite(res["bd_rate"]["per_image_median"]["iwave-default"]["jpeg2000"])


def test_cli_bad_options_are_one_line_errors(folder, tmp_path, capsys):
    code = main(["bench", str(folder), "--out", str(tmp_path), "--codecs", "nonsense"])
    assert_one_line_error(code, capsys.readouterr().err)
    code = main(["bench", str(tmp_path / "missing"), "--out", str(tmp_path)])
    assert_one_line_error(code, capsys.readouterr().err)
    code = main(["bench", str(folder), "--out", str(tmp_path), "--jobs", "0"])
    assert_one_line_error(code, capsys.readouterr().err)


def test_measurements_are_reused_from_the_cache(folder, tmp_path):
    calls = []
    base = jpeg_like("a")
    counting = Codec("a", "A", False, lambda x, q: calls.append(q) or base.encode(x, q), base.decode,
                     "PIL", base.settings, "quality")
    cache = tmp_path / "measurements.jsonl"
    first = run(folder, [counting], progress=False, cache=cache)
    n = len(calls)
    assert n == 2 * len(base.settings)
    second = run(folder, [counting], progress=False, cache=cache)
    assert len(calls) == n                                   # nothing measured again
    assert second["lossy"]["a"]["points"] == first["lossy"]["a"]["points"]
    lines = len(cache.read_text().splitlines())
    run(folder, [counting], progress=False, cache=cache, reuse=False)   # --fresh
    assert len(calls) == 2 * n                               # everything measured again
    assert len(cache.read_text().splitlines()) == 2 * lines  # and recorded


def test_a_folder_of_16_bit_scans_is_compared_losslessly(tmp_path):
    """16-bit greyscale folders (medical scans) run the lossless codecs that
    take them, every decode checked; the others are skipped with a reason."""
    from iwave.imageio import encode_png
    for i in range(2):
        a = photo_like(30 + 6 * i, 44, 1, seed=i, dtype=np.uint16)
        (tmp_path / f"scan{i}.png").write_bytes(encode_png((a // 100 * 100).astype(np.uint16)))
    Image.fromarray(photo_like(20, 20, 3)).save(tmp_path.parent / "elsewhere.png")
    res = run(tmp_path, ["png", "jpegls", "jpeg2000", "jxl", "webp", "iwave-lossless-ll"], progress=False)
    assert res["image_kind"] == "grey16" and res["lossy"] == {}
    measured = {k for k, e in res["lossless"].items()}
    assert {"png", "jpegls", "jpeg2000-ll", "iwave-lossless-ll"} <= measured
    assert all(e["valid"] for e in res["lossless"].values())
    assert "webp-ll" in {s["codec"] for s in res["skipped_codecs"]}
    iw = res["lossless"]["iwave-lossless-ll"]
    assert iw["bpsp"] == pytest.approx(iw["bpp"])            # one channel
