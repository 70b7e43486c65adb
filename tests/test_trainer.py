import csv
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from ganlib.checkpoint import load_checkpoint
from ganlib.config import ModelConfig, TrainConfig, preset
from ganlib.datasets import TensorImages, to_unit_range
from ganlib.errors import ConfigError
from ganlib.gan import GAN
from ganlib.latent import render, sample_z
from ganlib.losses import r1_penalty
from ganlib.models import chosen_codes
from ganlib.events import CheckpointSaved, Failed, Finished, GridSampled, Metrics, QualityScored, Started
from ganlib.trainer import Trainer


def test_a_short_run_reports_every_event_and_writes_its_files(tmp_path, small_digits, tiny_configs, collect):
    model, train = tiny_configs(epochs=2)
    Trainer(model, train, run_dir=tmp_path, on_event=collect, data=small_digits).run()
    assert isinstance(collect[0], Started) and collect[0].steps_per_epoch == 10
    assert [e.epoch for e in collect.of(GridSampled)] == [1, 2]
    assert collect.of(Finished)[0].reason == "completed" and collect.of(Finished)[0].step == 20
    rows = collect.rows()
    assert [r["step"] for r in rows] == list(range(1, 21))
    assert all(0 <= r["d_real"] <= 1 and 0 <= r["d_fake"] <= 1 and r["grad_norm_g"] > 0 for r in rows)
    with open(tmp_path / "metrics.csv") as f:
        assert len(list(csv.DictReader(f))) == 20
    assert (tmp_path / "grids" / "epoch_002.png").exists() and (tmp_path / "grid_final.png").exists()
    assert load_checkpoint(tmp_path).card["step"] == 20
    assert collect.of(GridSampled)[0].image.size == (8 * 30 + 2, 8 * 30 + 2)  # 64 samples of 28 px, padded
    scores = collect.of(QualityScored)
    assert [(s.epoch, s.step) for s in scores] == [(1, 10), (2, 20)]
    assert len(scores[-1].score.class_histogram) == 10 and scores[-1].score.frechet > 0
    with open(tmp_path / "quality.csv") as f:
        quality = list(csv.DictReader(f))
    assert [row["epoch"] for row in quality] == ["1.0", "2.0"] and float(quality[1]["frechet"]) > 0
    assert load_checkpoint(tmp_path).card["quality"]["frechet"] == pytest.approx(scores[-1].score.frechet)


def run_rows(model, train, data, **kwargs):
    rows = []
    trainer = Trainer(model, train, data=data, on_event=lambda e: rows.extend(getattr(e, "rows", [])), **kwargs)
    trainer.run()
    return rows, trainer


def test_one_seed_gives_the_same_numbers_and_another_seed_does_not(small_digits, tiny_configs):
    model, train = tiny_configs(max_steps=6)
    first, _ = run_rows(model, train, small_digits)
    second, _ = run_rows(model, train, small_digits)
    other, _ = run_rows(model, TrainConfig(**{**train.__dict__, "seed": 4}), small_digits)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
    assert strip(first) == strip(second)
    assert strip(first) != strip(other)


def test_resuming_reproduces_the_uninterrupted_run(tmp_path, small_digits, tiny_configs):
    model = ModelConfig(family="dcgan", g_width=8, d_width=8, latent_dim=16, d_dropout=0.2)  # dropout: RNG too
    _, train = tiny_configs(max_steps=14)
    straight, straight_trainer = run_rows(model, train, small_digits)
    # Stop mid-epoch at step 7, then resume from the checkpoint up to step 14 (crossing an epoch end).
    run_rows(model, TrainConfig(**{**train.__dict__, "max_steps": 7}), small_digits, run_dir=tmp_path)
    resumed, resumed_trainer = run_rows(model, train, small_digits, resume=load_checkpoint(tmp_path))
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
    assert strip(resumed) == strip(straight)[7:]
    for network in ("generator", "sample_generator", "discriminator"):  # raw, averaged, and D weights
        for a, b in zip(getattr(straight_trainer.gan, network).parameters(),
                        getattr(resumed_trainer.gan, network).parameters()):
            assert torch.equal(a, b)


def test_grids_on_demand_do_not_change_training(small_digits, tiny_configs):
    model, train = tiny_configs(max_steps=5)
    plain, _ = run_rows(model, train, small_digits)
    rows = []
    trainer = Trainer(model, train, data=small_digits, report_every=1)

    def record_and_sample(event):  # a UI asking for a grid after every step
        rows.extend(getattr(event, "rows", []))
        if isinstance(event, Metrics):
            trainer.sample_grid()

    trainer.on_event = record_and_sample
    trainer.run()
    assert [r["loss_g"] for r in rows] == [r["loss_g"] for r in plain]


