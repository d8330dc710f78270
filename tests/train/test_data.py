"""Which images train: the held-out split, then the config's file-name patterns."""
from pathlib import Path

import pytest
from PIL import Image

from iwave.train.data import CropDataset, list_images
from tests.conftest import photo_like


@pytest.fixture
def folder(tmp_path):
    for i, name in enumerate(["a1", "a2", "b1", "a3", "b2", "b3", "c1"]):
        Image.fromarray(photo_like(40, 40, 3, seed=i)).save(tmp_path / f"{name}.png")
    return tmp_path


def names(files):
    return [Path(f).name for f in files]


def test_patterns_choose_training_images_after_the_held_out_split(folder):
    assert names(list_images(folder, "val", 3)) == ["a1.png", "b1.png", "c1.png"]
    assert names(list_images(folder, "train", 3)) == ["a2.png", "a3.png", "b2.png", "b3.png"]
    assert names(list_images(folder, "train", 3, ["b*"])) == ["b2.png", "b3.png"]
    assert names(list_images(folder, "train", 3, ["a*", "b3.png"])) == ["a2.png", "a3.png", "b3.png"]
    # a held-out image matching a pattern stays held out
    assert names(list_images(folder, "train", 3, ["c*", "b*"])) == ["b2.png", "b3.png"]
    assert len(CropDataset(folder, 32, "train", 3, ["a*"]).images) == 2


def test_patterns_that_match_nothing_are_a_clear_error(folder):
    with pytest.raises(SystemExit, match="matches z"):
        list_images(folder, "train", 3, ["z*"])


def test_a_models_card_names_the_images_it_trained_on():
    from iwave.train.config import DEFAULT_CONFIG_PATH, load_config
    from iwave.train.export import card_markdown
    card = {"data": "DATA", "validation": "held out", "steps": 1, "wall_seconds": 60, "machine": "m",
            "val_bpsp_lossless": None, "command": "c"}
    rows = lambda cfg: [r for r in card_markdown("m", {**card, "config": cfg}).splitlines()  # noqa: E731
                        if r.startswith("| training data")]
    everything = load_config(DEFAULT_CONFIG_PATH)
    assert rows(everything) == ["| training data | `DATA` (random 128 px crops with flips) |"]
    subset = load_config(DEFAULT_CONFIG_PATH, ['train_include=["a*", "b*"]'])
    assert rows(subset) == ["| training data | `DATA`, the files matching `a*`, `b*` (random 128 px crops "
                            "with flips) |"]
