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


@pytest.mark.parametrize("lossy", [False, True])
def test_decoder_fits_the_complexity_budget(lossy):
    """The brief's budget: at most 2,000 MAC per pixel for the whole decoder,
    for the default codec's model of each mode."""
    from iwave.codec import Codec
    from iwave.complexity import macs_per_pixel
    macs = macs_per_pixel(Codec().model_for(lossy), lossy=lossy)
    assert 0 < macs["decoder"]["total"] <= 2000
    # lossy: the RD rounding pass and the post filter's fit
    assert macs["encoder"]["total"] <= (5000 if lossy else 2000)
    assert ("post_filter" in macs["decoder"]) == lossy
