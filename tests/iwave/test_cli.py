import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from iwave.cli import main
from iwave.imageio import read_image
from tests.conftest import ROOT, photo_like


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err):
    assert code != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("iwave: error:"), err
    assert "Traceback" not in err


@pytest.fixture
def png(tmp_path):
    p = tmp_path / "x.png"
    Image.fromarray(photo_like(40, 56, 3)).save(p)
    return p


def test_default_names_and_no_silent_overwrite(capsys, png, tmp_path):
    code, out, err = run(capsys, "compress", png)
    assert code == 0 and (tmp_path / "x.iwv").exists() and "bpp" in err and out == ""
    # the default decoded name never replaces the original x.png
    code, _, err = run(capsys, "decompress", tmp_path / "x.iwv")
    assert code == 0 and "x.iwv.png" in err
    np.testing.assert_array_equal(read_image(tmp_path / "x.iwv.png"), read_image(png))
    code, _, err = run(capsys, "decompress", tmp_path / "x.iwv")
    assert_one_line_error(code, err)
    assert "--force" in err
    code, _, err = run(capsys, "compress", png)
    assert_one_line_error(code, err)
    code, _, _ = run(capsys, "decompress", tmp_path / "x.iwv", "-o", tmp_path / "y.png")
    assert code == 0
    np.testing.assert_array_equal(read_image(tmp_path / "y.png"), read_image(png))
    code, _, _ = run(capsys, "decompress", tmp_path / "x.iwv", "-o", tmp_path / "y.png", "--force")
    assert code == 0
    code, _, err = run(capsys, "decompress", tmp_path / "x.iwv", "--format", "tiff", "-q")
    assert code == 0 and err == "" and (tmp_path / "x.iwv.tif").exists()
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*"))   # no leftovers


def test_several_inputs_globs_and_output_folders(capsys, tmp_path):
    images = {}
    for name in ("a", "b", "c"):
        images[name] = photo_like(24, 32, 3, seed=ord(name))
        Image.fromarray(images[name]).save(tmp_path / f"{name}.png")
    code, _, err = run(capsys, "compress", tmp_path / "a.png", tmp_path / "b.png")
    assert code == 0 and err.count("bpp") == 2
    assert (tmp_path / "a.iwv").exists() and (tmp_path / "b.iwv").exists()
    out = tmp_path / "out"
    out.mkdir()
    code, _, err = run(capsys, "compress", str(tmp_path / "*.png"), "-o", out, "-q")   # a quoted glob
    assert code == 0 and err == ""
    assert sorted(p.name for p in out.iterdir()) == ["a.iwv", "b.iwv", "c.iwv"]
    decoded = tmp_path / "decoded"
    decoded.mkdir()
    code, _, _ = run(capsys, "decompress", *sorted(out.glob("*.iwv")), "-o", decoded)
    assert code == 0
    for name, a in images.items():     # inside an output folder the decoded file takes the plain name
        np.testing.assert_array_equal(read_image(decoded / f"{name}.png"), a)
    # bad combinations are refused before any work
    for args in (["compress", tmp_path / "a.png", tmp_path / "b.png", "-o", tmp_path / "one.iwv"],
                 ["compress", tmp_path / "a.png", tmp_path / "b.png", "-o", "-"],
                 ["compress", str(tmp_path / "*.gif")],
                 ["compress", "-", tmp_path / "a.png"],
                 ["compress", tmp_path / "a.png", out],
                 ["decompress", tmp_path / "a.iwv", "-o", tmp_path / "a.jpg"]):
        code, _, err = run(capsys, *args)
        assert_one_line_error(code, err)
    assert not (tmp_path / "one.iwv").exists()
    # one bad file in a batch is reported; the others are still coded
    (tmp_path / "bad.png").write_bytes(b"not a png")
    code, _, err = run(capsys, "compress", tmp_path / "c.png", tmp_path / "bad.png", "-o", decoded)
    assert code == 1 and "bad.png" in err and "1 of 2 files failed" in err
    assert (decoded / "c.iwv").exists() and not (decoded / "bad.iwv").exists()


