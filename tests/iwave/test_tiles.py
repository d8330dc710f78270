"""Tiles: each is coded on its own, so the order they are decoded in, the
number of processes coding them and the decoder's own tile setting must not
change a single pixel."""
import random

import numpy as np
import pytest

from iwave import bitstream
from iwave.codec import Codec
from iwave.evaluate import psnr
from tests.conftest import photo_like


@pytest.fixture(scope="module")
def tiled(model):
    return Codec(model, tile=64)


@pytest.fixture(scope="module")
def image():
    return photo_like(150, 170, 3, seed=5)      # 3 x 3 tiles of 64, ragged edges


@pytest.mark.parametrize("step", [None, 8.0])
def test_tile_order_does_not_matter(tiled, image, step):
    data = tiled.compress(image, step=step)
    header, _ = bitstream.read(data)
    assert header.tile == 64 and len(header.tiles()) == 9
    in_order = tiled.decompress(data)
    shuffled = list(range(9))
    random.Random(1).shuffle(shuffled)
    for order in (shuffled, shuffled[::-1]):
        np.testing.assert_array_equal(tiled.decompress(data, _order=order), in_order)
    if step is None:
        np.testing.assert_array_equal(in_order, image)


def test_tile_size_comes_from_the_file(tiled, codec, image):
    """A decoder set up with another tile size still reads the file's own."""
    data = tiled.compress(image, step=4.0)
    np.testing.assert_array_equal(codec.decompress(data), tiled.decompress(data))


@pytest.mark.parametrize("step", [None, 8.0])
def test_parallel_tiles_give_the_same_bytes_and_pixels(model, tiled, image, step):
    two = Codec(model, tile=64, jobs=2)
    data = tiled.compress(image, step=step)
    assert two.compress(image, step=step) == data
    np.testing.assert_array_equal(two.decompress(data), tiled.decompress(data))


def test_lossy_seams_cost_almost_nothing(model, tiled, image):
    """Overlapping lossy tiles: the tiled image is as close to the original as
    the untiled one (the Kodak figure comes from `python -m iwave.tilecheck`)."""
    whole = Codec(model, tile=1024)
    step = 8.0

    def quality(codec):
        return psnr(codec.decompress(codec.compress(image, step=step)), image)

    assert abs(quality(tiled) - quality(whole)) < 0.1
