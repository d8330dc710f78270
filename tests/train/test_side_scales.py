"""python -m iwave.train.side_scales fits the scales the format codes plans' integers with."""
import json

import pytest
from PIL import Image

from iwave.entropy.plan_format import SIDE
from tests.conftest import ROOT
from iwave.train.side_scales import main

LOSSY = ROOT / "weights" / "iwave-lossy.npz"


def test_it_reports_each_kind_with_a_best_scale_no_worse_than_the_format_s(tmp_path, sample, capsys):
    for i in range(3):
        Image.fromarray(sample[16 * i:16 * i + 64, :80]).save(tmp_path / f"{i}.png")
    main([str(LOSSY), str(tmp_path), "--steps", "lossless,40", "--images", "2", "--holdout-every", "3"])
    out = json.loads(capsys.readouterr().out)
    assert out["images"] == 2
    assert {"flags", "slope", "offset", "shift"} <= set(out["kinds"]) <= set(SIDE._fields)
    for kind, row in out["kinds"].items():
        assert row["side"] == getattr(SIDE, kind) and row["count"] > 0
        assert row["best_bits"] <= row["side_bits"]
    assert out["best_bits"] <= out["side_bits"]


def test_bad_input_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="not a folder"):
        main([str(LOSSY), str(tmp_path / "missing")])
    with pytest.raises(SystemExit, match="--steps"):
        main([str(LOSSY), str(tmp_path), "--steps", "x"])
    with pytest.raises(SystemExit, match="steps must be"):
        main([str(LOSSY), str(tmp_path), "--steps", "0"])
    with pytest.raises(SystemExit, match="--images"):
        main([str(LOSSY), str(tmp_path), "--images", "0"])
