import math
import threading
import time

import numpy as np
import pytest
import torch

from ganlib.checkpoint import load_generator
from ganlib.cli import main
from ganlib.config import preset
from ganlib.errors import Diverged
from ganlib.pointgan import PointGAN, point_noise
from ganlib.points import grid25, ring8

SMALL = dict(batch_size=64)


def make_gan(data=ring8, **overrides):
    model_cfg, train_cfg = preset("mlp2d", **{**SMALL, **overrides})
    return PointGAN(model_cfg, train_cfg, data())


def weights(module):
    return torch.cat([p.detach().flatten().clone() for p in module.parameters()])


def test_a_d_step_moves_only_d_and_a_g_step_moves_only_g():
    gan = make_gan()
    g_before, d_before = weights(gan.generator), weights(gan.discriminator)
    row = gan.d_step()
    assert not torch.equal(weights(gan.discriminator), d_before) and torch.equal(weights(gan.generator), g_before)
    assert gan.step == 0 and gan.updates == 1 and 0 < row["d_real"] < 1 and math.isnan(row["loss_g"])
    d_after = weights(gan.discriminator)
    row = gan.g_step()
    assert not torch.equal(weights(gan.generator), g_before) and torch.equal(weights(gan.discriminator), d_after)
    assert gan.step == 1 and gan.updates == 2 and row["loss_g"] > 0


def test_a_step_of_the_game_is_d_steps_d_updates_then_one_g_update():
    gan = make_gan(d_steps=3)
    gan.train_step()
    assert (gan.step, gan.updates, len(gan.history)) == (1, 4, 4)


def test_the_generator_push_points_uphill_on_d():
    """−∂L_G/∂x moves each fake point towards where D says 'real'."""
    gan = make_gan()
    for _ in range(20):
        gan.d_step()
    points, push = gan.generator_push(n=50)
    points.requires_grad_(True)
    (uphill,) = torch.autograd.grad(gan.discriminator(points).sum(), points)
    assert ((push * uphill).sum(dim=1) > 0).all()


def test_what_the_playground_draws_has_the_right_shapes():
    gan = make_gan()
    axis, field = gan.discriminator_field(resolution=30)
    assert axis.shape == (30,) and field.shape == (30, 30) and 0 <= field.min() and field.max() <= 1
    lines = gan.warped_grid(lines=5, points_per_line=20)
    assert len(lines) == 10 and all(line.shape == (20, 2) for line in lines)
    assert len(make_gan(latent_dim=1).warped_grid(lines=5)) == 1
    assert point_noise(1000, make_gan(noise="uniform").model_cfg).abs().max() <= 1


def test_a_nan_weight_stops_training_with_a_sentence():
    gan = make_gan()
    with torch.no_grad():
        next(gan.discriminator.parameters()).fill_(math.nan)
    with pytest.raises(Diverged, match="diverged at step 0 .* lower the learning rates"):
        gan.d_step()


def test_the_recommended_2d_gan_captures_the_ring_within_1200_steps():
    """Learned progress: from a generator that covers no mode to all eight, most samples on them."""
    gan = make_gan(max_steps=1200, batch_size=256)
    before = gan.metrics()
    gan.train()
    after = gan.metrics(average=True)
    assert before["modes"] <= 2
    assert after["modes"] == 8 and after["high_quality"] > 0.6 and after["js"] < before["js"] / 2


def test_cli_trains_mlp2d_on_grid25_and_samples_points_of_shape_n_by_2(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "grid25", "--max-steps", "40", "--batch-size", "32", "--out", str(out)]) == 0
    assert {"checkpoint.safetensors", "checkpoint.json", "metrics.csv", "points.png"} <= {p.name for p in out.iterdir()}
    assert len((out / "metrics.csv").read_text().splitlines()) == 1 + 80  # one row per D and per G update
    assert main(["sample", str(out), "--n", "300", "--out", str(tmp_path / "points.npz")]) == 0
    points = np.load(tmp_path / "points.npz")["points"]
    assert points.shape == (300, 2) and np.isfinite(points).all()
    generator, checkpoint = load_generator(out)
    assert checkpoint.model_cfg.family == "mlp2d" and checkpoint.model_cfg.data_scale == pytest.approx(4.15)
    assert checkpoint.card["metrics"]["of_modes"] == 25


def test_cli_refuses_a_model_that_does_not_fit_the_data(capsys):
    assert main(["train", "--dataset", "ring8", "--model", "dcgan"]) == 2
    assert "2D datasets" in capsys.readouterr().err
    assert main(["train", "--dataset", "ring8", "--epochs", "3"]) == 2
    assert "epochs does not apply to the mlp2d model" in capsys.readouterr().err
    assert main(["train", "--dataset", "ring8", "--hidden-layers", "0"]) == 2
    assert "hidden_layers must be between 1 and 8" in capsys.readouterr().err


def test_the_grid_scale_is_what_the_networks_divide_by():
    gan = make_gan(grid25)
    assert gan.model_cfg.data_scale == pytest.approx(4 + 3 * 0.05)


def test_the_playground_steps_on_one_thread_and_gives_the_others_back():
    from ganlib.device import single_cpu_thread

    torch.set_num_threads(2)
    with single_cpu_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2


def test_a_game_drawn_while_another_thread_trains_it_draws_without_error():
    """A Streamlit click starts the new script run while the old one may still be training the same game."""
    from ganlib import charts

    gan = make_gan()
    failures, drawn = [], 0
    done = threading.Event()
    deadline = time.monotonic() + 60  # a cap only: both sides go on until each has made its progress

    def train():
        while not done.is_set() and time.monotonic() < deadline:
            try:
                gan.train_step()
            except RuntimeError as error:
                failures.append(error)

    trainer = threading.Thread(target=train)
    trainer.start()
    while time.monotonic() < deadline and not (drawn > 5 and gan.step > 20):
        try:
            charts.game_figure(gan, charts.GAME_LAYERS, 560)
            gan.metrics()
            drawn += 1
        except RuntimeError as error:
            failures.append(error)
    done.set()
    trainer.join()
    assert not failures, failures[0]
    assert drawn > 5 and gan.step > 20  # both sides made progress
