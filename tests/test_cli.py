import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ganlib.cli import build_parser, main, train_configs

TINY = ["--ngf", "8", "--ndf", "8", "--latent-dim", "16", "--device", "cpu"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--dataset", "mnist-sample", "--model", "dcgan", "--max-steps", "3", "--out", str(out),
                 "--export", str(out / "export" / "tiny-digits"), *TINY]) == 0
    return out


def test_train_writes_the_documented_run_folder(run_dir):
    names = {p.name for p in run_dir.iterdir()}
    assert {"config.json", "metrics.csv", "grid_final.png", "checkpoint.safetensors", "checkpoint.json"} <= names
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model"]["g_width"] == 8 and config["train"]["max_steps"] == 3
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 1 + 3


def test_a_named_run_length_replaces_the_presets_minute_unless_a_time_is_named_too():
    parse = lambda *args: train_configs(build_parser().parse_args(["train", *args]))[1]
    assert (parse().epochs, parse().max_seconds) == (0, 60)  # the preset: a minute, however many epochs fit
    assert (parse("--epochs", "5").epochs, parse("--epochs", "5").max_seconds) == (5, 0)
    assert parse("--max-steps", "500").max_seconds == 0
    assert (parse("--epochs", "5", "--max-seconds", "30").epochs, parse("--max-seconds", "30").epochs) == (5, 0)


def test_digits_train_conditional_unless_told_otherwise_and_other_data_needs_asking():
    parse = lambda *args: train_configs(build_parser().parse_args(["train", *args]))[0]
    labels_and_codes = lambda *args: (parse(*args).classes, parse(*args).latent_codes)
    assert labels_and_codes() == (10, 0)  # the digits' recipe: told each label
    assert labels_and_codes("--dataset", "mnist") == (10, 0)
    assert labels_and_codes("--no-conditional") == (0, 10)  # without labels: the preset's ten codes
    assert labels_and_codes("--latent-codes", "5") == (0, 5)  # codes asked for: no labels
    assert labels_and_codes("--model", "mlp") == (0, 0)  # the notebooks' MLP as it was
    assert labels_and_codes("--dataset", "fashion-mnist") == (0, 10)
    assert labels_and_codes("--dataset", "fashion-mnist", "--conditional") == (10, 0)
    assert labels_and_codes("--dataset", "emoji") == (0, 0)  # the emoji recipe: neither


def test_emoji_train_with_r1_and_falling_learning_rates_unless_told_otherwise():
    parse = lambda *args: train_configs(build_parser().parse_args(["train", *args]))[1]
    held = lambda *args: (parse(*args).r1_gamma, parse(*args).r1_every, parse(*args).lr_decay)
    assert held("--dataset", "emoji") == (1.0, 16, True)  # the emoji recipe: D must not win the colour game
    assert held("--dataset", "emoji", "--r1-gamma", "0", "--no-lr-decay") == (0.0, 16, False)
    assert held("--dataset", "emoji", "--r1-every", "1") == (1.0, 1, True)  # R1 in every step, as before
    assert held() == (0.0, 1, False) and held("--lr-decay") == (0.0, 1, True)  # digits: the minute's settings
    assert held("--model", "mlp") == (10.0, 1, False)  # the MLP's R1: every step (lazily it collapses)
    assert held("--dataset", "emoji", "--model", "fastgan") == (0.0, 1, False)  # the recipe is the DCGAN's
    assert held("--dataset", "folder", "--data-dir", "x") == (1.0, 16, True)  # your colour images: the same


def test_a_run_that_only_the_clock_ends_trains_and_exits_cleanly(tmp_path, capsys):
    out = tmp_path / "timed"
    assert main(["train", "--max-seconds", "1", "--out", str(out), *TINY]) == 0
    assert "max_seconds:" in capsys.readouterr().out and (out / "checkpoint.safetensors").exists()


def test_export_writes_a_small_generator_whose_card_says_how_it_was_made(run_dir, tmp_path):
    export = run_dir / "export" / "tiny-digits.safetensors"
    assert export.stat().st_size < (run_dir / "checkpoint.safetensors").stat().st_size / 2  # no D, no optimizers
    card = json.loads(export.with_suffix(".json").read_text())
    assert card["step"] == 3 and card["train"]["dataset"] == "mnist-sample" and card["model"]["g_width"] == 8
    assert card["command"].startswith("python -m ganlib train --dataset mnist-sample")
    assert "--export" in card["command"] and card["hardware"].startswith("CPU") and card["elapsed_seconds"] > 0
    assert main(["sample", str(export), "--n", "4", "--out", str(tmp_path / "s.npz")]) == 0
    assert np.load(tmp_path / "s.npz")["images"].shape == (4, 1, 28, 28)


def test_sample_writes_a_grid_and_an_array(run_dir, tmp_path):
    assert main(["sample", str(run_dir), "--n", "10", "--out", str(tmp_path / "s.npz")]) == 0
    images = np.load(tmp_path / "s.npz")["images"]
    assert images.shape == (10, 1, 28, 28) and images.min() >= -1 and images.max() <= 1
    assert main(["sample", str(run_dir / "checkpoint.safetensors"), "--n", "9", "--out", str(tmp_path / "s.png")]) == 0
    assert Image.open(tmp_path / "s.png").size == (3 * 30 + 2, 3 * 30 + 2)


def test_interpolate_writes_a_strip_and_a_gif(run_dir, tmp_path):
    assert main(["interpolate", str(run_dir), "--steps", "5", "--method", "lerp", "--out", str(tmp_path / "p.png")]) == 0
    assert Image.open(tmp_path / "p.png").size == (5 * 30 + 2, 32)
    assert main(["interpolate", str(run_dir), "--steps", "4", "--out", str(tmp_path / "p.gif")]) == 0
    assert Image.open(tmp_path / "p.gif").n_frames == 4


def test_resume_continues_a_run_folder(run_dir, tmp_path):
    assert main(["train", "--resume", str(run_dir), "--max-steps", "5", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "checkpoint.json").read_text())["step"] == 5


@pytest.mark.parametrize("args,message", [
    (["train", "--lr", "-1"], "lr_g must be between"),
    (["train", "--dataset", "imagenet"], "invalid choice: 'imagenet'"),
    (["train", "--loss", "bse"], "invalid choice: 'bse'"),
    (["train", "--image-size", "48"], "invalid choice: 48"),
    (["train", "--batch-size", "many"], "invalid int value: 'many'"),
    (["sample", "nowhere", "--out", "x.png"], "there is no checkpoint at nowhere"),
    (["sample", "model.pt", "--out", "x.png"], "pickle, which can run code"),
])
def test_bad_arguments_print_one_line_and_exit_2(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        status = main(args)
    except SystemExit as exit_:
        status = exit_.code
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_failed_run_exits_nonzero_with_its_reason(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ganlib", "train", "--dataset", "folder", "--data-dir",
                             str(tmp_path), "--out", str(tmp_path / "run"), *TINY], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"error: no images found in {tmp_path} " \
        "(looked for .bmp, .gif, .jpeg, .jpg, .png, .tif, .tiff, .webp)"


def test_score_prints_the_quality_figures_and_writes_them_as_json(run_dir, tmp_path, capsys):
    assert main(["score", str(run_dir), "--json", str(tmp_path / "score.json"), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    figures = json.loads((tmp_path / "score.json").read_text())
    assert figures["samples"] == 1000 and len(figures["class_histogram"]) == 10
    assert f"{figures['frechet']:.4g}" in printed and "classes_covered" in printed
    assert main(["score", str(tmp_path / "missing")]) == 2
