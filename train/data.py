"""Random crops with flips from a folder of images (8-bit RGB)."""

import fnmatch

import numpy as np
import torch
from PIL import Image

from iwave.files import list_images as image_files


def list_images(folder, part="all", holdout_every=0, include=None):
    """Sorted image files; with holdout_every=N, every Nth file is held out
    for validation (part="val") and the rest are for training (part="train").
    `include`, a list of file-name patterns (fnmatch), keeps only the files
    that match one of them, after the split, so the held-out files stay the
    same whatever subset trains."""
    files = image_files(folder, recursive=False)
    if not files:
        raise SystemExit(f"no images found in {folder}")
    if holdout_every and part != "all":
        keep = (lambda i: i % holdout_every == 0) if part == "val" else (lambda i: i % holdout_every)
        files = [f for i, f in enumerate(files) if keep(i)]
    if include:
        files = [f for f in files if any(fnmatch.fnmatch(f.name, p) for p in include)]
        if not files:
            raise SystemExit(f"no image in {folder} matches {', '.join(include)}")
    return files


def add_sample_options(parser, images):
    """--images and --holdout-every, for tools that code a sample of the training images."""
    parser.add_argument("--images", type=int, default=images,
                        help=f"how many training images (evenly spread; default {images})")
    parser.add_argument("--holdout-every", type=int, default=20,
                        help="every Nth image is held out, as training does (default 20)")


def training_sample(folder, images, holdout_every):
    """`images` training images of the folder (held-out ones skipped), evenly spread."""
    if images < 1:
        raise SystemExit("error: --images must be at least 1")
    files = list_images(folder, "train", holdout_every)
    return files[::max(1, len(files) // images)][:images]


class CropDataset:
    """Loads every image once (RGB uint8) and serves random crops."""

    def __init__(self, folder, crop, part="all", holdout_every=0, include=None):
        self.images = []
        for p in list_images(folder, part, holdout_every, include):
            a = np.asarray(Image.open(p).convert("RGB"))
            if min(a.shape[:2]) >= crop:
                self.images.append(a)
        if not self.images:
            raise SystemExit(f"no image in {folder} is at least {crop} px on each side")
        self.crop = crop

    def batch(self, rng: np.random.Generator, size):
        out = np.empty((size, self.crop, self.crop, 3), np.uint8)
        for i in range(size):
            a = self.images[rng.integers(len(self.images))]
            y = rng.integers(a.shape[0] - self.crop + 1)
            x = rng.integers(a.shape[1] - self.crop + 1)
            c = a[y:y + self.crop, x:x + self.crop]
            if rng.random() < 0.5:
                c = c[:, ::-1]
            if rng.random() < 0.5:
                c = c[::-1]
            out[i] = c
        return torch.from_numpy(out)

    def fixed_crops(self, size):
        """Deterministic centre crops for validation."""
        crops = []
        for a in self.images[:size]:
            y, x = (a.shape[0] - self.crop) // 2, (a.shape[1] - self.crop) // 2
            crops.append(a[y:y + self.crop, x:x + self.crop])
        return torch.from_numpy(np.stack(crops))