def cli(*args, stdin=b""):
    return subprocess.run([sys.executable, "-m", "iwave", *map(str, args)], input=stdin, capture_output=True,
                          cwd=ROOT, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})


def test_pipes_work_byte_for_byte_like_files(tmp_path, png):
    assert cli("compress", png, "-o", tmp_path / "file.iwv").returncode == 0
    made = (tmp_path / "file.iwv").read_bytes()
    piped = cli("compress", "-", "-o", "-", stdin=png.read_bytes())
    assert piped.returncode == 0 and piped.stdout == made and b"standard input" in piped.stderr
    assert cli("compress", "-", "-o", tmp_path / "in.iwv", stdin=png.read_bytes()).stdout == b""
    assert (tmp_path / "in.iwv").read_bytes() == made
    assert cli("compress", png, "-o", "-").stdout == made
    assert cli("decompress", tmp_path / "file.iwv", "-o", tmp_path / "file.png").returncode == 0
    decoded = cli("decompress", "-", "-o", "-", stdin=made)
    assert decoded.returncode == 0 and decoded.stdout == (tmp_path / "file.png").read_bytes()
    tiff = cli("decompress", "-", "-o", "-", "--format", "tiff", stdin=made).stdout
    (tmp_path / "piped.tif").write_bytes(tiff)
    np.testing.assert_array_equal(read_image(tmp_path / "piped.tif"), read_image(png))
    # standard input with no -o, an empty or broken stream: one line, nothing written
    for args, data in ((["compress", "-"], png.read_bytes()), (["compress", "-", "-o", "-"], b""),
                       (["decompress", "-", "-o", "-"], made[:40]), (["compress", "-", "-o", "-"], b"junk")):
        r = cli(*args, stdin=data)
        err = r.stderr.decode()
        assert r.returncode == 1 and r.stdout == b"" and err.startswith("iwave: error:"), err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_sixteen_bit_png_roundtrip_through_files(capsys, tmp_path):
    import png as pypng
    a = photo_like(20, 30, 3, dtype=np.uint16)
    with open(tmp_path / "deep.png", "wb") as f:
        pypng.Writer(30, 20, greyscale=False, bitdepth=16).write(f, a.reshape(20, -1))
    assert run(capsys, "compress", tmp_path / "deep.png")[0] == 0
    assert run(capsys, "decompress", tmp_path / "deep.iwv", "-o", tmp_path / "back.png")[0] == 0
    back = read_image(tmp_path / "back.png")
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, a)
    g = photo_like(9, 11, 1, dtype=np.uint16)
    Image.fromarray(g).save(tmp_path / "grey16.png")
    assert run(capsys, "compress", tmp_path / "grey16.png")[0] == 0
    assert run(capsys, "decompress", tmp_path / "grey16.iwv", "-o", tmp_path / "g.png")[0] == 0
    np.testing.assert_array_equal(read_image(tmp_path / "g.png"), g)


def test_lossy_options(capsys, png, tmp_path):
    for i, opt in enumerate([["--step", "6"], ["--quality", "60"], ["--bpp", "2"]]):
        assert run(capsys, "compress", png, "-o", tmp_path / f"l{i}.iwv", *opt)[0] == 0
        code, out, _ = run(capsys, "info", tmp_path / f"l{i}.iwv")
        assert code == 0 and "lossy" in out


def test_a_model_used_outside_its_training_says_so(capsys, png, tmp_path):
    code, _, err = run(capsys, "compress", png, "--model", "iwave-lossless", "--step", "8",
                       "-o", tmp_path / "a.iwv")
    assert code == 0 and "not trained on lossy files" in err
    code, _, err = run(capsys, "compress", png, "--model", "iwave-lossless", "-o", tmp_path / "b.iwv")
    assert code == 0 and "not trained" not in err
    code, out, _ = run(capsys, "info", "--complexity", "--model", "iwave-lossless", "--json")
    modes = json.loads(out)["complexity_mac_per_pixel"]
    assert modes["lossless"]["trained_for_mode"] and not modes["lossy"]["trained_for_mode"]


