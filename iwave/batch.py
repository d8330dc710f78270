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

EXTENSION = ".iwv"
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


def named(inp, error):
    """An error's message, led by the input's name unless it names it already
    (a batch's errors must say which file each is about)."""
    text, name = str(error), shown(inp, "input")
    return text if name in text else f"{name}: {text}"


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
            print(f"iwave: error: {named(inp, e)}", file=sys.stderr)
            failed.append(inp)
            continue
        status(f"{shown(inp, 'input')} -> {shown(out, 'output')}: {line}, "
               f"{time.perf_counter() - t:.2f} s", detail)
    if failed:
        raise IWaveError(f"{len(failed)} of {len(pairs)} files failed (listed above)")


# ------------------------------------------------------------------ the commands
def codec_for(args):
    from iwave.codec import DEFAULT_TILE, Codec
    return Codec(args.model, max_pixels=args.max_pixels, tile=getattr(args, "tile", DEFAULT_TILE),
                 jobs=getattr(args, "jobs", 1), threads=args.threads)


def _folder(args, kind, options=None):
    from iwave import folders
    report = folders.run(kind, args.input[0], args.output, args.model, args.max_pixels, args.jobs,
                         args.force, progress=not args.quiet, options=options,
                         tile=getattr(args, "tile", None), threads=args.threads)
    if not args.quiet or report.failed:
        print(report.summary("compressed" if kind == "compress" else "decompressed"), file=sys.stderr)
    if report.failed:
        raise IWaveError(f"{len(report.failed)} file(s) failed (listed above)")


def _inputs(args, kind, options=None):
    """The command's (input, output) pairs, or None when a folder was coded."""
    args.input = expand(args.input)
    folders = [i for i in args.input if Path(i).is_dir()]
    if folders:
        if len(args.input) > 1:
            raise IWaveError(f"a folder ({folders[0]}) must be the only input")
        return _folder(args, kind, options)
    if kind == "compress":
        return output_names(args.input, args.output, lambda p: p.with_suffix(EXTENSION),
                                  lambda p, folder: folder / (p.stem + EXTENSION))
    ext = FORMAT_EXTENSIONS[args.format or "PNG"]
    return output_names(args.input, args.output, lambda p: p.with_name(p.name + ext),
                              lambda p, folder: folder / (p.stem + ext))


def cmd_compress(args):
    pairs = _inputs(args, "compress", {"step": args.step, "quality": args.quality, "bpp": args.bpp,
                                       "strip": args.strip, "effort": args.effort,
                                       "progressive": args.progressive})
    if pairs is None:
        return
    from iwave.codec import is_lossy
    from iwave.files import check_writable, compress_file
    mode = "lossy" if is_lossy(args.step, args.quality, args.bpp) else "lossless"
    codec = []

    def one(inp, out):
        check_output(inp, out, args.force)
        check_writable(out)              # before loading models and encoding
        if not codec:
            codec.append(codec_for(args))
            model = codec[0].model_for(mode == "lossy")
            if not model.trained_for(lossy=mode == "lossy") and not args.quiet:
                print(f"note: model {model.name} was not trained on {mode} files; they code "
                      f"larger than with the default model", file=sys.stderr)
        image, data = compress_file(codec[0], inp, out, args.step, args.quality, args.bpp,
                                    strip=args.strip, effort=args.effort, progressive=args.progressive)
        pixels = image.shape[0] * image.shape[1]
        channels = 1 if image.ndim == 2 else image.shape[2]
        model = codec[0].model_for(mode == "lossy")
        return (f"{len(data)} bytes, {len(data) * 8 / pixels:.4f} bpp "
                f"({len(data) * 8 / pixels / channels:.4f} bpsp), {mode}, effort {args.effort}",
                f"{image.shape[1]}x{image.shape[0]}, {channels} channel(s), {image.dtype}; model "
                f"{model.name} {model.identifier()}")
    run(pairs, one, Status(args.quiet, args.verbose))


def cmd_decompress(args):
    fmt = {"png": "PNG", "tiff": "TIFF", "pnm": "PNM"}.get(args.format)
    args.format = fmt
    scale = f"1/{1 << args.scale}"
    pairs = _inputs(args, "decompress", {"scale": scale})
    if pairs is None:
        return
    from iwave.files import STDIO, check_writable, decompress_file
    from iwave.imageio import output_format
    for _, out in pairs:             # an extension we cannot write: refused before any work
        named = fmt if out == STDIO else output_format(out)
        if fmt and named != fmt:
            raise IWaveError(f"--format {args.format.lower()} does not match the output name {out}")
    codec = []

    def one(inp, out):
        check_output(inp, out, args.force)
        check_writable(out)
        codec[:] = codec or [codec_for(args)]
        image = decompress_file(codec[0], inp, out, fmt=fmt or (None if out != STDIO else "PNG"),
                                scale=scale)
        channels = 1 if image.ndim == 2 else image.shape[2]
        return (f"{image.shape[1]}x{image.shape[0]}, {channels} channel(s), {image.dtype}"
                + (f", preview at scale {scale}" if args.scale else ""), None)
    run(pairs, one, Status(args.quiet, args.verbose))
