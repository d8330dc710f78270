import json

import pytest

from iwave.cli import main
from tests.conftest import ROOT


def test_demo_runs_and_verifies(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "round trip exact" in out and "PSNR" in out


def test_eval_folder_json(capsys, tmp_path):
    (tmp_path / "a.png").write_bytes((ROOT / "iwave" / "data" / "sample.png").read_bytes())
    assert main(["eval", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["images"] == 1 and report["images"][0]["exact"]
    assert report["summary"]["mean_bpsp"] < 8


def test_eval_walks_subfolders_and_reports_unsupported_files(capsys, tmp_path):
    from PIL import Image

    from tests.conftest import photo_like
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    Image.fromarray(photo_like(24, 32, 3, seed=1)).save(tmp_path / "a.png")
    Image.fromarray(photo_like(20, 28, 3, seed=2)).save(tmp_path / "sub" / "deeper" / "a.png")
    Image.fromarray(photo_like(20, 28, 3, seed=3)).convert("CMYK").save(tmp_path / "sub" / "cmyk.tif")
    (tmp_path / "sub" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    assert main(["eval", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(r["image"] for r in report["images"]) == ["a.png", "sub/deeper/a.png"]
    assert all(r["exact"] for r in report["images"])
    assert sorted(name for name, _ in report["unsupported"]) == ["sub/broken.png", "sub/cmyk.tif"]
    assert main(["eval", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 images" in out and "2 file(s) not measured" in out and "CMYK" in out


@pytest.mark.parametrize("lossy", [False, True])
def test_decoder_fits_the_complexity_budget(lossy):
    """The brief's budget: at most 2,000 MAC per pixel for the whole decoder,
    for the default codec's model of each mode."""
    from iwave.codec import Codec
    from iwave.complexity import macs_per_pixel
    macs = macs_per_pixel(Codec().model_for(lossy), lossy=lossy)
    assert 0 < macs["decoder"]["total"] <= 2000
    if not lossy:       # a lossless group may be decoded pixel by pixel instead
        assert 0 < macs["decoder_pixel_by_pixel"]["total"] <= 2000
    # the encoder's is not fixed: lossy, the RD rounding pass and the post
    # filter's fit; lossless, both routes tried
    assert macs["encoder"]["total"] <= 5000
    assert ("post_filter" in macs["decoder"]) == lossy