def test_pause_and_stop_take_effect_within_one_step(small_digits, tiny_configs, collect):
    model, train = tiny_configs(epochs=1000)
    first_report = threading.Event()

    def on_event(event):
        collect(event)
        if isinstance(event, Metrics):
            first_report.set()

    trainer = Trainer(model, train, data=small_digits, report_every=1, on_event=on_event)
    worker = threading.Thread(target=trainer.run)
    worker.start()
    assert first_report.wait(60)
    trainer.pause()
    paused_at = trainer.step
    threading.Event().wait(0.5)
    assert trainer.paused and trainer.step <= paused_at + 1
    held = trainer.step
    threading.Event().wait(0.3)
    assert trainer.step == held  # nothing moves while paused
    trainer.resume()
    threading.Event().wait(0.3)
    assert trainer.step > held
    trainer.stop()
    stopped_at = trainer.step
    worker.join(30)
    assert not worker.is_alive()
    finished = collect.of(Finished)[0]
    assert finished.reason == "stopped" and finished.step <= stopped_at + 1


def test_time_limit_stops_the_run(small_digits, tiny_configs, collect):
    model, train = tiny_configs(epochs=1000, max_seconds=1.0)
    Trainer(model, train, data=small_digits, on_event=collect).run()
    finished = collect.of(Finished)[0]
    assert finished.reason == "max_seconds" and finished.step > 0
    assert collect.of(GridSampled)[-1].epoch_end is False  # the final, mid-epoch grid


def test_without_an_epoch_limit_the_step_or_time_limit_ends_the_run(small_digits, tiny_configs, collect):
    model, train = tiny_configs(epochs=0, max_steps=25, lr_decay=True)  # 10 steps an epoch: two and a half epochs
    trainer = Trainer(model, train, data=small_digits, on_event=collect)
    trainer.run()
    finished = collect.of(Finished)[0]
    assert finished.reason == "max_steps" and finished.step == 25 and finished.epoch == 2
    assert collect.of(Started)[0].total_steps == 25
    assert trainer.gan.opt_g.param_groups[0]["lr"] == pytest.approx(train.lr_g / 25)  # decay followed the steps
    model, train = tiny_configs(epochs=0, max_seconds=2.0, lr_decay=True)
    timed = Trainer(model, train, data=small_digits, on_event=collect)
    timed.run()
    finished = collect.of(Finished)[-1]
    assert finished.reason == "max_seconds" and finished.step > 10 and collect.of(Started)[-1].total_steps == 0
    assert timed.gan.opt_g.param_groups[0]["lr"] < 0.2 * train.lr_g  # decay followed the clock to near 0
    with pytest.raises(ConfigError, match="needs an end"):
        tiny_configs(epochs=0)[1].validate()


def code_readability(trainer, codes, latent_dim):
    """How often D's code head names the code G was given, on 500 fresh samples."""
    z = sample_z(500, latent_dim, seed=7)
    with torch.no_grad():
        _, guesses = trainer.gan.discriminator.eval()(trainer.gan.sample_generator(z), with_codes=True)
    trainer.gan.discriminator.train()
    return (guesses.argmax(1) == chosen_codes(z, codes)).float().mean().item()


def test_latent_codes_become_readable_from_the_images(small_digits):
    """Measured: 27% before training (chance is 25%), 100% after 30 steps."""
    model = ModelConfig(g_width=8, d_width=8, latent_dim=16, latent_codes=4)
    trainer = Trainer(model, TrainConfig(max_steps=30, device="cpu", seed=3), data=small_digits)
    before = code_readability(trainer, 4, 16)
    trainer.run()
    assert before < 0.5 and code_readability(trainer, 4, 16) > 0.9


def test_the_recommended_preset_is_a_minute_with_latent_codes_that_no_epoch_count_cuts_short():
    model, train = preset("dcgan")
    assert train.epochs == 0 and train.max_seconds == 60 and model.latent_codes == 10


class PoisonedDigits(TensorImages):
    """Real digits whose second epoch turns into NaNs at its third batch, as a broken pipeline would.
    (Only batches of 64 are training; the quality meter reads its real images in other chunks.)"""

    def batches(self, order, batch_size):
        training = batch_size == 64
        for index, batch in enumerate(super().batches(order, batch_size)):
            yield batch.fill_(float("nan")) if training and self.epochs_seen == 1 and index == 2 else batch
        self.epochs_seen += training

    epochs_seen = 0


