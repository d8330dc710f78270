"""`iwave info` on a lossless file: each tile's colour form and how each
group is coded (wavelet, pixel by pixel, indices), read from the frozen
vectors, whose coding is known; a corrupt start is a clear error."""
import json

import pytest

from iwave import bitstream, lifting_paths
from iwave.cli import main
from iwave.errors import IWaveError
from iwave.file_info import lossless_tiles
from iwave.model import find_shipped_model
from tests.conftest import ROOT, lossless_info, photo_like

VECTORS = ROOT / "tests" / "vectors"


def info(name):
    return lossless_info((VECTORS / name).read_bytes())


@pytest.mark.parametrize("name, expected", [
    ("lossless-smooth8.iwv", {"colour": "YCoCg-R", "coding": "pixel by pixel"}),
    ("v20-lossless-rgb8.iwv", {"colour": "YCoCg-R", "coding": "wavelet"}),
    ("v20-lossless-palettea8.iwv", {"colour": "palette", "coding": "indices"}),
    ("v20-lossless-greyalpha8.iwv", {"colour": "none",
                                     "coding": "pixel by pixel (1 of 2 groups), wavelet (1 of 2 groups)"}),
    ("v20-lossless-tiles.iwv", {"colour": "YCoCg-R",
                                "coding": "wavelet (4 of 6 groups), pixel by pixel (2 of 6 groups)"}),
    ("v19-lossless-ycbcr420.iwv", {"colour": "YCbCr 4:2:0", "coding": "wavelet"}),
    ("v13-lossless-rgb8.iwv", {"colour": "YCoCg-R", "coding": "wavelet"}),
    ("v12-lossless-rgb8.iwv", {"colour": "YCoCg-R"}),          # (no lifting paths named before 13)
])
def test_info_names_each_tiles_colour_form_and_coding(name, expected):
    assert info(name) == expected


def test_every_lossless_vector_of_a_shipped_model_is_described():
    for path in sorted(VECTORS.glob("*lossless*.iwv")):
        header, chunks = bitstream.read(path.read_bytes())
        model = find_shipped_model(header.weights_id)
        if model is not None:
            assert lossless_tiles(model, header, chunks)["colour"]


def test_the_cli_prints_the_coding(capsys, tmp_path):
    assert main(["info", str(VECTORS / "lossless-smooth8.iwv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["coding"] == "pixel by pixel"


def test_a_group_naming_an_unknown_coding_is_a_corrupt_file(codec, monkeypatch):
    write = lifting_paths.write
    monkeypatch.setattr(lifting_paths, "write", lambda enc, path: write(enc, 9))
    header, chunks = bitstream.read(codec.compress(photo_like(20, 24, 3, seed=5)))
    with pytest.raises(IWaveError, match="corrupt.*bad lifting path"):
        lossless_tiles(codec.model_for(False), header, chunks)
