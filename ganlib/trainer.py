"""The trainer: runs the game (gan.py) for a training run, reporting through events, safe to drive from a thread.

A UI (the Streamlit app, the CLI) calls run() in a worker and pause()/resume()/stop() from anywhere; each
takes effect before the next step. Per-step numbers stay on the device and are read back every
`report_every` steps in one transfer, instead of the several host syncs a step of the reference script makes.
Around the steps it keeps the clock, the epochs, the grids, the quality meter's cadence and the run folder.
"""
import threading
import time
import traceback

import torch

from .checkpoint import Checkpoint, save_checkpoint
from .config import ModelConfig, TrainConfig, config_to_dict
from .datasets import DATASETS, load_dataset
from .device import describe_device, pick_device, resolve_device
from .distributed import any_rank, join_process_group, rank_and_world_size
from .errors import CheckpointError, ConfigError, Diverged, GanStudioError, is_out_of_memory
from .events import CheckpointSaved, Failed, Finished, GridSampled, Metrics, QualityScored, Started
from .gan import GAN
from .host import run_memory_budget
from .images import to_pil_grid
from .latent import latents_for_codes, sample_z
from .losses import get_loss
from .memory import estimate_run
from .models import asked_classes
from .quality import QUALITY_SAMPLES, QualityMeter
from .rundir import METRIC_NAMES, RunDirectory
from .tensorboard_log import with_tensorboard

GRID_SIZE = 64
GRID_COLUMNS = 8
# A checkpoint holds the optimizers too (90 MB for the 64×64×3 DCGAN): saved after the first epoch, at the epoch end
# a minute after the last save, and whenever a run ends, so a killed run loses at most a minute and an epoch.
CHECKPOINT_SECONDS = 60


def grid_latents(model_cfg, seed):
    """The latents of every grid of a run: GRID_SIZE random ones, or for a conditional GAN of up to 12 classes one
    row per class, each column keeping its style (the same z), so the grid shows what conditioning does."""
    classes = model_cfg.classes
    if classes and classes <= 12:
        return latents_for_codes(classes, GRID_COLUMNS, model_cfg.latent_dim, seed=seed)
    return sample_z(GRID_SIZE, model_cfg.latent_dim, seed=seed)