def test_divergence_stops_with_a_plain_reason_and_keeps_the_last_good_checkpoint(tmp_path, small_digits,
                                                                                  tiny_configs, collect):
    model, train = tiny_configs(epochs=5)
    data = PoisonedDigits(small_digits.images, small_digits.labels)
    Trainer(model, train, data=data, run_dir=tmp_path, on_event=collect, report_every=4).run()
    failed = collect.of(Failed)[0]
    assert failed.message == "training diverged at step 13 — try a lower learning rate"
    assert not collect.of(Finished)
    card = load_checkpoint(tmp_path).card
    assert card["step"] == 10 and card["epoch"] == 1  # the end of the last good epoch


def test_settings_that_cannot_work_are_refused_before_training(small_digits, tiny_configs, collect):
    model, train = tiny_configs(batch_size=1000)
    Trainer(model, train, data=small_digits, on_event=collect).run()
    assert collect.of(Failed)[0].message == "batch size 1000 is larger than the dataset (640 images)"
    with pytest.raises(ConfigError, match="wgan-gp .* BatchNorm"):
        Trainer(model, TrainConfig(loss="wgan-gp"))
    with pytest.raises(ConfigError, match="lr_g must be between"):
        Trainer(model, TrainConfig(lr_g=-0.1))


@pytest.mark.parametrize("loss", ["lsgan", "hinge", "wgan-gp"])
def test_every_loss_trains_with_finite_numbers(small_digits, loss):
    model = ModelConfig(family="dcgan", g_width=8, d_width=8, latent_dim=16, d_batchnorm=False)
    rows, _ = run_rows(model, TrainConfig(loss=loss, max_steps=4, d_steps=2, device="cpu"), small_digits)
    assert len(rows) == 4 and all(np.isfinite(list(r.values())).all() for r in rows)


def test_the_r1_penalty_adds_to_d_loss_on_the_same_step(small_digits, tiny_configs):
    """Same seed, same batch, same noise: the first D loss with R1 is the plain one plus γ/2·‖∇D(x)‖² > 0."""
    model, plain = tiny_configs(max_steps=1)
    without, _ = run_rows(model, plain, small_digits)
    with_r1, _ = run_rows(model, TrainConfig(**{**plain.__dict__, "r1_gamma": 10.0}), small_digits)
    assert with_r1[0]["loss_d"] > without[0]["loss_d"]
    assert with_r1[0]["d_real"] == pytest.approx(without[0]["d_real"])  # the same D saw the same images


def test_lazy_r1_updates_d_on_its_own_every_nth_step_and_flattens_its_slope(small_digits, tiny_configs):
    """Same seed, same batches: with r1_every N the game's own numbers are those of a run without R1 on step 0,
    and every N-th step adds one D update that lowers D's slope at the real images."""
    model, plain = tiny_configs()
    real = to_unit_range(small_digits.images[:64])
    every = 16
    gans = {gamma: GAN(model, replace(plain, r1_gamma=gamma, r1_every=every), torch.device("cpu"))
            for gamma in (0.0, 10.0)}
    first = {gamma: gan.train_step(real) for gamma, gan in gans.items()}
    assert torch.equal(first[0.0], first[10.0])  # the penalty is not in the step's D loss

    def slope(gan):
        x = real.clone().requires_grad_(True)
        return r1_penalty(gan.discriminator(x), x).item()

    assert slope(gans[10.0]) < slope(gans[0.0])
    for gan in gans.values():
        for _ in range(every):  # steps 1 … every: the penalty's second turn comes at the last
            gan.train_step(real)
    d_updates = {gamma: int(gan.opt_d.state[next(gan.discriminator.parameters())]["step"]) for gamma, gan in gans.items()}
    assert d_updates == {0.0: every + 1, 10.0: every + 3}


def nearest_real_distance(images, real):
    """Mean over images of the RMS pixel distance to the closest real image."""
    return torch.cdist(images.flatten(1), real.flatten(1)).min(dim=1).values.mean().item() / images[0].numel() ** 0.5


