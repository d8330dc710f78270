"""Effort levels: every level writes files the one decoder reads exactly,
the level is recorded in the header and shown by `iwave info`, and bad
levels are refused in plain words."""
import json
import subprocess
import sys

import numpy as np
import pytest

import iwave
from iwave import bitstream, effort
from iwave.cli import main
from iwave.codec import Codec
from iwave.errors import IWaveError
from tests.conftest import photo_like


@pytest.fixture(scope="module")
def image():
    return photo_like(72, 88, 3, seed=5)


@pytest.mark.parametrize("level", [1, 2, 3, 8, 9])
def test_every_level_round_trips_and_is_recorded(model, image, level):
    codec = Codec(model)
    lossless = codec.compress(image, effort=level)
    assert np.array_equal(codec.decompress(lossless), image)
    lossy = codec.compress(image, step=20, effort=level)
    assert codec.decompress(lossy).shape == image.shape
    for data in (lossless, lossy):
        header, _ = bitstream.read(data)
        assert header.version == bitstream.VERSION and header.effort == level


def test_the_default_level_is_seven_and_a_codec_keeps_its_own(model, image):
    assert effort.DEFAULT_EFFORT == 7
    assert Codec(model).compress(image) == Codec(model, effort=7).compress(image, effort=7)
    codec = Codec(model, effort=1)
    assert bitstream.read(codec.compress(image))[0].effort == 1
    assert bitstream.read(codec.compress(image, effort=9))[0].effort == 9     # the call wins


def test_higher_effort_never_codes_larger_on_a_photo(model, image):
    codec = Codec(model)
    sizes = [len(codec.compress(image, effort=e)) for e in (1, 7, 9)]
    assert sizes[0] >= sizes[1] >= sizes[2]


def test_the_decoder_does_not_read_the_level(model, image):
    """Effort only steers the encoder's search: the same streams under
    another recorded level decode to the same pixels."""
    codec = Codec(model)
    data = codec.compress(image, step=12, effort=9)
    header, chunks = bitstream.read(data)
    header.effort = 2
    relabelled = bitstream.write(header, chunks)
    assert relabelled != data
    assert np.array_equal(codec.decompress(relabelled), codec.decompress(data))


def test_an_effort_9_file_decodes_bit_exactly_in_a_fresh_process_with_other_threads(tmp_path):
    a = photo_like(64, 80, 3, seed=9)
    data = Codec(threads=1).compress(a, step=16, effort=9)      # the shipped lossy model
    (tmp_path / "x.iwv").write_bytes(data)
    expected = iwave.decompress(data)
    code = ("import sys, numpy as np, iwave; "
            "from iwave.codec import Codec; "
            "d = Codec(threads=2).decompress(open(sys.argv[1], 'rb').read()); "
            "np.save(sys.argv[2], d)")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.iwv"), str(tmp_path / "d.npy")],
                   check=True, timeout=300)
    assert np.array_equal(np.load(tmp_path / "d.npy"), expected)


@pytest.mark.parametrize("bad", [0, 10, -1, 7.5, "7", True])
def test_bad_levels_are_clear_errors(model, image, bad):
    with pytest.raises(IWaveError, match="effort must be a whole number from 1 to 9"):
        Codec(model).compress(image, effort=bad)
    with pytest.raises(IWaveError, match="effort"):
        Codec(model, effort=bad)


def test_a_corrupt_level_byte_is_a_clear_error(model, image):
    data = bytearray(Codec(model).compress(image, effort=3))
    header, chunks = bitstream.read(bytes(data))
    header.effort = 3
    assert bitstream.write(header, chunks) == bytes(data)
    header.effort = 12
    hostile = bitstream.pack(header, chunks)
    with pytest.raises(IWaveError, match="bad effort level"):
        bitstream.read(hostile)


def test_the_command_line_takes_and_shows_the_level(tmp_path, capsys):
    src = tmp_path / "a.png"
    from PIL import Image
    Image.fromarray(photo_like(40, 48, 3)).save(src)
    assert main(["compress", str(src), "-o", str(tmp_path / "a.iwv"), "-e", "2", "-q"]) == 0
    assert main(["compress", str(src), "-o", str(tmp_path / "b.iwv"), "--effort", "9", "--quality",
                 "70", "-q"]) == 0
    capsys.readouterr()
    assert main(["info", str(tmp_path / "a.iwv")]) == 0
    assert "effort: 2" in capsys.readouterr().out
    assert main(["info", "--json", str(tmp_path / "b.iwv")]) == 0
    assert json.loads(capsys.readouterr().out)["effort"] == 9
    for bad in ("0", "10", "fast", "7.5"):
        with pytest.raises(SystemExit) as e:
            main(["compress", str(src), "-o", str(tmp_path / "c.iwv"), "-e", bad])
        assert e.value.code == 2
        assert "effort must be a whole number from 1 to 9" in capsys.readouterr().err
    assert not (tmp_path / "c.iwv").exists()


def test_info_says_when_an_older_file_has_no_level(capsys):
    from pathlib import Path
    old = Path(__file__).parent.parent / "vectors" / "v11-lossless-rgb8.iwv"
    assert main(["info", str(old)]) == 0
    assert "effort: not recorded" in capsys.readouterr().out
