"""A few training steps run, and resuming from a checkpoint gives exactly the
weights an uninterrupted run gives."""
import numpy as np
import pytest
import torch
from PIL import Image

from iwave.model import IWaveModel
from tests.conftest import photo_like
from iwave.train.config import DEFAULT_CONFIG_PATH, load_config
from iwave.train.loop import train


def tiny_config(steps):
    cfg = load_config(DEFAULT_CONFIG_PATH, [f"steps={steps}", "crop=32", "batch=2",
                                            "validate_every=2", "validation_images=2",
                                            "holdout_every=3", "checkpoint_minutes=0"])
    return cfg


def make_data(folder):
    folder.mkdir()
    for i in range(6):
        Image.fromarray(photo_like(40, 48, 3, seed=i)).save(folder / f"{i}.png")
    return folder


def test_resume_is_exact(tmp_path):
    data = make_data(tmp_path / "data")
    full, _ = train(tiny_config(4), data, tmp_path / "a", progress=False)
    train(tiny_config(4), data, tmp_path / "b", progress=False, stop_after=2)   # interrupted
    resumed, summary = train(tiny_config(4), data, tmp_path / "b", progress=False)
    assert summary["steps"] == 4
    for (k, v), (_, w) in zip(full.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(v, w), k
    log = (tmp_path / "b" / "log.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in log[1:]] == ["1", "2", "3", "4"]


def test_weight_average_resumes_exactly_and_is_what_the_run_returns(tmp_path):
    import pytest
    data = make_data(tmp_path / "data")
    cfg = tiny_config(4)
    cfg["ema"] = 0.5
    full, _ = train(cfg, data, tmp_path / "a", progress=False)
    train(cfg, data, tmp_path / "b", progress=False, stop_after=2)
    resumed, _ = train(cfg, data, tmp_path / "b", progress=False)
    ckpt = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=False)
    for k, p in full.named_parameters():
        assert torch.equal(p, resumed.state_dict()[k]), k
        assert torch.equal(p, ckpt["ema"][k]), k       # the run returns the average ...
    changed = [k for k, p in full.named_parameters() if not torch.equal(p, ckpt["model"][k])]
    assert changed                                      # ... not the raw weights it trains on
    cfg["ema"] = 1.5
    with pytest.raises(SystemExit, match="config ema"):
        train(cfg, data, tmp_path / "c", progress=False)


@pytest.mark.parametrize("mean_resolution", [1, 4])
def test_export_writes_loadable_model_with_card(tmp_path, mean_resolution):
    from iwave.train.export import export
    data = make_data(tmp_path / "data")
    cfg = tiny_config(1)
    cfg["model"]["mean_resolution"] = mean_resolution
    model, summary = train(cfg, data, tmp_path / "run", progress=False)
    export(model, summary, cfg, tmp_path / "m.npz", data, None, "python -m iwave.train ...")
    loaded = IWaveModel.load(tmp_path / "m.npz")
    assert loaded.identifier() == model.identifier()
    assert loaded.mean_resolution == mean_resolution
    assert (tmp_path / "m.md").exists()


def test_a_bad_mean_resolution_is_a_clear_error(tmp_path):
    cfg = tiny_config(1)
    cfg["model"]["mean_resolution"] = 3
    with pytest.raises(SystemExit, match="mean resolution"):
        train(cfg, make_data(tmp_path / "data"), tmp_path / "run", progress=False)


def test_two_process_torchrun_trains_and_resumes(tmp_path):
    """Data-parallel training through torchrun (gloo on CPU): two processes
    run, rank 0 checkpoints both ranks' data streams, and a second launch
    resumes from that checkpoint."""
    import subprocess
    import sys
    data = make_data(tmp_path / "data")
    out = tmp_path / "run"
    sets = ["crop=32", "batch=2", "validate_every=2", "validation_images=2", "holdout_every=3",
            "checkpoint_minutes=0"]

    def launch(steps):
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "iwave.train", str(data), "--out", str(out), "--set", f"steps={steps}"]
        for s in sets:
            cmd += ["--set", s]
        env = {**__import__("os").environ, "OMP_NUM_THREADS": "1"}
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        assert r.returncode == 0, r.stderr[-3000:]
        return r

    launch(2)
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    assert state["step"] == 2 and len(state["rngs"]) == 2 and state["rngs"][0] != state["rngs"][1]
    r = launch(3)
    assert "resumed from" in r.stdout
    log = (out / "log.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in log[1:]] == ["1", "2", "3"]
    assert (out / "log.rank1.csv").exists()


def test_stop_at_matches_an_interrupted_full_schedule(tmp_path):
    """--stop-at N gives the weights of step N of the full schedule, from
    scratch or when resumed from a later-interrupted run's checkpoint."""
    data = make_data(tmp_path / "data")
    cut, _ = train(tiny_config(4), data, tmp_path / "a", progress=False, stop_at=2)
    interrupted, _ = train(tiny_config(4), data, tmp_path / "b", progress=False, stop_after=2)
    for (k, v), (_, w) in zip(cut.state_dict().items(), interrupted.state_dict().items()):
        assert torch.equal(v, w), k
    again, summary = train(tiny_config(4), data, tmp_path / "a", progress=False, stop_at=2)
    assert summary["steps"] == 2


def test_unavailable_device_is_a_clear_error(tmp_path):
    import pytest
    data = make_data(tmp_path / "data")
    bad = "cuda" if not torch.cuda.is_available() else "tpu"
    with pytest.raises(SystemExit, match="not available"):
        train(tiny_config(1), data, tmp_path / "run", progress=False, device=bad)


def denoiser_config(steps, denoiser_steps):
    cfg = tiny_config(steps)
    cfg["model"]["denoiser"] = {"hidden": 4}
    cfg["denoiser_steps"] = denoiser_steps
    return cfg


def test_denoiser_stage_trains_only_the_denoiser_and_resumes_exactly(tmp_path):
    data = make_data(tmp_path / "data")
    context_only, _ = train(tiny_config(2), data, tmp_path / "c", progress=False)
    full, summary = train(denoiser_config(2, 3), data, tmp_path / "a", progress=False)
    assert summary["steps"] == 5 and summary["val_denoiser"] is not None
    for k, v in context_only.state_dict().items():      # stage 1 unchanged by adding stage 3
        assert torch.equal(v, full.state_dict()[k]), k
    assert full.denoiser.out.weight.abs().sum() > 0      # the denoiser learned something
    train(denoiser_config(2, 3), data, tmp_path / "b", progress=False, stop_after=3)
    resumed, _ = train(denoiser_config(2, 3), data, tmp_path / "b", progress=False)
    for (k, v), (_, w) in zip(full.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(v, w), k
    modes = [r.split(",")[3] for r in (tmp_path / "b" / "log.csv").read_text().splitlines()[1:]]
    assert modes[2:] == ["denoiser"] * 3


def test_a_run_resumes_only_from_the_model_it_started_from(tmp_path):
    """Replacing the init file (a newer model shipped under the same name)
    under an interrupted run is a clear error, not a card naming the wrong
    starting point."""
    from iwave.train.export import export
    data = make_data(tmp_path / "data")
    for name, steps in (("a", 1), ("b", 2)):
        model, summary = train(tiny_config(steps), data, tmp_path / name, progress=False)
        export(model, summary, tiny_config(steps), tmp_path / f"{name}.npz", data, None, "...")
    cfg = tiny_config(3)
    cfg["init"] = str(tmp_path / "init.npz")
    (tmp_path / "init.npz").write_bytes((tmp_path / "a.npz").read_bytes())
    train(cfg, data, tmp_path / "run", progress=False, stop_after=1)
    (tmp_path / "init.npz").write_bytes((tmp_path / "b.npz").read_bytes())
    with pytest.raises(SystemExit, match="started from model"):
        train(cfg, data, tmp_path / "run", progress=False)
    (tmp_path / "init.npz").write_bytes((tmp_path / "a.npz").read_bytes())
    _, summary = train(cfg, data, tmp_path / "run", progress=False)
    assert summary["steps"] == 3
    assert summary["init_id"] == IWaveModel.load(tmp_path / "a.npz").identifier()


def test_both_stages_can_learn_on_rate_distortion_rounded_indices(tmp_path):
    data = make_data(tmp_path / "data")
    cfg = denoiser_config(2, 2)
    cfg.update(lossy_fraction=1.0, rd_lambda=0.1, denoiser_rd_lambda=0.1)
    model, summary = train(cfg, data, tmp_path / "rd", progress=False)
    assert summary["val_lossy_bpsp"] is not None and summary["val_denoiser"] is not None
    assert model.denoiser.out.weight.abs().sum() > 0
    modes = [r.split(",")[3] for r in (tmp_path / "rd" / "log.csv").read_text().splitlines()[1:]]
    assert modes == ["lossy", "lossy", "denoiser", "denoiser"]
    from iwave.train.export import export
    export(model, summary, cfg, tmp_path / "rd.npz", data, None, "...")
    rows = [r for r in (tmp_path / "rd.md").read_text().splitlines()
            if r.startswith(("| validation, lossy", "| validation, denoiser"))]
    assert len(rows) == 2 and all("rate-distortion rounded, lambda 0.1" in r for r in rows)
    for key in ("rd_lambda", "denoiser_rd_lambda"):
        with pytest.raises(SystemExit, match=key):
            train(dict(cfg, **{key: -1.0}), data, tmp_path / "bad", progress=False)


def test_a_finished_run_can_be_extended_with_a_denoiser(tmp_path):
    data = make_data(tmp_path / "data")
    train(tiny_config(2), data, tmp_path / "run", progress=False)
    model, summary = train(denoiser_config(2, 2), data, tmp_path / "run", progress=False)
    assert summary["steps"] == 4 and model.denoiser is not None


def test_init_starts_from_a_model_file_and_a_new_denoiser_starts_afresh(tmp_path):
    import pytest
    from iwave.train.export import export
    data = make_data(tmp_path / "data")
    base, summary = train(denoiser_config(2, 1), data, tmp_path / "base", progress=False)
    export(base, summary, denoiser_config(2, 1), tmp_path / "base.npz", data, None, "...")
    cfg = denoiser_config(0, 0)
    cfg["init"] = str(tmp_path / "base.npz")
    same, summary = train(cfg, data, tmp_path / "same", progress=False)
    for k, v in base.state_dict().items():          # nothing to train: exactly the init
        assert torch.equal(v, same.state_dict()[k]), k
    export(same, summary, cfg, tmp_path / "same.npz", data, None, "...")
    assert "started from" in (tmp_path / "same.md").read_text()
    assert base.identifier() in (tmp_path / "same.md").read_text()
    cfg["model"]["denoiser"] = {"hidden": 6, "depth": 1}
    wider, _ = train(cfg, data, tmp_path / "wider", progress=False)
    assert torch.equal(wider.context.lstm.gates.weight, base.context.lstm.gates.weight)
    assert wider.denoiser.out.weight.abs().sum() == 0   # new shape: untrained, not copied
    cfg["init"] = str(tmp_path / "missing.npz")
    with pytest.raises(SystemExit, match="config init"):
        train(cfg, data, tmp_path / "missing", progress=False)


def test_denoiser_init_keeps_a_trained_denoiser_under_a_context_model_trained_afresh(tmp_path):
    from iwave.train.export import export
    data = make_data(tmp_path / "data")
    donor, summary = train(denoiser_config(1, 2), data, tmp_path / "donor", progress=False)
    export(donor, summary, denoiser_config(1, 2), tmp_path / "donor.npz", data, None, "...")
    cfg = denoiser_config(2, 0)
    cfg["seed"] = 5
    cfg["denoiser_init"] = str(tmp_path / "donor.npz")
    fresh, _ = train(cfg, data, tmp_path / "fresh", progress=False, stop_after=1)
    fresh, _ = train(cfg, data, tmp_path / "fresh", progress=False)     # resumed
    kept = {k: v for k, v in donor.state_dict().items() if k.startswith("denoiser.")}
    assert kept and all(torch.equal(v, fresh.state_dict()[k]) for k, v in kept.items())
    assert not torch.equal(fresh.context.lstm.gates.weight, donor.context.lstm.gates.weight)
    cfg["model"]["denoiser"] = {"hidden": 6}
    with pytest.raises(SystemExit, match="denoiser_init .* not the shape"):
        train(cfg, data, tmp_path / "other", progress=False)


def test_grow_denoiser_starts_a_larger_denoiser_from_the_inits(tmp_path):
    """Config grow_denoiser: the init's trained denoiser grown into the
    config's wider and deeper one, computing the same at step 0; without it
    the larger denoiser starts afresh (changing nothing: its last layer is zero)."""
    from iwave.train.export import export
    data = make_data(tmp_path / "data")
    small, summary = train(denoiser_config(1, 2), data, tmp_path / "small", progress=False)
    export(small, summary, denoiser_config(1, 2), tmp_path / "small.npz", data, None, "...")
    ycc = torch.rand((1, 3, 10, 12), generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 200
    with torch.no_grad():
        want = small.denoiser(ycc, 30.0)
    assert not torch.equal(want, ycc)
    for grow, expected in ((True, want), (False, ycc)):
        cfg = denoiser_config(0, 3)
        cfg.update(init=str(tmp_path / "small.npz"), grow_denoiser=grow)
        cfg["model"]["denoiser"] = {"hidden": 6, "depth": 1}
        big, _ = train(cfg, data, tmp_path / f"big-{grow}", progress=False, stop_after=0)
        assert big.denoiser.mix.out_channels == 6 and len(big.denoiser.blocks) == 1
        with torch.no_grad():
            assert torch.equal(big.denoiser(ycc, 30.0), expected)


def test_a_denoiser_only_fine_tune_keeps_the_inits_coding_tables(tmp_path):
    """Its transform and context model are the init's, so the init's fitted
    tables still fit; any other training drops them (train.tables refits)."""
    from iwave.entropy.tables import load_tables
    from iwave.train.export import export
    data = make_data(tmp_path / "data")
    base, _ = train(denoiser_config(2, 1), data, tmp_path / "base", progress=False)
    tables = load_tables(base.mean_resolution)
    base.coding_tables = tables._replace(cum=tables.cum.copy())   # stands in for fitted ones
    base.save(tmp_path / "base.npz")
    cfg = denoiser_config(0, 2)
    cfg["init"] = str(tmp_path / "base.npz")
    tuned, summary = train(cfg, data, tmp_path / "dn", progress=False)
    assert not torch.equal(tuned.denoiser.out.weight, base.denoiser.out.weight)
    assert np.array_equal(tuned.coding_tables.cum, base.coding_tables.cum)
    export(tuned, summary, cfg, tmp_path / "dn.npz", data, None, "...")
    assert IWaveModel.load(tmp_path / "dn.npz").coding_tables is not None
    assert "| coding tables | the init's" in (tmp_path / "dn.md").read_text()
    cfg = denoiser_config(1, 0)
    cfg["init"] = str(tmp_path / "base.npz")
    retrained, _ = train(cfg, data, tmp_path / "ctx", progress=False)
    assert retrained.coding_tables is None


@pytest.mark.parametrize("mean_resolution", [1, 4])
def test_tables_command_fits_tables_that_code_exactly(tmp_path, capsys, mean_resolution):
    from iwave.codec import Codec
    from iwave.train.tables import main as tables_main
    data = make_data(tmp_path / "data")
    IWaveModel({"levels": 2, "wavelet": "cdf53", "mean_resolution": mean_resolution}).save(
        tmp_path / "m.npz")
    (tmp_path / "m.md").write_text("# m\n\nsome card\n")
    tables_main([str(tmp_path / "m.npz"), str(data), "--out", str(tmp_path / "t.npz"),
                 "--lossless", "--steps", "8", "--images", "3", "--holdout-every", "3"])
    model = IWaveModel.load(tmp_path / "t.npz")
    assert model.coding_tables is not None
    card = (tmp_path / "t.md").read_text()
    assert card.startswith("# t\n") and "some card" in card and "## Coding tables" in card
    assert "lossless" in capsys.readouterr().out
    image = photo_like(24, 30, 3, seed=9)
    codec = Codec(model)
    assert np.array_equal(codec.decompress(codec.compress(image)), image)


def test_stage_two_trains_the_lifting_cnns_resumes_exactly_and_codes_exactly(tmp_path):
    """lifting_lr_scale > 0: the lifting CNNs of the steps with a linear path
    learn the rate with the context model (the others stay zero, so they
    cost nothing); an interrupted run resumes to the same weights; the
    learned transform still codes every image exactly."""
    from iwave.codec import Codec
    data = make_data(tmp_path / "data")
    cfg = tiny_config(3)
    cfg.update(lossy_fraction=0.0, lifting_lr_scale=3.0, lr=0.01)
    cfg["model"].update(wavelet="cdf97m", lossy={"wavelet": "cdf53"})
    full, _ = train(cfg, data, tmp_path / "a", progress=False)
    train(cfg, data, tmp_path / "b", progress=False, stop_after=2)
    resumed, _ = train(cfg, data, tmp_path / "b", progress=False)
    for k, v in full.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k
    steps = full.transform.steps
    assert not steps[0].is_zero_in_exact_mode() and not steps[1].is_zero_in_exact_mode()
    assert steps[2].is_zero_in_exact_mode() and steps[3].is_zero_in_exact_mode()
    full.save(tmp_path / "m.npz")
    model = IWaveModel.load(tmp_path / "m.npz")
    image = photo_like(37, 50, 3, seed=9)
    codec = Codec(model)
    assert (codec.decompress(codec.compress(image)) == image).all()


def test_lossy_stage_two_learns_rate_and_distortion_resumes_exactly_and_decodes_alike(tmp_path):
    """lifting_lr_scale > 0 with lossy batches only: the lifting CNNs of the
    lossy path's steps (all four for 9/7) learn bits plus RGB error, the rest
    stays; an interrupted run resumes to the same weights; the saved model's
    files decode the same in two codecs."""
    from iwave.codec import Codec
    data = make_data(tmp_path / "data")
    cfg = denoiser_config(3, 0)
    cfg.update(lossy_fraction=1.0, lifting_lr_scale=3.0, lr=0.01, step_range=[8.0, 32.0])
    cfg["model"].update(lossy={"wavelet": "cdf97"}, denoiser={"hidden": 4, "min_step": 4.0})
    torch.manual_seed(cfg["seed"])     # as train() seeds its new model
    start = IWaveModel(cfg["model"])
    full, summary = train(cfg, data, tmp_path / "a", progress=False)
    train(cfg, data, tmp_path / "b", progress=False, stop_after=2)
    resumed, _ = train(cfg, data, tmp_path / "b", progress=False)
    for k, v in full.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k
    assert not any(s.is_zero_in_exact_mode() for s in full.transform.steps)
    for k, v in full.state_dict().items():      # nothing but the transform learns
        assert k.startswith("transform.") or torch.equal(v, start.state_dict()[k]), k
    assert summary["val_rd"] > summary["val_lossy_bpsp"] > 0
    header, *rows = (tmp_path / "a" / "log.csv").read_text().splitlines()
    assert header.endswith(",val_rd") and rows[-1].split(",")[-1]
    full.save(tmp_path / "m.npz")
    image = photo_like(37, 50, 3, seed=9)
    data_ = Codec(IWaveModel.load(tmp_path / "m.npz")).compress(image, step=12)
    one, two = (Codec(IWaveModel.load(tmp_path / "m.npz")).decompress(data_) for _ in range(2))
    assert np.array_equal(one, two)
    assert np.abs(one.astype(int) - image).mean() < 6


def test_stage_two_learns_one_mode_at_a_time(tmp_path):
    cfg = tiny_config(1)
    cfg["lifting_lr_scale"] = 1.0          # default config trains lossy batches too
    with pytest.raises(SystemExit, match="lossy_fraction 0"):
        train(cfg, make_data(tmp_path / "data"), tmp_path / "run", progress=False)


def test_relative_rate_weighting_logs_the_bits_and_a_bad_value_is_a_clear_error(tmp_path):
    """rate_weighting "relative" trains on each lossy batch's bits over their
    own value (so its loss is 1) but logs the bits, as "absolute" does (the
    first step's bits are the same in both runs); the weights then differ."""
    data = make_data(tmp_path / "data")
    cfg = tiny_config(2)
    cfg.update(lossy_fraction=1.0)
    cfg["model"]["lossy"] = {"wavelet": "cdf97"}
    absolute, _ = train(cfg, data, tmp_path / "abs", progress=False)
    relative, _ = train(dict(cfg, rate_weighting="relative"), data, tmp_path / "rel", progress=False)
    assert any(not torch.equal(v, relative.state_dict()[k]) for k, v in absolute.state_dict().items())
    first = [(tmp_path / run / "log.csv").read_text().splitlines()[1].split(",")[5]
             for run in ("abs", "rel")]
    assert first[0] == first[1] and float(first[0]) != 1.0
    with pytest.raises(SystemExit, match="rate_weighting"):
        train(dict(cfg, rate_weighting="log"), data, tmp_path / "bad", progress=False)
