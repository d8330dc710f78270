"""Training configs: every shipped or experimental config resolves to exactly
the settings it had before configs could name a base (frozen in
tests/train/expected/configs.json, with the defaults training then applied);
unknown keys are errors; bases merge."""
import json

import pytest

from iwave.train.config import CONFIGS, ConfigError, TrainConfig, load_config
from tests.conftest import ROOT

EXPECTED = json.loads((ROOT / "tests" / "train" / "expected" / "configs.json").read_text())


def test_every_config_resolves_to_its_frozen_settings():
    names = sorted(p.stem for p in CONFIGS.glob("*.json"))
    assert names == sorted(EXPECTED)
    for name in names:
        assert load_config(CONFIGS / f"{name}.json") == EXPECTED[name], name


def test_defaults_live_in_one_place():
    defaults = load_config(CONFIGS / "default.json")
    assert {k: v for k, v in defaults.items() if k != "model"} == {
        k: v for k, v in vars(TrainConfig()).items() if k != "model"} | {
        "denoiser_lr": defaults["lr"], "denoiser_step_range": defaults["step_range"]}


def test_a_base_is_merged_under_its_config(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"steps": 10, "model": {"levels": 5, "lossy": {"x": 1}}}))
    (tmp_path / "b.json").write_text(json.dumps({"base": "a", "lr": 0.5, "model": {"lossy": {"y": 2}}}))
    cfg = load_config(tmp_path / "b.json", ["model.ctx_width=11"])
    assert cfg["steps"] == 10 and cfg["lr"] == 0.5 and cfg["denoiser_lr"] == 0.5
    assert cfg["model"] == {"levels": 5, "lossy": {"x": 1, "y": 2}, "ctx_width": 11}


@pytest.mark.parametrize("files,match", [
    ({"c.json": {"stpes": 10}}, "unknown setting stpes"),
    ({"c.json": {"base": "d"}, "d.json": {"base": "c"}}, "loop"),
    ({"c.json": {"base": "missing"}}, "no such file"),
    ({"c.json": [1, 2]}, "JSON object"),
    ({"c.json": {"train_include": [1]}}, "train_include must be"),
    ({"c.json": {"train_include": []}}, "train_include must be")])
def test_bad_configs_are_clear_errors(tmp_path, files, match):
    for name, content in files.items():
        (tmp_path / name).write_text(json.dumps(content))
    with pytest.raises(ConfigError, match=match):
        load_config(tmp_path / "c.json")
    with pytest.raises(ConfigError, match="unknown setting"):
        load_config(CONFIGS / "default.json", ["learning_rate=0.1"])


def test_one_training_pattern_may_be_given_alone():
    cfg = load_config(CONFIGS / "default.json", ["train_include=bsds300*"])
    assert cfg["train_include"] == ["bsds300*"]
    cfg = load_config(CONFIGS / "default.json", ['train_include=["a*", "b*"]'])
    assert cfg["train_include"] == ["a*", "b*"]
