"""The Python front (`ganlib.train`, `ganlib.load`): plain data and pictures from the same engine the CLI drives, and
the TensorBoard files a run writes, read back with TensorBoard's own reader."""
import io
import time

import numpy as np
import pytest
import torch
from PIL import Image

import ganlib
from ganlib.cli import main
from ganlib.errors import ConfigError, GanStudioError
from ganlib.quality import QualityMeter

TINY = dict(g_width=8, d_width=8, latent_dim=16, device="cpu")


@pytest.fixture(scope="module")
def notebook_run(tmp_path_factory):
    """Four steps of the digit DCGAN, as a notebook cell would run them."""
    out = tmp_path_factory.mktemp("nb") / "run"
    return ganlib.train(dataset="mnist-sample", max_steps=4, batch_size=32, out=out, progress=False, **TINY)


def test_train_returns_the_runs_history_as_plain_data(notebook_run):
    run = notebook_run
    assert run.status == "finished" and (run.folder / "checkpoint.safetensors").is_file()
    assert [row["step"] for row in run.metrics] == [1, 2, 3, 4]
    losses = run.losses
    assert set(losses) == {"step", "loss_d", "loss_g"} and losses["step"] == [1, 2, 3, 4]
    assert all(np.isfinite(losses["loss_d"])) and all(value > 0 for value in losses["loss_d"])
    quality = run.quality[-1]
    assert quality["step"] == 4 and 0 <= quality["legible"] <= 1 and quality["frechet"] > quality["real_frechet"]
    assert "legible" in repr(run) and "finished" in repr(run)


def test_a_runs_grid_and_generator_are_pictures_a_notebook_shows(notebook_run):
    grid = notebook_run.grid()
    assert isinstance(grid, Image.Image) and grid.size == (8 * 30 + 2, 10 * 30 + 2)  # a row of 8 per digit
    generator = notebook_run.generator()
    assert generator.images(5).shape == (5, 1, 28, 28)


def test_the_same_settings_as_the_command_line_and_unknown_ones_refused(tmp_path):
    with pytest.raises(ConfigError, match="widht does not apply to the dcgan model"):
        ganlib.train(max_steps=1, widht=3, out=tmp_path / "x", progress=False)
    with pytest.raises(ConfigError, match="does not fit"):
        ganlib.train(dataset="ring8", model="dcgan", out=tmp_path / "y", progress=False)
    with pytest.raises(ConfigError, match="unknown dataset 'pets'; choose one of mnist-sample"):
        ganlib.train(dataset="pets", out=tmp_path / "y", progress=False)
    assert not (tmp_path / "x").exists()


def test_a_new_run_never_writes_into_another_runs_folder(notebook_run):
    before = (notebook_run.folder / "metrics.csv").read_text()
    with pytest.raises(ConfigError, match=r"already holds files \(another run\?\): choose another out"):
        ganlib.train(max_steps=1, out=notebook_run.folder, progress=False, **TINY)
    assert (notebook_run.folder / "metrics.csv").read_text() == before


def test_background_training_can_be_watched_and_stopped(tmp_path):
    run = ganlib.train(max_seconds=600, out=tmp_path / "bg", background=True, **TINY)
    assert run.status in ("starting", "running")
    deadline = time.monotonic() + 60
    while not run.metrics and time.monotonic() < deadline:  # the first report: ten steps in
        run.wait(0.1)
    run.stop().wait()
    assert run.status == "stopped" and run.metrics and (run.folder / "checkpoint.safetensors").is_file()


def test_load_samples_a_class_walks_and_scores(digits):
    generator = ganlib.load("checkpoints/mnist-cdcgan")
    assert generator.classes == tuple("0123456789")
    sevens = generator.images(100, seed=3, label=7)
    assert sevens.shape == (100, 1, 28, 28) and sevens.min() >= -1 and sevens.max() <= 1
    meter = QualityMeter.for_data("mnist-sample", digits)
    assert meter.score(sevens, asked=torch.full((100,), 7)).as_asked > 0.9
    grid = generator.sample(16, label="3", nrow=4)
    assert grid.size == (4 * 30 + 2, 4 * 30 + 2)
    walk = generator.walk(0, 1, steps=6)
    assert walk.shape == (6, 1, 28, 28)
    assert torch.allclose(walk[0], generator.images(1, seed=0)[0], atol=1e-5)  # the walk starts at seed 0's sample
    gif = generator.interpolate(0, 1, steps=6)
    frames = Image.open(io.BytesIO(gif.data))
    assert frames.format == "GIF" and frames.n_frames == 6 and frames.size == (56, 56)
    assert gif._repr_html_().startswith('<img src="data:image/gif;base64,R0lGOD')
    with pytest.raises(GanStudioError, match="'eleven' is not one of this generator's classes: 0, 1"):
        generator.images(4, label="eleven")


