"""python -m iwave.train.denoiser_gain measures whole files with and without the denoiser."""
import json

import pytest
from PIL import Image

from iwave.model import IWaveModel
from tests.conftest import ROOT
from iwave.train.denoiser_gain import gains, main

LOSSY = ROOT / "weights" / "iwave-lossy.npz"


def test_it_reports_a_gain_per_step_and_leaves_the_model_as_it_was(tmp_path, sample, capsys):
    Image.fromarray(sample[:48, :64]).save(tmp_path / "a.png")
    main([str(LOSSY), str(tmp_path), "--steps", "24,64"])
    out = json.loads(capsys.readouterr().out)
    assert out["images"] == 1 and set(out["gain_db"]) == {"24", "64"}
    model = IWaveModel.load(LOSSY)
    keep = model.denoiser.min_step
    measured = gains(model, [tmp_path / "a.png"], [64.0])
    assert model.denoiser.min_step == keep
    assert measured[64.0] != 0.0          # the denoiser changed the pixels


def test_bad_input_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="not a folder"):
        main([str(LOSSY), str(tmp_path / "missing")])
    with pytest.raises(SystemExit, match="--steps"):
        main([str(LOSSY), str(tmp_path), "--steps", "x"])
    Image.new("RGB", (16, 16)).save(tmp_path / "a.png")
    with pytest.raises(SystemExit, match="step must be"):
        main([str(LOSSY), str(tmp_path), "--steps", "0"])
    IWaveModel().save(tmp_path / "plain.npz", {})          # the default config has no denoiser
    with pytest.raises(SystemExit, match="no denoiser"):
        main([str(tmp_path / "plain.npz"), str(tmp_path)])