def test_a_short_real_run_learns_to_draw_digits(digits, collect):
    """~11 s: 150 steps of the recommended DCGAN move its samples most of the way from noise to digits.

    Pixel distance to the nearest real digit, measured on this CPU: 0.93 at the start, 0.52 after 150 steps,
    0.48 after 300; real held-out digits sit at 0.39.
    """
    real = to_unit_range(digits.images)
    trainer = Trainer(ModelConfig(), TrainConfig(max_steps=150, device="cpu", seed=1), data=digits, on_event=collect)
    z = sample_z(200, 100, seed=5)
    trainer.gan.sample_generator.eval()
    before = nearest_real_distance(render(trainer.gan.sample_generator, z), real)
    trainer.gan.sample_generator.train()
    trainer.run()
    trainer.sample_grid()  # calibrates BatchNorm for eval-mode sampling
    trainer.gan.sample_generator.eval()
    after = nearest_real_distance(render(trainer.gan.sample_generator, z), real)
    assert before > 0.8 and after < 0.7 * before and after < 0.65
    rows = collect.rows()
    assert len(rows) == 150
    late_fooled = np.mean([r["d_fake"] for r in rows[-30:]])
    assert 0.02 < late_fooled < 0.9  # G still fools D some of the time: the game is alive, not won
    untrained = trainer.quality_meter.score(render(Trainer(ModelConfig(), TrainConfig(device="cpu", seed=1))
                                                   .gan.sample_generator.eval(), z))
    learned = collect.of(QualityScored)[-1].score  # scored where the run stopped
    # measured: Fréchet 2,129 → 609, one digit → 9 of 10 covered, KL from uniform 2.30 → 0.25
    assert learned.frechet < untrained.frechet / 3 and learned.classes_covered >= 8 and learned.kl_uniform < 0.5


def test_lr_decay_follows_the_runs_budget_down_to_zero(small_digits, tiny_configs):
    model, train = tiny_configs(max_steps=10, lr_decay=True)
    trainer = Trainer(model, train, data=small_digits)
    trainer.run()
    # set before each step from the budget spent: the tenth and last step ran at a tenth of the rate
    assert trainer.gan.opt_g.param_groups[0]["lr"] == pytest.approx(train.lr_g * 0.1)
    assert trainer.gan.opt_d.param_groups[0]["lr"] == pytest.approx(train.lr_d * 0.1)
    steady = Trainer(model, replace(train, lr_decay=False), data=small_digits)
    steady.run()
    assert steady.gan.opt_g.param_groups[0]["lr"] == train.lr_g


@pytest.mark.parametrize("cadence,saved_epochs", [(3600, [1, 4]), (0, [1, 2, 3, 4])])
def test_checkpoints_come_after_the_first_epoch_a_minute_apart_and_at_the_end(tmp_path, small_digits, tiny_configs,
                                                                             collect, cadence, saved_epochs):
    """A short run writes its 90 MB of weights and optimizer state twice, not once per epoch (docs/performance.md); a
    run on a cluster (cadence 0) at every epoch's end, so a lost node costs at most one epoch."""
    model, train = tiny_configs(epochs=4)
    Trainer(model, train, data=small_digits, run_dir=tmp_path, on_event=collect, checkpoint_seconds=cadence).run()
    assert [event.step // 10 for event in collect.of(CheckpointSaved)] == saved_epochs  # 10 steps an epoch
    assert load_checkpoint(tmp_path).card["step"] == 40


def test_events_are_plain_data_that_another_process_reads(tmp_path, small_digits, tiny_configs, collect):
    """A run in a Ray actor sends its events to the app: they must unpickle where no trainer or tensor exists."""
    import pickle
    import subprocess
    import sys

    model, train = tiny_configs(epochs=1)
    Trainer(model, train, run_dir=tmp_path, on_event=collect, data=small_digits).run()
    (tmp_path / "events.pickle").write_bytes(pickle.dumps(list(collect)))
    reader = ("import pickle, sys; events = pickle.load(open(sys.argv[1], 'rb'));"
              "print(' '.join(type(e).__name__ for e in events))")
    answer = subprocess.run([sys.executable, "-c", reader, str(tmp_path / "events.pickle")], capture_output=True,
                            text=True, check=True).stdout.split()
    assert answer == [type(e).__name__ for e in collect]
    assert {"Started", "Metrics", "GridSampled", "QualityScored", "CheckpointSaved", "Finished"} <= set(answer)

    def values(item):
        if hasattr(item, "__dataclass_fields__"):
            return [v for name in item.__dataclass_fields__ for v in values(getattr(item, name))]
        if isinstance(item, (list, tuple)):
            return [v for element in item for v in values(element)]
        if isinstance(item, dict):
            return [v for element in item.values() for v in values(element)]
        return [item]
    kinds = {type(value).__name__ for event in collect for value in values(event)}
    assert kinds <= {"str", "int", "float", "bool", "NoneType", "Image"}, kinds  # no tensor, no open file