def test_load_refuses_what_the_cli_refuses(tmp_path):
    (tmp_path / "model.pt").write_bytes(b"not a pickle")
    with pytest.raises(GanStudioError, match="pickle"):
        ganlib.load(tmp_path / "model.pt")
    generator = ganlib.load("checkpoints/mnist-dcgan")
    with pytest.raises(GanStudioError, match="n 10,000,000 would need about"):
        generator.images(10_000_000)


def tensorboard_events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    events.Reload()
    return events


def test_train_tensorboard_writes_scalars_images_and_settings_tensorboard_reads(tiny_mnist_raw, tmp_path, capsys):
    pytest.importorskip("tensorboard")
    out, logs = tmp_path / "run", tmp_path / "tb"
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tiny_mnist_raw[0]), "--batch-size", "4", "--epochs",
                 "2", "--out", str(out), "--tensorboard", str(logs), "--ngf", "8", "--ndf", "8", "--latent-dim", "16",
                 "--device", "cpu"]) == 0  # 8 images: 2 steps an epoch
    assert f"TensorBoard events in {logs / 'run'}" in capsys.readouterr().out
    events = tensorboard_events(logs / "run")
    tags = events.Tags()
    for name in ("loss_d", "loss_g", "d_real", "d_fake", "grad_norm_g", "grad_norm_d"):
        assert f"train/{name}" in tags["scalars"]
    losses = events.Scalars("train/loss_d")
    assert [event.step for event in losses] == [1, 2, 3, 4]
    csv_losses = [float(line.split(",")[2]) for line in (out / "metrics.csv").read_text().splitlines()[1:]]
    assert np.allclose([event.value for event in losses], csv_losses, rtol=1e-5)
    assert {"quality/legible", "quality/frechet", "quality/real_frechet", "speed/images_per_second"} <= set(tags["scalars"])
    assert [event.step for event in events.Scalars("quality/legible")] == [2, 4]  # one score per epoch
    images = events.Images("samples")
    assert [image.step for image in images] == [2, 4]
    grid = Image.open(io.BytesIO(images[-1].encoded_image_string))
    assert grid.size == Image.open(out / "grid_final.png").size
    settings = events.Tensors("settings/text_summary")[0].tensor_proto.string_val[0].decode()
    assert '"epochs": 2' in settings and '"g_width": 8' in settings


def test_without_tensorboard_installed_the_run_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # what an install without it sees
    assert main(["train", "--max-steps", "1", "--out", str(tmp_path / "run"), "--tensorboard", str(tmp_path / "tb"),
                 "--device", "cpu"]) == 2
    assert 'error: --tensorboard needs the tensorboard package: pip install "gan-studio[tensorboard]"' in \
        capsys.readouterr().err


def test_the_hosts_tensorboard_folder_gets_each_app_runs_events(tmp_path, monkeypatch, small_digits):
    pytest.importorskip("tensorboard")
    from conftest import tiny_dcgan
    from ganlib.runs import RunManager

    monkeypatch.setenv("GAN_STUDIO_TENSORBOARD", str(tmp_path / "tb"))
    manager = RunManager(max_concurrent=1, runs_root=tmp_path / "runs")
    run_id = manager.start("session-a", *tiny_dcgan(max_steps=3, max_seconds=0), data=small_digits)
    assert manager.wait(run_id, timeout=120)
    run = manager.get(run_id)
    assert run.status == "finished" and run.tensorboard == tmp_path / "tb" / run_id
    assert [event.step for event in tensorboard_events(run.tensorboard).Scalars("train/loss_g")] == [1, 2, 3]


def test_the_train_page_says_where_the_hosts_tensorboard_folder_is(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    from test_app import run_state, shown, start_tiny_run, wait_for

    monkeypatch.setenv("GAN_STUDIO_TENSORBOARD", str(tmp_path / "tb"))
    app = start_tiny_run(epochs=1)
    assert wait_for(app, lambda a: run_state(a) == "finished")
    run_id = app.session_state.train_run_id
    assert any(f"this run's events go to `{tmp_path / 'tb' / run_id}`" in text for text in shown(app.caption))
    assert [event.step for event in tensorboard_events(tmp_path / "tb" / run_id).Scalars("quality/legible")] == [39]