def test_info_json(capsys, png, tmp_path):
    import json
    run(capsys, "compress", png)
    code, out, _ = run(capsys, "info", tmp_path / "x.iwv", "--json")
    info = json.loads(out)
    assert code == 0 and info["width"] == 56 and info["height"] == 40 and info["mode"] == "lossless"
    assert info["model"] == "iwave-lossless"      # named, not only its identifier
    run(capsys, "compress", png, "--quality", "70", "-o", tmp_path / "y.iwv")
    assert "model: iwave-lossy" in run(capsys, "info", tmp_path / "y.iwv")[1]
    assert info["colour"] == "YCoCg-R"


def test_info_names_each_tiles_colour_form(capsys, tmp_path):
    """A decoded 4:4:4 JPEG's tiles are its YCbCr planes (format 18; 4:2:0:
    tests/iwave/test_ycbcr420.py), a few colours a palette."""
    import io
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(photo_like(100, 70, 3, seed=2)).save(buf, "JPEG", quality=90, subsampling=0)
    Image.open(buf).save(tmp_path / "decoded.png")
    run(capsys, "compress", tmp_path / "decoded.png", "--tile", "64")
    assert "colour: YCbCr\n" in run(capsys, "info", tmp_path / "decoded.iwv")[1]
    flat = np.zeros((64, 128, 3), np.uint8)
    flat[:, 64:] = photo_like(64, 64, 3, seed=5)
    Image.fromarray(flat).save(tmp_path / "half.png")
    run(capsys, "compress", tmp_path / "half.png", "--tile", "64")
    out = run(capsys, "info", tmp_path / "half.iwv")[1]
    assert "colour: palette (1 of 2 tiles), YCoCg-R (1 of 2 tiles)" in out


