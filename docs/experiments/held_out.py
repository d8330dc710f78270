"""The command line the held-out experiments share: a folder of held-out
images (never Kodak), the lossy steps to measure, one thread (the numbers
are sizes and pixels, not timings; one thread keeps a run from collapsing
beside other work)."""
import argparse

import torch


def arguments(doc, default_steps, steps_help="lossy steps, comma-separated"):
    """(folder, steps as strings) from the command line of a script whose
    docstring is `doc`."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("folder", help="held-out images (PNG)")
    ap.add_argument("--steps", default=default_steps, help=steps_help)
    args = ap.parse_args()
    torch.set_num_threads(1)
    return args.folder, args.steps.split(",")
