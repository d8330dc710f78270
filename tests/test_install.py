"""A plain (not editable) `pip install` of the repository works with no source
tree: the models come with the package, and entropy/ and train/ are installed
as iwave.entropy and iwave.train, not as top-level modules."""
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import KODAK, ROOT


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    where = tmp_path_factory.mktemp("venv")
    # torch, numpy and the rest come from this interpreter's site-packages, so
    # the install needs no network; the package itself is built from the clone.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(where)], check=True)
    wheels = tmp_path_factory.mktemp("wheel")
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(ROOT)]
    # with this interpreter's setuptools where it can build wheels, else in pip's isolated build
    # environment (which fetches setuptools from the package index)
    if subprocess.run(build + ["--no-build-isolation"], env=clean_env(), cwd=wheels).returncode != 0:
        subprocess.run(build, check=True, env=clean_env(), cwd=wheels)
    [wheel] = wheels.glob("iwave-*.whl")
    subprocess.run([str(where / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps",
                    str(wheel)], check=True, env=clean_env(), cwd=where)
    return where


def clean_env():
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "IWAVE_MODEL")}
    env["OMP_NUM_THREADS"] = "1"
    return env


def run(venv, *args, cwd):
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], capture_output=True, text=True,
                          env=clean_env(), cwd=cwd)


def test_installed_package_codes_images_from_another_directory(venv, tmp_path):
    source = KODAK / "kodim23.png"
    if not source.exists():
        source = ROOT / "iwave" / "data" / "sample.png"
    where = run(venv, "python", "-c", "import iwave, iwave.model as m; print(iwave.__file__); "
                "print(*m.weights_dirs())", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    module, weights = where.stdout.splitlines()
    assert module.startswith(str(venv)) and weights.startswith(str(venv))
    [site] = venv.glob("lib/python*/site-packages")
    assert not (site / "entropy").exists() and not (site / "train").exists()   # no generic names

    for name, extra in (("ll", []), ("lossy", ["--quality", "80"])):
        r = run(venv, "iwave", "compress", str(source), "-o", f"{name}.iwv", *extra, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        r = run(venv, "iwave", "decompress", f"{name}.iwv", "-o", f"{name}.png", cwd=tmp_path)
        assert r.returncode == 0, r.stderr

    from iwave.imageio import read_image
    original = read_image(source)
    assert np.array_equal(read_image(tmp_path / "ll.png"), original)
    assert read_image(tmp_path / "lossy.png").shape == original.shape

    api = ("import sys, numpy as np, iwave\n"
           "from iwave.imageio import read_image\n"
           f"image = read_image({str(source)!r})\n"
           "assert np.array_equal(iwave.decompress(iwave.compress(image)), image)\n"
           "assert iwave.decompress(iwave.compress(image, quality=70)).shape == image.shape\n")
    r = run(venv, "python", "-c", api, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
