"""The README's examples work as written: every command of its "Using it"
block runs in order in a folder holding photo.png and photos/, then its
Python example runs there."""
import os
import re
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image

from tests.conftest import ROOT, photo_like


def blocks(kind):
    text = (ROOT / "README.md").read_text()
    usage = text[text.index("## Using it"):text.index("## Results")]
    return re.findall(rf"```{kind}\n(.*?)```", usage, re.S)


def test_readme_commands_and_python_example_run(tmp_path):
    shutil.copy(ROOT / "iwave" / "data" / "sample.png", tmp_path / "photo.png")
    (tmp_path / "photos" / "more").mkdir(parents=True)
    Image.fromarray(photo_like(40, 48, 3, seed=1)).save(tmp_path / "photos" / "a.png")
    Image.fromarray(photo_like(32, 40, 3, seed=2)).save(tmp_path / "photos" / "more" / "b.png")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    # `iwave` as the installed command would be, whatever is on PATH here
    prelude = f'iwave() {{ "{sys.executable}" -m iwave "$@"; }}\n'
    [commands] = blocks("sh")
    lines = [line.split("  #")[0].strip() for line in commands.splitlines() if line.strip()]
    assert len(lines) >= 10
    for line in lines:
        r = subprocess.run(["bash", "-c", prelude + line], cwd=tmp_path, env=env, capture_output=True,
                           text=True)
        assert r.returncode == 0, f"{line}\n{r.stderr}"
    assert (tmp_path / "photo.iwv.png").exists() and (tmp_path / "thumb.png").exists()
    assert (tmp_path / "piped.iwv").read_bytes() == (tmp_path / "photo.iwv").read_bytes()
    assert sorted(p.name for p in (tmp_path / "coded").iterdir()) == ["a.iwv"]
    assert (tmp_path / "back" / "more" / "b.png").exists()
    assert np.array_equal(np.asarray(Image.open(tmp_path / "photo.iwv.png")),
                          np.asarray(Image.open(tmp_path / "photo.png")))

    [example] = blocks("python")
    r = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "copy.iwv").exists()
