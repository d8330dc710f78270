"""Lossless decode time of two iwave checkouts on the same images, in one
run: each checkout encodes the images (its own format) and times its own
decoder, one thread, the two alternating ROUNDS times, so that the ratio
comes from one run on one machine (issue 26 asks for it against the
version it was filed at).

    git worktree add /tmp/iwave-old 1506cf3
    python docs/experiments/decode_versions.py /tmp/iwave-old . ../shared/data/kodak \\
        --images kodim01,kodim03,kodim07,kodim12,kodim20,kodim23
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

# run inside each checkout: its own iwave, the same API since 0.9
CHILD = r"""
import json, sys, time, statistics
import numpy as np, torch
torch.set_num_threads(1)
from PIL import Image
import iwave
out = {}
for path in sys.argv[2:]:
    a = np.asarray(Image.open(path).convert("RGB"))
    data = iwave.compress(a)
    iwave.decompress(data)
    times = []
    for _ in range(int(sys.argv[1])):
        t = time.perf_counter()
        b = iwave.decompress(data)
        times.append(time.perf_counter() - t)
    assert np.array_equal(np.asarray(b), a), path
    out[path] = [statistics.median(times), len(data)]
print(json.dumps({"version": iwave.__version__, "images": out}))
"""


def run(tree, paths, reps):
    env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()), OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", CHILD, str(reps)] + paths, env=env, cwd=tree,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", help="checkout of the earlier iwave")
    ap.add_argument("after", help="checkout of the later iwave")
    ap.add_argument("folder", help="folder of 8-bit RGB PNGs")
    ap.add_argument("--images", required=True, help="comma-separated names without .png")
    ap.add_argument("--rounds", type=int, default=2, help="alternations of the two (default 2)")
    ap.add_argument("--reps", type=int, default=3, help="decodes per image per round (default 3)")
    args = ap.parse_args()
    paths = [str(Path(args.folder, f"{n}.png").resolve()) for n in args.images.split(",")]
    times = {"before": {p: [] for p in paths}, "after": {p: [] for p in paths}}
    sizes, versions = {}, {}
    for _ in range(args.rounds):
        for side in ("before", "after"):
            res = run(getattr(args, side), paths, args.reps)
            versions[side] = res["version"]
            for p, (t, n) in res["images"].items():
                times[side][p].append(t)
                sizes[side, p] = n
    print(f"decode, median of {args.rounds} rounds x {args.reps}, one thread: "
          f"before {versions['before']}, after {versions['after']}")
    ratios = []
    for p in paths:
        b, a = statistics.median(times["before"][p]), statistics.median(times["after"][p])
        ratios.append(a / b)
        print(f"{Path(p).stem:12s} {b * 1000:6.0f} ms {sizes['before', p]:8d} B -> "
              f"{a * 1000:6.0f} ms {sizes['after', p]:8d} B  x{a / b:.2f}")
    print(f"median ratio x{statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