@pytest.mark.parametrize("damage", ["truncate", "flip", "random", "empty"])
def test_damaged_files_give_one_line_errors(capsys, png, tmp_path, damage):
    run(capsys, "compress", png)
    data = bytearray((tmp_path / "x.iwv").read_bytes())
    if damage == "truncate":
        data = data[:len(data) * 2 // 3]
    elif damage == "flip":
        data[len(data) // 2] ^= 0x10
    elif damage == "random":
        data = np.random.default_rng(0).integers(0, 256, 400, dtype=np.uint8).tobytes()
    else:
        data = b""
    (tmp_path / "bad.iwv").write_bytes(bytes(data))
    code, _, err = run(capsys, "decompress", tmp_path / "bad.iwv")
    assert_one_line_error(code, err)
    assert not (tmp_path / "bad.png").exists()


def test_non_image_and_missing_inputs(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("hello, not an image")
    code, _, err = run(capsys, "compress", tmp_path / "notes.txt")
    assert_one_line_error(code, err)
    assert "not an image" in err
    code, _, err = run(capsys, "compress", tmp_path / "missing.png")
    assert_one_line_error(code, err)
    (tmp_path / "cut.png").write_bytes((ROOT / "iwave" / "data" / "sample.png").read_bytes()[:3000])
    code, _, err = run(capsys, "compress", tmp_path / "cut.png")
    assert_one_line_error(code, err)


@pytest.mark.parametrize("args", [["compress", "x.png", "--step", "-1"],
                                  ["compress", "x.png", "--quality", "abc"],
                                  ["compress", "x.png", "--step", "2", "--quality", "5"],
                                  ["compress", "x.png", "--quality", "500"],
                                  ["compress", "x.png", "--bogus"],
                                  ["eval", ".", "--quality", "500"],
                                  ["compress", "x.png", "--max-pixels", "0"],
                                  ["decompress", "x.iwv", "--max-pixels", "-1"],
                                  ["frobnicate"]])
def test_wrong_options_give_one_line_errors(capsys, png, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(args)
    except SystemExit as e:
        code = e.code
    assert_one_line_error(code, capsys.readouterr().err)


def test_console_script_subprocess_has_no_traceback(tmp_path):
    (tmp_path / "bad.iwv").write_bytes(b"IWAV\x01garbage")
    r = subprocess.run([sys.executable, "-m", "iwave.cli", "decompress", str(tmp_path / "bad.iwv")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1


def test_python_dash_m_iwave_is_the_command(tmp_path):
    r = subprocess.run([sys.executable, "-m", "iwave", "--version"], capture_output=True, text=True,
                       cwd=ROOT)
    assert r.returncode == 0 and r.stdout.startswith("iwave ")
    r = subprocess.run([sys.executable, "-m", "iwave", "compress", str(tmp_path / "missing.png")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1 and "no such file" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("channels,dtype,ext", [(4, np.uint16, "tif"), (3, np.uint8, "tiff"),
                                                (2, np.uint8, "tif"), (3, np.uint8, "ppm"),
                                                (1, np.uint16, "pgm"), (3, np.uint16, "ppm")])
def test_decompress_writes_the_format_its_extension_names(capsys, tmp_path, channels, dtype, ext):
    import imagecodecs
    from iwave import compress
    a = photo_like(13, 17, channels, dtype=dtype)
    (tmp_path / "a.iwv").write_bytes(compress(a))
    assert run(capsys, "decompress", tmp_path / "a.iwv", "-o", tmp_path / f"b.{ext}")[0] == 0
    data = (tmp_path / f"b.{ext}").read_bytes()
    if ext.startswith("tif"):
        back = imagecodecs.tiff_decode(data)          # libtiff, not iwave's reader
    else:
        header = f"P{6 if channels == 3 else 5}\n17 13\n{65535 if dtype == np.uint16 else 255}\n".encode()
        assert data.startswith(header)
        back = np.frombuffer(data[len(header):], ">u2" if dtype == np.uint16 else np.uint8).reshape(a.shape)
    np.testing.assert_array_equal(back, a)
    assert (back.dtype.kind, back.dtype.itemsize) == (a.dtype.kind, a.dtype.itemsize)


def test_decompress_refuses_formats_it_cannot_write(capsys, tmp_path):
    from iwave import compress
    (tmp_path / "a.iwv").write_bytes(compress(photo_like(9, 11, 4)))
    for out in ("b.jpg", "b.webp", "b.ppm"):                    # PPM: no alpha
        code, _, err = run(capsys, "decompress", tmp_path / "a.iwv", "-o", tmp_path / out)
        assert_one_line_error(code, err)
        assert not (tmp_path / out).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.iwv"]


def test_each_error_of_a_batch_names_its_file(capsys, png, tmp_path):
    run(capsys, "compress", png)
    data = (tmp_path / "x.iwv").read_bytes()
    (tmp_path / "cut.iwv").write_bytes(data[:len(data) // 2])
    (tmp_path / "empty.iwv").write_bytes(b"")
    code, _, err = run(capsys, "decompress", tmp_path / "cut.iwv", tmp_path / "empty.iwv",
                       tmp_path / "x.iwv", "-o", (tmp_path / "out").mkdir() or tmp_path / "out")
    lines = err.strip().splitlines()
    assert code == 1 and lines[-1] == "iwave: error: 2 of 3 files failed (listed above)"
    assert lines[0].startswith(f"iwave: error: {tmp_path / 'cut.iwv'}: ")
    assert lines[1].startswith(f"iwave: error: {tmp_path / 'empty.iwv'}: not an iwave file")


def test_wrong_model_files_and_folders_say_what_they_are(capsys, png, tmp_path):
    run(capsys, "compress", png)
    code, _, err = run(capsys, "compress", png, "-o", tmp_path / "y.iwv", "--model", png)
    assert_one_line_error(code, err)
    assert "not an iwave model file" in err and "pickle" not in err
    code, _, err = run(capsys, "info", tmp_path)
    assert_one_line_error(code, err)
    assert "is a folder" in err
    code, _, err = run(capsys, "info", tmp_path / "x.iwv", "--model", "no-such-model")
    assert_one_line_error(code, err)
    assert "no model named 'no-such-model'" in err


def test_sixteen_bit_lossy_says_how_to_code_it(capsys, tmp_path):
    Image.fromarray(np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000).save(tmp_path / "g.png")
    code, _, err = run(capsys, "compress", tmp_path / "g.png", "--quality", "50")
    assert_one_line_error(code, err)
    assert "code this 16-bit image losslessly" in err
