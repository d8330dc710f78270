"""weights/index.json names every shipped model by the identifier its files
store (what `iwave info` shows without loading torch)."""
from iwave import shipped


def test_the_index_names_every_shipped_model_by_its_identifier():
    from iwave.model import build_index
    assert shipped.index() == build_index(), "stale index: run python -m iwave.model"


def test_a_files_model_is_named():
    from iwave.model import IWaveModel
    path = shipped.model_files()["iwave-lossless"]
    assert shipped.name_of(IWaveModel.load(path).identifier()) == "iwave-lossless"
    assert shipped.name_of("0123456789abcdef") is None
