"""python -m iwave.bench.profile IMAGE: where the time of one image's
lossless and lossy encode and decode goes (cProfile, warm, one process),
the functions that take most of it first. docs/speed.md quotes it."""
import argparse
import cProfile
import io
import pstats
import time


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m iwave.bench.profile", description=__doc__.split("\n\n")[0])
    p.add_argument("image", help="an image file")
    p.add_argument("--quality", type=float, default=60, help="quality of the lossy file (default 60)")
    p.add_argument("--threads", type=int, default=1, help="iwave's threads (default 1)")
    p.add_argument("--top", type=int, default=12, help="functions listed per task (default 12)")
    args = p.parse_args(argv)
    from iwave.codec import Codec
    from iwave.imageio import read_image
    codec = Codec(threads=args.threads)
    image = read_image(args.image)
    files = {"lossless": codec.compress(image), "lossy": codec.compress(image, quality=args.quality)}
    tasks = [(f"decode {mode}", lambda d=data: codec.decompress(d)) for mode, data in files.items()]
    tasks += [("encode lossless", lambda: codec.compress(image)),
              ("encode lossy", lambda: codec.compress(image, quality=args.quality))]
    for name, task in tasks:
        task()                                   # warm: numba compiled, caches filled
        profile = cProfile.Profile()
        t = time.perf_counter()
        profile.runcall(task)
        print(f"== {name}: {time.perf_counter() - t:.2f} s ({args.threads} thread(s))")
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.top)
        print("\n".join(line for line in out.getvalue().splitlines()
                        if line.strip() and "function calls" not in line and "Ordered" not in line
                        and "List reduced" not in line))


if __name__ == "__main__":
    main()
