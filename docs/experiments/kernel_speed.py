"""The compiled denoiser and post-filter differences against torch's
operations on the same Kodak-sized planes, alternating in one process, one
thread (this machine is shared: only the ratio means something).

    python docs/experiments/kernel_speed.py [--rounds 5]"""
import argparse
import statistics
import time

import torch

from iwave import postfilter
from iwave.entropy.exact import in_tensor_operations
from iwave.model import IWaveModel, resolve_model_paths


def torch_differences(x, taps, weights):
    """The post filter's weighted differences in torch's operations (what
    postfilter.differences computed before it was compiled)."""
    h, w, r = *x.shape, postfilter.RADIUS
    p = torch.nn.functional.pad(x[None, None], (r,) * 4, mode="replicate")[0, 0]
    at = lambda dy, dx: p[r + dy:r + dy + h, r + dx:r + dx + w]      # noqa: E731
    return torch.tensor(weights)[:, None, None] * torch.stack([at(dy, dx) + at(-dy, -dx) - 2 * x
                                                               for dy, dx in taps])


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(1)
    denoiser = IWaveModel.load(resolve_model_paths()["lossy"]).denoiser
    g = torch.Generator().manual_seed(0)
    ycc = torch.randn((1, 3, 512, 768), generator=g, dtype=torch.float64) * 40 + 128
    plane = ycc[0, 0]
    taps, weights = postfilter.SHAPES[1], [k / postfilter.PRECISION for k in range(-6, 6)]
    times = {k: [] for k in ("denoiser compiled", "denoiser torch", "differences compiled", "differences torch")}
    for _ in range(args.rounds):
        times["denoiser compiled"].append(timed(lambda: denoiser(ycc, 40.0)))
        with in_tensor_operations():
            times["denoiser torch"].append(timed(lambda: denoiser(ycc, 40.0)))
        times["differences compiled"].append(timed(lambda: postfilter.differences(plane, taps, weights)))
        times["differences torch"].append(timed(lambda: torch_differences(plane, taps, weights)))
    med = {k: statistics.median(v) for k, v in times.items()}
    for what in ("denoiser", "differences"):
        print(f"{what}: compiled {med[what + ' compiled']:.4f} s, torch {med[what + ' torch']:.4f} s, "
              f"torch / compiled {med[what + ' torch'] / med[what + ' compiled']:.1f}x (median of "
              f"{args.rounds}, one thread, 768x512)")


if __name__ == "__main__":
    main()
