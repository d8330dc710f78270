import numpy as np
import pytest

from iwave.diagnose import diagnose, main


@pytest.mark.parametrize("step", [None, 24.0])
def test_adjusted_bits_match_the_file(codec, sample, step):
    """The per-subband accounting adds up to the real file (less its header
    and the adjustments themselves), and adjusting never costs more."""
    a = sample[:64, :96]
    model = codec.model_for(step is not None)
    rows = diagnose(model, a, step)
    assert len(rows) == 3 * (1 + 3 * model.levels)
    # (in total: this crop is measured as a 4:2:0 JPEG's three grey planes, and
    # on the Y plane's 24-value LL band the plan's bits exceed the model's by a few)
    assert sum(r["adjusted"] for r in rows) <= sum(r["coder"] for r in rows)
    assert all(r["zeroth_order"] >= 0 for r in rows)
    for r in rows:      # the phases' bits, weighted by their sizes, add up to the subband's
        phase_bits = np.dot(r["values_by_phase"], r["bits_per_value_by_phase"])
        assert sum(r["values_by_phase"]) == r["values"]
        assert phase_bits == pytest.approx(r["adjusted"] * 64 * 96, rel=1e-9, abs=1e-6)
    file_bpp = len(codec.compress(a, step=step)) * 8 / (64 * 96)
    adjusted = sum(r["adjusted"] for r in rows)
    assert adjusted < file_bpp < adjusted * 1.05 + 0.2


def test_bad_input_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit, match="no such file"):
        main([str(tmp_path / "missing.png")])
    from PIL import Image
    Image.fromarray(np.zeros((8, 8), np.uint16)).save(tmp_path / "deep.png")
    with pytest.raises(SystemExit, match="8-bit"):
        main([str(tmp_path / "deep.png")])


def test_subbands_of_zeros_the_encoder_flags_cost_nothing(codec, sample):
    a = sample[:64, :96]
    rows = diagnose(codec.model_for(True), a, 320.0)
    flagged = [r for r in rows if r["zero_flagged"]]
    assert flagged and all(r["adjusted"] == 0.0 and r["zeroth_order"] == 0.0 for r in flagged)
    assert all(r["coder"] > 0 for r in flagged)          # what coding them would have cost


def test_totals_add_the_whole_file(tmp_path, capsys, sample):
    """The command's totals end with the file the codec makes of the image,
    which holds more than its coefficients' bits (header, plans)."""
    import json
    from PIL import Image
    from iwave.codec import Codec
    from iwave.model import IWaveModel, resolve_model_paths
    a = sample[:64, :96]
    Image.fromarray(a).save(tmp_path / "a.png")
    main([str(tmp_path / "a.png"), "--step", "24"])
    totals = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["total_bpp"]
    model = IWaveModel.load(resolve_model_paths(None)["lossy"])
    assert totals["file"] == round(len(Codec(model).compress(a, step=24.0)) * 8 / a[..., 0].size, 4)
    assert totals["file"] > totals["adjusted"] + totals["plan_bits"] > totals["adjusted"]
