"""The `iwave` command: compress, decompress, info, eval, demo."""
import argparse
import json
import os
import signal
import sys
from pathlib import Path

from iwave import __version__, batch
from iwave.effort import DEFAULT_EFFORT
from iwave.errors import IWaveError

def _positive_float(name):
    def parse(s):
        try:
            v = float(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, not '{s}'") from None
        if not v > 0 or v != v or v == float("inf"):
            raise argparse.ArgumentTypeError(f"{name} must be a positive number")
        return v
    return parse


def _quality(s):
    """--quality: a number from 1 to 100."""
    v = _positive_float("quality")(s)
    if not 1 <= v <= 100:
        raise argparse.ArgumentTypeError(f"quality must be between 1 and 100, not {s}")
    return v


def _pixel_limit(s):
    """--max-pixels: a whole number, at least 1."""
    if not s.strip().isdigit() or int(s) < 1:
        raise argparse.ArgumentTypeError(f"max-pixels must be a whole number of pixels, at least 1, "
                                         f"not '{s}'")
    return int(s)


def _effort(s):
    """--effort: a whole number 1-9 (iwave.effort, torch-free)."""
    from iwave.effort import MAX_EFFORT, MIN_EFFORT
    if not s.strip().isdigit() or not MIN_EFFORT <= int(s) <= MAX_EFFORT:
        raise argparse.ArgumentTypeError(f"effort must be a whole number from {MIN_EFFORT} to "
                                         f"{MAX_EFFORT}, not '{s}'")
    return int(s)


def _scale(s):
    """--scale: 1, 1/2, 1/4, ... or 0.5, 0.25, ... -> the level k of 1/2^k."""
    from iwave.preview import scale_level
    try:
        return scale_level(s)
    except IWaveError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def cmd_info(args):
    result = {}
    if args.model and not (args.card or args.complexity):
        from iwave.model import resolve_model_path
        resolve_model_path(args.model)       # a wrong --model is an error, even where unused
    if args.file:
        from iwave import bitstream
        from iwave.files import read_bytes
        data = read_bytes(args.file)
        header, chunks = bitstream.read(data, args.max_pixels)
        result = header.to_dict()
        from iwave.file_info import lossless_tiles
        from iwave.model import find_shipped_model
        from iwave.shipped import name_of
        result["model"] = name_of(header.weights_id) or "not one shipped with this iwave"
        if header.mode == bitstream.MODE_LOSSLESS and \
                (model := find_shipped_model(header.weights_id)) is not None:   # palettes, YCbCr by tile
            result.update(lossless_tiles(model, header, chunks))
        if result["effort"] is None and not args.json:
            result["effort"] = "not recorded (files before version 12)"
        if header.metadata:
            from iwave.metadata import describe
            result["metadata"] = describe(header.metadata)
        result["file_bytes"] = len(data)
        result["bpp"] = len(data) * 8 / (header.width * header.height)
    if args.card:
        codec = batch.codec_for(args)
        result["models"] = {mode: dict(name=m.name, id=m.identifier(), card=m.card)
                            for mode, m in (("lossless", codec.model_for(False)),
                                            ("lossy", codec.model_for(True)))}
        print(json.dumps(result, indent=2))
        return
    if args.complexity:
        from iwave.complexity import macs_per_pixel
        codec = batch.codec_for(args)
        result["complexity_mac_per_pixel"] = {}
        for mode in ("lossless", "lossy"):
            model = codec.model_for(mode == "lossy")
            result["complexity_mac_per_pixel"][mode] = dict(
                model=f"{model.name} {model.identifier()}" if model.name else model.identifier(),
                trained_for_mode=model.trained_for(lossy=mode == "lossy"),
                **macs_per_pixel(model, lossy=mode == "lossy"))
    if not result:
        raise IWaveError("give a FILE, --complexity, --card, or a combination")
    if args.json:
        print(json.dumps(result, indent=2))
        return
    complexity = result.pop("complexity_mac_per_pixel", {})
    for k, v in result.items():
        if isinstance(v, dict):
            print(f"{k}:")
            for k2, v2 in v.items():
                print(f"  {k2}: " + (", ".join(f"{a} {b:.0f}" for a, b in v2.items())
                                     if isinstance(v2, dict) else f"{v2}"))
        else:
            print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    for mode, c in complexity.items():
        untrained = "" if c["trained_for_mode"] else f"; not trained on {mode} files"
        print(f"MAC per pixel, {mode} files (model {c['model']}, {c['image']}{untrained}):")
        for part in [p for p in ("encoder", "decoder", "decoder_pixel_by_pixel") if p in c]:
            print(f"  {part.replace('_', ' ')}: " + ", ".join(f"{a} {b:.0f}" for a, b in c[part].items()))


def cmd_eval(args):
    from iwave.evaluate import evaluate_folder
    report = evaluate_folder(batch.codec_for(args), args.folder, step=args.step, quality=args.quality,
                             show_progress=not args.json)
    print(json.dumps(report, indent=2) if args.json else report["summary_text"])
    for name, why in report["unsupported"] if not args.json else ():
        print(f"  not measured: {name}: {why}")
    if report["mismatches"]:
        raise IWaveError(f"{len(report['mismatches'])} image(s) did not round-trip exactly")


def cmd_demo(args):
    from iwave.evaluate import demo
    demo(batch.codec_for(args), args.image, args.step)


def cmd_bench(args):
    from iwave.bench import run, write
    models = None
    if args.model:
        from iwave.model import resolve_model_path
        path = resolve_model_path(args.model)
        models = {path.stem: path}
    codecs = [c.strip() for c in args.codecs.split(",") if c.strip()] if args.codecs else None
    command = "iwave bench " + " ".join(sys.argv[2:]) if args.command_line is None else args.command_line
    res = run(args.data, codecs, args.lossless, args.lossy, args.points, args.jobs,
              args.published or (), tuple(args.published_match.split(",")), progress=True,
              models=models, command=command,
              cache=Path(args.out) / "measurements.jsonl", reuse=not args.fresh)
    files = write(res, args.out)
    print(f"wrote {', '.join(str(f) for f in files)}")
    invalid = [e["name"] for e in res["lossless"].values() if not e["valid"]]
    if invalid:
        raise IWaveError(f"lossless results invalid for: {', '.join(invalid)} (see results.md)")


class _Parser(argparse.ArgumentParser):
    """Usage errors as one plain line (and exit status 2), like every other error."""

    def error(self, message):
        print(f"iwave: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(2)


def build_parser():
    p = _Parser(prog="iwave", description="Learned wavelet-lifting image codec: "
                                "lossless by default, lossy with --step, --quality or --bpp.")
    p.add_argument("--version", action="version", version=f"iwave {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def common(sp, parallel=False):
        sp.add_argument("--model", help="model name in weights/ or path to a .npz, used for "
                        "every file (default: $IWAVE_MODEL, else iwave-lossless for lossless "
                        "files and iwave-lossy for lossy ones, or iwave-default where one is "
                        "not shipped); files decode with the shipped model that made them")
        sp.add_argument("--max-pixels", type=_pixel_limit, default=200_000_000, metavar="N",
                        help="refuse images larger than N pixels (default 200,000,000)")
        sp.add_argument("--threads", type=int, metavar="N",
                        help="threads for the work" + (", shared by --jobs processes" if parallel
                                                          else "") + " (default: $IWAVE_THREADS, "
                             "else 1: more threads collapse when another program holds a core"
                             + ("; --jobs parallelises tiles and files instead)" if parallel else ")"))

    def chatter(sp):
        sp.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
        sp.add_argument("-v", "--verbose", action="store_true",
                        help="print more about each file (size, model)")

    def jobs(sp):
        sp.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="parallel processes: files of a folder, or tiles of one large "
                             "image (default 1)")

    c = sub.add_parser("compress", help="compress an image to .iwv",
                       description="Compress an image (PNG, PPM/PGM, TIFF, BMP, JPEG; 8 or 16 bit; "
                       "grey, RGB or RGBA). Lossless unless a rate option is given.")
    c.add_argument("input", nargs="+", help="image files (or glob patterns), '-' for standard input, "
                   "or one folder (its images, subfolders included)")
    c.add_argument("-o", "--output", help="output file, '-' for standard output, or a folder "
                   "(default: each INPUT with .iwv beside it); for a folder input, the output folder "
                   "(required), where files already there are skipped")
    rate = c.add_mutually_exclusive_group()
    rate.add_argument("--step", type=_positive_float("step"),
                      help="lossy: quantisation step (0.1 and up; larger = smaller file)")
    rate.add_argument("--quality", type=_quality,
                      help="quality 1-100: 100 is lossless; below it lossy, 90 = step 2 and every "
                           "10 points down doubles the step (50 = step 32; the README lists bpp and "
                           "PSNR per quality on Kodak)")
    rate.add_argument("--bpp", type=_positive_float("bpp"),
                      help="lossy: target bits per pixel; finds a step whose file is not above "
                           "it, usually within 3%% of it (about two encodes)")
    c.add_argument("-e", "--effort", type=_effort, default=DEFAULT_EFFORT, metavar="N",
                   help="encoder effort 1-9 (default 7): higher searches longer for a smaller "
                        "file; decoding speed is the same at every effort")
    c.add_argument("-f", "--force", action="store_true", help="overwrite an existing output")
    c.add_argument("--progressive", action="store_true",
                   help="lossless: code nothing pixel by pixel, so that a preview (decompress "
                        "--scale) reads the coarse subbands alone; files some 3-8%% larger on photos")
    c.add_argument("--strip", action="store_true",
                   help="leave out the input's ICC profile, EXIF and XMP (kept by default; "
                        "decompress writes them back into PNG and TIFF)")
    c.add_argument("--tile", type=int, default=1024, metavar="N",
                   help="code the image in N x N tiles, 64-4096 (default 1024); memory grows "
                        "with N^2, and smaller tiles cost a little more size")
    common(c, parallel=True)
    jobs(c)
    chatter(c)
    c.set_defaults(func=batch.cmd_compress)

    d = sub.add_parser("decompress", help="decompress .iwv to PNG, TIFF or PPM/PGM (or a preview)",
                       description="Decode an .iwv file to PNG, TIFF or PPM/PGM, by the output's "
                       "extension (16-bit samples stay 16-bit; PPM/PGM has no alpha).")
    d.add_argument("input", nargs="+", help=".iwv files (or glob patterns), '-' for standard input, "
                   "or one folder of them (subfolders included)")
    d.add_argument("-o", "--output", help="output .png, .tif/.tiff or .ppm/.pgm, '-' for standard "
                   "output, or a folder (default: INPUT.png beside each input, e.g. photo.iwv.png, so "
                   "the original photo.png is never replaced; inside a folder, photo.png); for a "
                   "folder input, the output folder (required), where files already there are skipped")
    d.add_argument("--format", choices=("png", "tiff", "pnm"),
                   help="format for standard output and default names (default: png; a named output's "
                        "extension decides otherwise)")
    d.add_argument("--scale", type=_scale, default=0, metavar="S",
                   help="decode a preview at scale S = 1/2, 1/4, 1/8, ... (or 0.5, 0.25, ...): "
                        "ceil(H*S) x ceil(W*S) pixels from the coarse subbands only, much faster "
                        "(default 1: the whole image)")
    d.add_argument("-f", "--force", action="store_true", help="overwrite an existing output")
    common(d, parallel=True)
    jobs(d)
    chatter(d)
    d.set_defaults(func=batch.cmd_decompress)

    i = sub.add_parser("info", help="show an .iwv header and/or the model's complexity",
                       description="Show what an .iwv file holds (size, mode, step, effort, model, "
                       "metadata), the models' multiply-accumulates per pixel, or their cards.")
    i.add_argument("file", nargs="?", help=".iwv file")
    i.add_argument("--json", action="store_true", help="print JSON")
    i.add_argument("--complexity", action="store_true",
                   help="print encoder/decoder multiply-accumulates per pixel (768x512 RGB)")
    i.add_argument("--card", action="store_true",
                   help="print the models' cards as JSON: training data, steps, command, the full "
                        "training config and validation results, as stored in each model file")
    common(i)
    i.set_defaults(func=cmd_info)

    e = sub.add_parser("eval", help="round-trip every image of a folder and report rates",
                       description="Compress and decompress every image in FOLDER through files, "
                       "verify lossless round trips, and report bpp, bpsp, PSNR and timings.")
    e.add_argument("folder", help="folder of images (subfolders included)")
    rate = e.add_mutually_exclusive_group()
    rate.add_argument("--step", type=_positive_float("step"), help="lossy step (default lossless)")
    rate.add_argument("--quality", type=_quality,
                      help="quality 1-100 (100 = lossless; see compress --help)")
    e.add_argument("--json", action="store_true", help="print the full report as JSON")
    common(e)
    e.set_defaults(func=cmd_eval)

    m = sub.add_parser("demo", help="compress the shipped sample losslessly and lossily, verify, report",
                       description="Compress the sample image shipped with iwave (or --image) "
                       "losslessly and at --step, check the lossless decode sample for sample, "
                       "and report sizes, PSNR and times.")
    m.add_argument("--image", help="image to use instead of the shipped sample")
    m.add_argument("--step", type=_positive_float("step"), default=8.0, help="lossy step (default 8)")
    common(m)
    m.set_defaults(func=cmd_demo)

    b = sub.add_parser("bench", help="compare iwave with classic codecs on a folder: tables, BD-rates, plots",
                       description="Run iwave (every shipped model, or --model) and the classic "
                       "codecs on every 8-bit RGB image of DATA_DIR (or, lossless only, every "
                       "16-bit greyscale one). Lossless decodes are checked "
                       "pixel for pixel; lossy codecs are swept over settings covering about "
                       "0.1-2 bpp. Writes results.json, results.md, rd-psnr.png, rd-msssim.png "
                       "and lossless.png to --out.")
    b.add_argument("data", metavar="DATA_DIR", help="folder of images")
    b.add_argument("--out", default="bench-results", help="output folder (default: bench-results)")
    b.add_argument("--codecs", metavar="LIST",
                   help="comma-separated codec keys or families, e.g. iwave,jpeg2000,jxl,heic "
                        "(default: all; families: iwave, png, jpegls, jpeg2000, webp, jxl, avif, "
                        "jpeg, heic)")
    b.add_argument("--lossless", action=argparse.BooleanOptionalAction, default=True,
                   help="run the lossless comparison (default: yes)")
    b.add_argument("--lossy", action=argparse.BooleanOptionalAction, default=True,
                   help="run the lossy comparison (default: yes)")
    b.add_argument("--points", type=int, default=8, metavar="N",
                   help="settings per lossy codec (default 8)")
    b.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="images coded in parallel processes (default 1: cleanest timings; "
                        "iwave then uses all cores' threads, classic codecs one thread)")
    b.add_argument("--published", action="append", metavar="PATH",
                   help="published result JSON (CompressAI format), or a folder of them; "
                        "repeatable; shown dashed and marked 'published'")
    b.add_argument("--published-match", default="vtm.json,bpg*.json", metavar="GLOBS",
                   help="which files of a --published folder to use (default: vtm.json,bpg*.json)")
    b.add_argument("--model", help="benchmark only this iwave model (name or .npz)")
    b.add_argument("--fresh", action="store_true",
                   help="measure everything again, recording the new measurements (default: reuse "
                        "measurements in OUT/measurements.jsonl made with the same codec version, "
                        "image and setting)")
    b.set_defaults(func=cmd_bench, command_line=None)
    return p


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that outputs in progress are
    discarded as for Ctrl-C (a killed process would leave its temporary)."""


def _terminate(signum, frame):
    raise Terminated


def _interrupt_in(e):
    """The interrupt behind an exception, if any: Ctrl-C or SIGTERM during a
    compiled (numba) function comes back as a SystemError whose context is
    the KeyboardInterrupt."""
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return e
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return None


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:               # not the main thread (a caller's thread): leave signals alone
        previous = None
    try:
        return _run(args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run(args):
    try:
        args.func(args)
    except IWaveError as e:
        print(f"iwave: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        return _interrupted(e)
    except BrokenPipeError:          # `iwave ... | head`: the reader has gone; nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except MemoryError:
        print("iwave: error: out of memory (try a smaller image)", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"iwave: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except Exception as e:   # a bug: one line unless IWAVE_DEBUG is set
        if (interrupt := _interrupt_in(e)) is not None:
            return _interrupted(interrupt)
        if os.environ.get("IWAVE_DEBUG"):
            raise
        print(f"iwave: internal error: {type(e).__name__}: {e} (set IWAVE_DEBUG=1 for details; "
              "please report it)", file=sys.stderr)
        return 70
    return 0


def _interrupted(e):
    terminated = isinstance(e, Terminated)
    print(f"iwave: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
    return 143 if terminated else 130


if __name__ == "__main__":
    sys.exit(main())
