"""File-level helpers that the CLI, folder mode, `iwave eval` and the
benchmark share: which files are images, reading .iwv bytes, one progress
bar, compressing and decompressing one file, and outputs written all at once.

Output files written all at once:

An output is first created as a hidden temporary file beside its final name,
before any long work, so that a folder one cannot write to fails at once;
the data goes into it and it is renamed into place only when complete, so an
interrupted or failed run never leaves a half-written file and never touches
an existing one. Files get the permissions any program's files get (0666
less the umask), not those of a private temporary file.
"""
import os
import secrets
import sys
import tempfile
from pathlib import Path

from iwave.errors import IWaveError

# what folder mode, `iwave eval` and the benchmark take for images
IMAGE_EXTENSIONS = {".png", ".ppm", ".pgm", ".pnm", ".pbm", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg",
                    ".webp", ".gif"}


class AtomicOutput:
    """`with AtomicOutput(path) as out: ... out.commit(data)`; leaving the
    block without a commit (an error, an interrupt) removes the temporary."""

    def __init__(self, path):
        self.path = Path(path)
        folder = self.path.parent
        self._tmp = folder / f".{self.path.name}.{secrets.token_hex(4)}.part"
        try:
            # O_EXCL: never follow or reuse someone else's file; mode 0o666
            # is masked by the umask, as for any newly created file
            self._fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as e:
            raise IWaveError(f"cannot write {self.path}: {e.strerror or e}") from None

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if self._fd is not None:
            self.discard()
        return False

    def commit(self, data: bytes):
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
            os.replace(self._tmp, self.path)
        except OSError as e:
            self.discard()
            raise IWaveError(f"cannot write {self.path}: {e.strerror or e}") from None

    def discard(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass


STDIO = "-"     # standard input or output, as a file name


class StandardOutput:
    """The AtomicOutput of `-o -`: all the bytes at once, or none."""

    def __init__(self):
        if sys.stdout.isatty():
            raise IWaveError("refusing to write binary data to a terminal; redirect standard "
                             "output or name a file with -o")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def commit(self, data: bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()

    def discard(self):
        pass


class DeviceOutput:
    """The output of a path that is a device or a pipe (/dev/null, a FIFO):
    nothing to rename into place, so the bytes are written into it at the
    commit, all at once, and its errors (/dev/full's) are reported."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def commit(self, data: bytes):
        try:
            with open(self.path, "wb") as f:
                f.write(data)
        except OSError as e:
            raise IWaveError(f"cannot write {self.path}: {e.strerror or e}") from None

    def discard(self):
        pass


def output(path):
    """Where an output goes: standard output; a file written all at once
    (through a symbolic link, the file it names: the link stays); or a
    device or pipe, written into."""
    if str(path) == STDIO:
        return StandardOutput()
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if path.exists() and not path.is_file() and not path.is_dir():
        return DeviceOutput(path)
    return AtomicOutput(path)


def check_writable(path):
    """Fail now, with the output's name, if `path` could not be created
    (read-only or missing folder, no permission): before the long work."""
    output(path).discard()


def list_images(folder, recursive=True, extensions=IMAGE_EXTENSIONS):
    """The files under `folder` with these extensions (default: images), sorted."""
    folder = Path(folder)
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.is_file() and p.suffix.lower() in extensions)


def read_bytes(path):
    if str(path) == STDIO:
        data = sys.stdin.buffer.read()
        if not data:
            raise IWaveError("standard input is empty")
        return data
    path = Path(path)
    if path.is_dir():
        raise IWaveError(f"{path} is a folder, not a file")
    if not path.is_file():
        raise IWaveError(f"{path}: no such file")
    return path.read_bytes()


def progress(done, total, label, enabled=True):
    """A one-line progress bar on stderr, ended with a newline when done."""
    if enabled and total:
        bar = "#" * (30 * done // total)
        print(f"\r[{bar:<30}] {done}/{total} {label[:40]:<40}", end="" if done < total else "\n",
              file=sys.stderr, flush=True)


def compress_file(codec, inp, out, step=None, quality=None, bpp=None, strip=False, effort=None,
                  warn=True, progressive=False):
    """Read, compress and write one file (at `effort`, default the codec's),
    with its ICC profile, EXIF and XMP unless strip (warn: say on stderr what
    the file held that changes how it looks and is not kept). The output is
    created first, so an unwritable destination fails before the encode,
    and it appears only when complete. Returns (image, data)."""
    with output(out) as target:
        if strip:
            image, metadata = read_image_file(inp, codec.max_pixels), {}
        else:
            image, metadata = read_image_file(inp, codec.max_pixels, with_metadata=True)
        if warn and str(inp) != STDIO:
            from iwave.image_metadata import not_kept
            for what in not_kept(inp, stripped=strip):
                print(f"iwave: warning: {inp}: {what}", file=sys.stderr)
        data = codec.compress(image, step=step, quality=quality, bpp=bpp, metadata=metadata,
                              effort=effort, progressive=progressive)
        target.commit(data)
    return image, data


def read_image_file(path, max_pixels=None, with_metadata=False):
    """read_image, also of an image on standard input (its format from its
    content, as always); with_metadata: (image, its ICC profile, EXIF and
    XMP as iwave.metadata's dict)."""
    from iwave.image_metadata import read_image_metadata
    from iwave.imageio import read_image

    def read(p):
        image = read_image(p, max_pixels)
        return (image, read_image_metadata(p)) if with_metadata else image
    if str(path) != STDIO:
        return read(path)
    data = read_bytes(STDIO)
    with tempfile.TemporaryDirectory() as folder:
        spooled = Path(folder) / "stdin"
        spooled.write_bytes(data)
        try:
            return read(spooled)
        except IWaveError as e:
            raise IWaveError(str(e).replace(str(spooled), "standard input")) from None


def decompress_file(codec, inp, out, fmt=None, scale=1):
    """Decode one .iwv file (at `scale`, 1 or a preview's 1/2, 1/4, ...) to
    an image file in the format its extension names (PNG, TIFF, PPM/PGM), or
    `fmt`, with the file's metadata (a warning on stderr names what the
    format cannot hold). Returns the image."""
    from iwave.bitstream import read_metadata
    from iwave.image_metadata import dropped
    from iwave.imageio import encode_image, output_format
    fmt = fmt or output_format(out)
    with output(out) as target:
        data = read_bytes(inp)
        image = codec.decompress(data, scale=scale)
        metadata = read_metadata(data)
        lost = dropped(fmt, metadata)
        if lost:
            print(f"iwave: warning: {'standard output' if str(out) == STDIO else out}: dropped "
                  f"{', '.join(lost)}, which a {'PPM/PGM' if fmt == 'PNM' else fmt} file cannot hold",
                  file=sys.stderr)
        target.commit(encode_image(image, fmt, metadata))
    return image
