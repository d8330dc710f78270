"""The files of one `iwave compress` or `iwave decompress` command line:
several inputs and globs, `-` for standard input or output, the name each
output gets, and one status line per file on stderr (standard output carries
only image data, so that pipes work).

Output names: `x.png` compresses to `x.iwv` beside it; `x.iwv` decompresses
to `x.iwv.png` beside it, so that the original `x.png` is never replaced, or
to `x.png` inside a folder given with -o. With several inputs -o names a
folder. A bad argument stops the command before any work; with several
files, one that fails is reported and the others carry on."""
import glob
import sys
import time
from pathlib import Path

from iwave.errors import IWaveError
from iwave.files import STDIO

FORMAT_EXTENSIONS = {"PNG": ".png", "TIFF": ".tif", "PNM": ".ppm"}


def expand(arguments):
    """The inputs named on the command line, glob patterns expanded (for
    shells that do not, and for quoted patterns)."""
    found = []
    for a in arguments:
        if a != STDIO and not Path(a).exists() and any(c in a for c in "*?["):
            matches = sorted(glob.glob(a, recursive=True))
            if not matches:
                raise IWaveError(f"no files match {a}")
            found += matches
        else:
            found.append(a)
    if STDIO in found and len(found) > 1:
        raise IWaveError("'-' (standard input) must be the only input")
    return found


def output_names(inputs, output, name_beside, name_inside):
    """(input, output) for each input; `name_beside(path)` and
    `name_inside(path, folder)` give the default names."""
    folder = Path(output) if output not in (None, STDIO) and Path(output).is_dir() else None
    if len(inputs) > 1:
        if output == STDIO:
            raise IWaveError("several inputs cannot all go to standard output")
        if output is not None and folder is None:
            raise IWaveError(f"with several inputs, -o must name an existing folder ({output} is not one)")
    [first] = inputs[:1]
    if len(inputs) == 1 and output is not None and folder is None:
        return [(first, output)]
    if first == STDIO:
        raise IWaveError("reading standard input: name the output with -o FILE, or -o - for standard output")
    pairs = [(i, name_inside(Path(i), folder) if folder else name_beside(Path(i))) for i in inputs]
    seen = {}
    for i, o in pairs:
        if o in seen:
            raise IWaveError(f"{i} and {seen[o]} would both be written to {o}; give them different names")
        seen[o] = i
    return pairs


def check_output(inp, out, force):
    """Refuse an output that would replace the input, or an existing file
    without --force, or one in a folder that does not exist."""
    if out == STDIO:
        return
    out = Path(out)
    if inp != STDIO and out.resolve() == Path(inp).resolve():
        raise IWaveError(f"output {out} would overwrite the input; choose another name with -o")
    if out.exists() and not force:
        raise IWaveError(f"{out} already exists (use --force to overwrite)")
    if not out.parent.exists():
        raise IWaveError(f"output folder {out.parent} does not exist")


def shown(path, stream):
    return f"standard {stream}" if str(path) == STDIO else str(path)


class Status:
    """Status lines on stderr: none with -q, more with -v."""

    def __init__(self, quiet=False, verbose=False):
        self.quiet, self.verbose = quiet, verbose

    def __call__(self, line, detail=None):
        if not self.quiet:
            print(line, file=sys.stderr)
            if self.verbose and detail:
                print(f"  {detail}", file=sys.stderr)


def run(pairs, code_one, status):
    """code_one(input, output) -> (status line, detail) for every pair;
    failures of single files in a batch are reported and counted."""
    failed = []
    for inp, out in pairs:
        t = time.perf_counter()
        try:
            line, detail = code_one(inp, out)
        except IWaveError as e:
            if len(pairs) == 1:
                raise
            print(f"iwave: error: {e}", file=sys.stderr)
            failed.append(inp)
            continue
        status(f"{shown(inp, 'input')} -> {shown(out, 'output')}: {line}, "
               f"{time.perf_counter() - t:.2f} s", detail)
    if failed:
        raise IWaveError(f"{len(failed)} of {len(pairs)} files failed (listed above)")