def epoch_order(seed, epoch, n):
    """The data order of one epoch, a function of (seed, epoch) alone so a resumed run replays it."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))


def build_failure(error):
    """The one line a run shows when its trainer could not be built (in a thread here or on a cluster's node)."""
    if isinstance(error, GanStudioError):
        return str(error)
    if is_out_of_memory(error):
        return "out of memory while building the networks — try smaller widths or images"
    return f"unexpected error: {error}"


class Trainer:
    def __init__(self, model_cfg: ModelConfig, train_cfg: TrainConfig, *, run_dir=None, on_event=None,
                 data=None, resume: Checkpoint = None, report_every=10, cpu_threads=None, memory_budget=None,
                 deadline=None, tensorboard=None, placement=None, checkpoint_seconds=CHECKPOINT_SECONDS):
        self.check_configs(model_cfg, train_cfg, memory_budget, dataset_images=len(data) if data is not None else None)
        self.model_cfg, self.cfg = model_cfg, train_cfg
        self.device = resolve_device(train_cfg.device, cpu_threads)  # construct in the thread that trains
        self.rank, self.world_size = rank_and_world_size()  # (0, 1) unless started by torchrun
        if self.world_size > 1:
            self.device = join_process_group(self.device)
        self.gan = GAN(model_cfg, train_cfg, self.device, self.rank, self.world_size)
        self.fixed_noise = grid_latents(model_cfg, train_cfg.seed).to(self.device)
        self.quality_noise = sample_z(QUALITY_SAMPLES, model_cfg.latent_dim, seed=train_cfg.seed + 1, device=self.device)
        self.quality_meter = None  # built with the data, from its real images
        self.data, self.report_every = data, report_every
        self.deadline = deadline  # time.monotonic() when the host's cap on wall time ends the run; None: no cap
        self.placement = placement  # where a cluster put the run ('Ray cluster …, node 2 of 3'), for the card
        self.checkpoint_seconds = checkpoint_seconds  # 0: at every epoch's end (a cluster's node may vanish)
        self.run_dir = RunDirectory(run_dir) if run_dir and self.rank == 0 else None  # rank 0 alone writes
        self.on_event = with_tensorboard(on_event, tensorboard if self.rank == 0 else None, model_cfg, train_cfg)
        self.epoch = self.batch_in_epoch = self.steps_per_epoch = 0
        self.elapsed = 0.0  # training time: pauses, grids, scores and checkpoints not counted
        self._clock_since = 0.0
        self.last_metrics, self.last_quality = {}, {}
        self.resumed_at_step = self._checkpointed_at_step = None
        self._checkpointed_at = time.monotonic()  # wall clock of the last save (or of the start)
        self._running = threading.Event()  # cleared while paused
        self._running.set()
        self._parked = threading.Event()  # set while the loop waits in a pause
        self._stop = threading.Event()
        if resume is not None:
            self._restore(resume)

    @property
    def step(self):
        """Generator updates so far."""
        return self.gan.step

    @staticmethod
    def check_configs(model_cfg, train_cfg, memory_budget=None, dataset_images=None):
        """Explain settings that cannot work, before anything is built or loaded: also a run that would not fit in
        `memory_budget` bytes (default: the host's budget for one run, see host.run_memory_budget)."""
        model_cfg.validate()
        train_cfg.validate()
        if get_loss(train_cfg.loss).gradient_penalty and model_cfg.family == "dcgan" and model_cfg.d_batchnorm:
            raise ConfigError("wgan-gp penalizes each sample's gradient, which BatchNorm in D mixes across the "
                              "batch: turn D's BatchNorm off (--no-d-batchnorm)")
        pick_device(train_cfg.device)
        images = DATASETS[train_cfg.dataset].images if dataset_images is None else dataset_images
        budget = run_memory_budget(runs_at_once=1) if memory_budget is None else memory_budget
        estimate_run(model_cfg, train_cfg, images).check(budget)

    # --- control, callable from any thread ---------------------------------------------------------

    def pause(self, wait=0.0):
        """Pause before the next step; with `wait`, return once the loop has parked (at most `wait` seconds), so
        what it reported last is where it stands."""
        self._running.clear()
        return self._parked.wait(wait) if wait else False

    def resume(self):
        self._running.set()

    def stop(self):
        self._stop.set()
        self._running.set()  # wake a paused loop so it can see the stop

    @property
    def paused(self):
        return not self._running.is_set()

    # --- samples and checkpoints ------------------------------------------------------------------

    def sample_grid(self):
        """A grid of the fixed noise batch: the same 64 latents every epoch, so grids compare."""
        return to_pil_grid(self.gan.draw(self.fixed_noise), nrow=GRID_COLUMNS)

    def real_grid(self, n=GRID_SIZE):
        """A grid of real training images, to show beside the fakes (None until the data is loaded)."""
        if self.data is None:
            return None
        order = epoch_order(self.cfg.seed, 0, len(self.data))[:n]
        return to_pil_grid(next(self.data.batches(order, min(n, len(order)))))

    def save(self, path):
        """A full checkpoint (weights, optimizers, RNG, position in the data) that resumes exactly."""
        with self.gan.lock:
            self.gan.calibrate()
            modules, optimizers, rng = self.gan.checkpoint_parts()
            progress = {"epoch": self.epoch, "step": self.step, "batch_in_epoch": self.batch_in_epoch,
                        "elapsed_seconds": round(self.elapsed, 3), "device": self.device.type,
                        "hardware": describe_device(self.device), "precision": self.gan.precision,
                        "quality": self.last_quality, "world_size": self.world_size}
            if self.placement:
                progress["placement"] = self.placement
            return save_checkpoint(path, model_cfg=self.model_cfg, train_cfg=self.cfg, modules=modules,
                                   optimizers=optimizers, rng=rng, progress=progress, metrics=self.last_metrics)

    def _restore(self, checkpoint):
        self.gan.restore(checkpoint)
        card = checkpoint.card
        if not {"step", "epoch", "batch_in_epoch"} <= card.keys():
            raise CheckpointError("the checkpoint's card does not say where its run stopped (step, epoch)")
        self.gan.step, self.epoch, self.batch_in_epoch = int(card["step"]), int(card["epoch"]), int(card["batch_in_epoch"])
        self.elapsed, self.last_metrics = card.get("elapsed_seconds", 0.0), card.get("metrics", {})
        self.last_quality = card.get("quality", {})
        self.resumed_at_step = self.step

    # --- the loop ----------------------------------------------------------------------------------

    def run(self):
        """Train until done, stopped, or failed; every outcome is reported as an event, never raised."""
        try:
            reason = self._loop()
        except GanStudioError as error:
            self.on_event(Failed(str(error), self.step))
            return "failed"
        except Exception as error:
            if is_out_of_memory(error):
                message = f"out of memory at step {self.step} — try a smaller batch or image size"
            else:  # a bug: report it in words, keep the traceback in the run folder
                message = f"unexpected error at step {self.step}: {error}"
                if self.run_dir:
                    (self.run_dir.path / "error.log").write_text(traceback.format_exc())
            self.on_event(Failed(message, self.step))
            return "failed"
        finally:  # the DDP wrappers hold the process group: let go so that leaving it stops gloo's threads
            self.gan.unwrap()
        if reason != "completed":  # a completed run saved at its last epoch end
            if self.batch_in_epoch:  # ended mid-epoch: the final grid and score show where it stopped
                self._emit_grid(epoch_end=False)
                self._score_quality()
            if self._checkpointed_at_step != self.step:
                self._checkpoint()
        self.on_event(Finished(reason, self.step, self.epoch))
        return reason

    def _loop(self):
        cfg = self.cfg
        if self.data is None:
            self.data = load_dataset(cfg.dataset, self.model_cfg.image_size, self.model_cfg.channels, cfg.data_dir)
        self.check_labels()
        self.data.to(self.device)
        if self.rank == 0:
            self.quality_meter = QualityMeter.for_data(cfg.dataset, self.data, cfg.seed, self.device)
        n = len(self.data)
        self.steps_per_epoch = steps_per_epoch = n // (cfg.batch_size * self.world_size)
        if steps_per_epoch == 0:
            processes = f" × {self.world_size} processes" if self.world_size > 1 else ""
            raise ConfigError(f"batch size {cfg.batch_size}{processes} is larger than the dataset ({n} images)")
        total_steps = min(steps_per_epoch * cfg.epochs or cfg.max_steps, cfg.max_steps or 10**18)  # 0: time decides
        if self.run_dir:
            self.run_dir.write_config({"model": config_to_dict(self.model_cfg), "train": config_to_dict(cfg)})
        self.on_event(Started(self.device.type, self.gan.precision, n, steps_per_epoch, total_steps,
                              getattr(self.data, "skipped", 0), self.real_grid() if self.rank == 0 else None))
        pending = []  # per-step metric tensors not yet read back
        window_start, window_steps = time.perf_counter(), 0
        self._clock_since = time.perf_counter()
        while self._epochs_left():
            order = self._shard(epoch_order(cfg.seed, self.epoch, n))[self.batch_in_epoch * cfg.batch_size:]
            conditional = bool(self.model_cfg.classes)
            for batch in (self.data.labelled_batches if conditional else self.data.batches)(order, cfg.batch_size):
                real, labels = batch if conditional else (batch, None)
                if not self._running.is_set():  # paused: report where it stands, stop the clock until resumed
                    self._report(pending, window_start, window_steps, total_steps)
                    pending = []
                    self._tick()
                    self._parked.set()
                    self._running.wait()
                    self._parked.clear()
                    self._clock_since = window_start = time.perf_counter()
                    window_steps = 0
                if self._stop.is_set():
                    self._report(pending, window_start, window_steps, total_steps)
                    return "stopped"
                if cfg.lr_decay:
                    self.gan.scale_learning_rates(1 - self._budget_used(total_steps))
                with self.gan.lock:
                    pending.append(self.gan.train_step(real, labels))
                    self.batch_in_epoch += 1
                window_steps += 1
                self._tick()
                limit = self._limit_reached()
                if len(pending) >= self.report_every or limit:
                    self._report(pending, window_start, window_steps, total_steps)
                    pending, window_start, window_steps = [], time.perf_counter(), 0
                if limit:
                    return limit
            self._report(pending, window_start, window_steps, total_steps)
            self.epoch += 1
            self.batch_in_epoch = 0
            self._emit_grid(epoch_end=True)
            self._score_quality()
            if self._checkpoint_due():
                self._checkpoint()
            if self._past_deadline() and self._epochs_left():
                return "time_cap"
            # sampling and saving are neither training time nor part of the next img/s window
            pending, window_start, window_steps = [], time.perf_counter(), 0
            self._clock_since = window_start
        return "completed"

    def check_labels(self):
        """A conditional GAN needs a class for every training image, within the classes its networks have."""
        classes, labels = self.model_cfg.classes, getattr(self.data, "labels", None)
        if not classes:
            return
        if labels is None:
            raise ConfigError(f"a conditional GAN needs class labels, which the {self.cfg.dataset} data does not have "
                              "(a folder needs one subfolder of images per class)")
        if int(labels.max()) >= classes:
            raise ConfigError(f"the data has {int(labels.max()) + 1} classes, more than the {classes} the networks "
                              "were built for")

    def _tick(self):
        """Add the time since the last tick to the training clock. On a GPU, steps run after their launch
        returns: the clock is also ticked right after each read-back, which waits for them to finish."""
        now = time.perf_counter()
        self.elapsed += now - self._clock_since
        self._clock_since = now

    @property
    def epochs_done(self):
        """Epochs trained, fractional: 2.5 is halfway through the third."""
        return self.epoch + self.batch_in_epoch / self.steps_per_epoch

    def _shard(self, order):
        """This process's part of an epoch's order: every world_size-th image of the whole steps' worth."""
        return order[:self.steps_per_epoch * self.cfg.batch_size * self.world_size][self.rank::self.world_size]

    def _budget_used(self, total_steps):
        """How much of the run's budget is spent, 0 to 1: steps (epochs or max_steps) or training seconds."""
        by_time = self.elapsed / self.cfg.max_seconds if self.cfg.max_seconds else 0.0
        return min(1.0, max(self.step / total_steps if total_steps else 0.0, by_time))

    def _epochs_left(self):
        return not self.cfg.epochs or self.epoch < self.cfg.epochs  # 0 epochs: the time or step limit ends the run

    def _past_deadline(self):
        return self.deadline is not None and time.monotonic() >= self.deadline

    def _limit_reached(self):
        if self.cfg.max_steps and self.step >= self.cfg.max_steps:
            return "max_steps"
        if self._past_deadline():
            return "time_cap"
        out_of_time = bool(self.cfg.max_seconds) and self.elapsed >= self.cfg.max_seconds
        if self.cfg.max_seconds and self.world_size > 1:  # clocks differ: stop together (one tiny all-reduce)
            out_of_time = any_rank(out_of_time, self.device)
        return "max_seconds" if out_of_time else None

    def _report(self, pending, window_start, window_steps, total_steps):
        """Read back pending metrics in one transfer, check for divergence, emit them, log them."""
        if not pending:
            return
        values = torch.stack(pending).tolist()  # the one host sync of the window
        self._tick()
        first_step = self.step - len(values) + 1
        rows = []
        for offset, row in enumerate(values):
            step = first_step + offset
            if any(v != v or v in (float("inf"), float("-inf")) for v in row[:2]):
                raise Diverged(f"training diverged at step {step} — try a lower learning rate")
            rows.append({"step": step, "epoch": self.epoch, **dict(zip(METRIC_NAMES, row)),
                         "seconds": round(self.elapsed, 3)})
        self.last_metrics = {k: v for k, v in rows[-1].items() if k in METRIC_NAMES}
        seconds = max(time.perf_counter() - window_start, 1e-9)
        steps_per_second = window_steps / seconds if window_steps else 0.0
        eta = (total_steps - self.step) / steps_per_second if steps_per_second and total_steps else float("inf")
        if self.cfg.max_seconds:
            eta = min(eta, max(self.cfg.max_seconds - self.elapsed, 0.0))
        if self.run_dir:
            self.run_dir.append_metrics(rows, truncate_after_step=self.resumed_at_step)
            self.resumed_at_step = None
        self.on_event(Metrics(rows, self.step, self.epochs_done,
                              steps_per_second * self.cfg.batch_size, self.elapsed, eta))

    def _emit_grid(self, epoch_end):
        if self.rank:
            return
        image = self.sample_grid()
        if self.run_dir:
            self.run_dir.save_grid(image, self.epoch if epoch_end else None)
        self.on_event(GridSampled(self.epoch, self.step, image, epoch_end))

    def _score_quality(self):
        if self.quality_meter is None:  # not rank 0
            return
        score = self.quality_meter.score(self.gan.draw(self.quality_noise),
                                         asked=asked_classes(self.quality_noise, self.model_cfg.classes))
        epoch = round(self.epochs_done, 3)
        self.last_quality = {"epoch": epoch, **score.as_dict()}
        if self.run_dir:
            self.run_dir.append_quality(epoch, self.step, score)
        self.on_event(QualityScored(epoch, self.step, score))

    def _checkpoint_due(self):
        """At an epoch end: the first (so a run that later diverges keeps a good one), the last, and any
        `checkpoint_seconds` (a minute) or more after the previous save."""
        first = self._checkpointed_at_step is None
        return first or not self._epochs_left() or time.monotonic() - self._checkpointed_at >= self.checkpoint_seconds

    def _checkpoint(self):
        if not self.run_dir:
            return
        path = self.save(self.run_dir.checkpoint)
        self._checkpointed_at_step, self._checkpointed_at = self.step, time.monotonic()
        self.on_event(CheckpointSaved(str(path), self.step))
