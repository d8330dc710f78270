"""Folder mode: every image coded, a bad one reported and the rest carried on,
re-runs skip finished outputs, inputs untouched."""
import hashlib

import numpy as np
from PIL import Image

from iwave.cli import main
from iwave.imageio import read_image
from tests.conftest import photo_like
from tests.iwave.test_cli import assert_one_line_error


def digest(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_folder_with_a_corrupt_image(tmp_path, capsys):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    Image.fromarray(photo_like(30, 40, 3, seed=1)).save(src / "a.png")
    Image.fromarray(photo_like(24, 20, 1, seed=2)).save(src / "sub" / "b.png")
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    before = digest(src)

    code = main(["compress", str(src), "-o", str(tmp_path / "out"), "--jobs", "2"])
    out = capsys.readouterr().err
    assert code == 1
    assert "2 compressed, 0 skipped (already done), 1 failed" in out
    assert "broken.png" in out
    assert (tmp_path / "out" / "a.iwv").exists() and (tmp_path / "out" / "sub" / "b.iwv").exists()
    assert not (tmp_path / "out" / "broken.iwv").exists()
    assert digest(src) == before                       # inputs are never modified

    code = main(["compress", str(src), "-o", str(tmp_path / "out")])     # re-run: nothing redone
    assert code == 1 and "0 compressed, 2 skipped" in capsys.readouterr().err

    code = main(["decompress", str(tmp_path / "out"), "-o", str(tmp_path / "back")])
    assert code == 0, capsys.readouterr().err
    for name in ("a.png", "sub/b.png"):
        assert np.array_equal(read_image(tmp_path / "back" / name), read_image(src / name))


def test_folder_needs_an_output_folder_outside_the_input(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(photo_like(16, 16, 3)).save(src / "a.png")
    assert_one_line_error(main(["compress", str(src)]), capsys.readouterr().err)
    assert_one_line_error(main(["compress", str(src), "-o", str(src / "x")]), capsys.readouterr().err)
