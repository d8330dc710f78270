"""Output files: created with the umask's permissions, never half-written,
and an unwritable destination fails before the work, naming the output."""
import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from iwave import files
from iwave.cli import main
from iwave.errors import IWaveError
from iwave.synthetic import large_photo_like
from tests.conftest import KODAK, ROOT, photo_like


@pytest.fixture
def png(tmp_path):
    p = tmp_path / "x.png"
    Image.fromarray(photo_like(20, 24, 3)).save(p)
    return p


@pytest.fixture
def umask():
    def set_mask(mask):
        old.append(os.umask(mask))
    old = []
    yield set_mask
    if old:
        os.umask(old[0])


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_get_the_permissions_of_the_umask(png, tmp_path, umask, mask, mode):
    umask(mask)
    assert main(["compress", str(png), "-o", str(tmp_path / "a.iwv")]) == 0
    assert main(["decompress", str(tmp_path / "a.iwv"), "-o", str(tmp_path / "b.png")]) == 0
    assert (tmp_path / "a.iwv").stat().st_mode & 0o777 == mode
    assert (tmp_path / "b.png").stat().st_mode & 0o777 == mode


def test_a_failed_write_names_the_output_and_keeps_what_was_there(png, tmp_path, monkeypatch, capsys):
    out = tmp_path / "a.iwv"
    out.write_bytes(b"an earlier file")

    def full_disk(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(files.os, "write", full_disk)
    assert main(["compress", str(png), "-o", str(out), "--force"]) == 1
    err = capsys.readouterr().err
    assert f"cannot write {out}: No space left on device" in err and err.count("\n") == 1
    assert out.read_bytes() == b"an earlier file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.iwv", "x.png"]      # no temporary left


def test_an_interrupted_write_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with files.AtomicOutput(tmp_path / "a.iwv"):
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(IWaveError, match=f"cannot write {tmp_path / 'no' / 'a.iwv'}"):
        files.AtomicOutput(tmp_path / "no" / "a.iwv")


def _without_root_override():
    """A command prefix under which permission bits apply, even for root
    (which otherwise writes into read-only folders)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a folder unwritable")
    return ["setpriv", "--bounding-set=-dac_override"]


def test_a_read_only_folder_fails_at_once_naming_the_output(tmp_path):
    image = KODAK / "kodim01.png"
    if not image.exists():
        image = tmp_path / "big.png"
        Image.fromarray(large_photo_like(512, 768)).save(image)
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    out = folder / "kodim01.iwv"
    t = time.perf_counter()
    r = subprocess.run(_without_root_override() + [sys.executable, "-m", "iwave.cli", "compress",
                                                   str(image), "-o", str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t
    folder.chmod(0o755)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip() == f"iwave: error: cannot write {out}: Permission denied"
    assert list(folder.iterdir()) == []
    assert seconds < 5, f"took {seconds:.1f} s: the output was not checked before the encode"


def test_an_output_through_a_symbolic_link_writes_the_file_it_names(png, tmp_path):
    (tmp_path / "target.iwv").write_bytes(b"an earlier file")
    (tmp_path / "link.iwv").symlink_to("target.iwv")
    assert main(["compress", str(png), "-o", str(tmp_path / "link.iwv"), "--force"]) == 0
    assert (tmp_path / "link.iwv").is_symlink()
    assert main(["decompress", str(tmp_path / "target.iwv"), "-o", str(tmp_path / "y.png")]) == 0
    assert (np.asarray(Image.open(tmp_path / "y.png")) == np.asarray(Image.open(png))).all()


def test_an_output_that_is_a_pipe_is_written_into_not_replaced(png, tmp_path):
    import threading
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    try:
        assert main(["compress", str(png), "-o", str(fifo), "--force"]) == 0
    finally:
        if reader.is_alive():          # the writer failed before opening it: let the reader go
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join()
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert main(["compress", str(png), "-o", str(tmp_path / "a.iwv")]) == 0
    assert got == [(tmp_path / "a.iwv").read_bytes()]


def test_sigterm_discards_the_output_in_progress(tmp_path, monkeypatch, capsys):
    from iwave import batch

    def killed(args):
        with files.AtomicOutput(tmp_path / "a.iwv"):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)              # the handler raises before this ends
    monkeypatch.setattr(batch, "cmd_compress", killed)
    previous = signal.getsignal(signal.SIGTERM)
    assert main(["compress", "x.png"]) == 143
    assert capsys.readouterr().err == "iwave: terminated\n"
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is previous


def test_an_interrupt_inside_compiled_code_is_an_interrupt(monkeypatch, capsys):
    from iwave import batch

    def interrupted_in_numba(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as e:
            raise SystemError("CPUDispatcher(<function _search>) returned a result with an "
                              "exception set") from e
    monkeypatch.setattr(batch, "cmd_compress", interrupted_in_numba)
    assert main(["compress", "x.png"]) == 130
    assert capsys.readouterr().err == "iwave: interrupted\n"
