"""Acceptance: every Kodak image round-trips exactly through the CLI (files in,
files out). Skipped where ../shared/data/kodak is absent (a user's clone)."""
import numpy as np
import pytest

from iwave.cli import main
from iwave.imageio import read_image
from tests.conftest import KODAK

pytestmark = pytest.mark.skipif(not KODAK.is_dir(), reason="Kodak images not available")


def test_all_kodak_images_roundtrip_exactly_through_the_cli(tmp_path):
    images = sorted(KODAK.glob("*.png"))
    assert len(images) == 24
    for p in images:
        assert main(["compress", str(p), "-o", str(tmp_path / "k.iwv"), "--force"]) == 0
        assert main(["decompress", str(tmp_path / "k.iwv"), "-o", str(tmp_path / "k.png"), "--force"]) == 0
        np.testing.assert_array_equal(read_image(tmp_path / "k.png"), read_image(p), err_msg=p.name)
