"""The thread policy: never more torch threads than asked (default one), the
caller's setting restored, jobs x threads within the count."""
import numpy as np
import pytest
import torch

from iwave import threads
from iwave.cli import main
from iwave.codec import Codec
from iwave.errors import IWaveError
from tests.conftest import photo_like


def test_default_is_one_thread_and_the_environment_overrides(monkeypatch):
    monkeypatch.delenv("IWAVE_THREADS", raising=False)
    assert threads.resolve() == 1
    monkeypatch.setenv("IWAVE_THREADS", "3")
    assert threads.resolve() == 3 and threads.resolve(2) == 2
    for bad in (0, -1, "many", 1.5j):
        with pytest.raises(IWaveError, match="threads"):
            threads.resolve(bad)


def test_a_codec_works_with_its_threads_and_restores_the_callers(model, monkeypatch):
    import iwave.codec
    caller = torch.get_num_threads()
    torch.set_num_threads(2)
    seen, encode = [], iwave.codec.encode_tile

    def spy(*args):
        seen.append(torch.get_num_threads())
        return encode(*args)
    monkeypatch.setattr(iwave.codec, "encode_tile", spy)
    codec = Codec(model, threads=1)
    a = photo_like(24, 32, 3)
    assert np.array_equal(codec.decompress(codec.compress(a)), a)
    assert seen == [1]                                  # the tile was coded with the codec's threads
    try:
        assert torch.get_num_threads() == 2             # and the caller's setting is back
    finally:
        torch.set_num_threads(caller)
    with threads.limited(1):
        assert torch.get_num_threads() == 1


def test_cli_threads_option(capsys, tmp_path):
    from PIL import Image
    Image.fromarray(photo_like(24, 32, 3)).save(tmp_path / "x.png")
    assert main(["compress", str(tmp_path / "x.png"), "--threads", "1"]) == 0
    assert main(["decompress", str(tmp_path / "x.iwv"), "--threads", "1", "-o", str(tmp_path / "y.png")]) == 0
    assert main(["compress", str(tmp_path / "x.png"), "-f", "--threads", "0"]) == 1
    assert "threads must be at least 1" in capsys.readouterr().err
