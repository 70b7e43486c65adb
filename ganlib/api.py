"""The Python front, for notebooks and scripts: `ganlib.train(...)` and `ganlib.load(...)`.

These are the calls the command line makes (`train`, `sample`, `interpolate`, `score`), returning plain data and
pictures a notebook shows instead of files: a trained run's losses and quality figures as lists and dicts, grids as
PIL images, walks as GIFs.
"""
import base64
import io
import sys
import threading
import time
from pathlib import Path

import torch

from .checkpoint import load_generator
from .config import PRESETS, WITHOUT_LABELS, check_choice, epochs_of, preset
from .datasets import DATASETS, TensorImages, class_names, conditional_settings, load_dataset
from .device import cpu_threads, resolve_device
from .errors import ConfigError, GanStudioError
from .events import Failed, Finished, Metrics, Moved, Placed, QualityScored, Started
from .host import run_memory_budget
from .images import scatter_picture, to_pil_grid
from .eye_codes import codes_to_draw
from .latent import latent_path, render, render_gif, sample_z, with_class, with_codes_among
from .memory import check_output_memory
from .pointgan import point_noise
from .projection import (STEPS, Projection, checked_latent, nearest_training_image, prepare_image, project,
                         read_projection_latent)
from .points import POINT_DATASETS
from .quality import QualityMeter
from .ray_backend import ClusterSettings, RayTrainer
from .runs import Run
from .text import folded
from .trainer import Trainer


# --- training ----------------------------------------------------------------------------------------

def run_configs(model=None, dataset=None, conditional=None, **given):
    """(ModelConfig, TrainConfig) of a new run: the model's preset, then the dataset's natural size (and its DCGAN
    recipe), then the settings given. A run length given in epochs or steps replaces the preset's time limit, unless
    a time limit is given too. Labelled digits train class-conditional unless `conditional=False`."""
    dataset = dataset or "mnist-sample"
    check_choice("dataset", dataset, [*DATASETS, *POINT_DATASETS])
    points = dataset in POINT_DATASETS
    model = model or ("mlp2d" if points else "dcgan")
    if points != (model == "mlp2d"):
        raise ConfigError(f"--model {model} does not fit --dataset {dataset}: 2D datasets "
                          f"({', '.join(POINT_DATASETS)}) train --model mlp2d, image datasets "
                          f"{', '.join(name for name in PRESETS if name != 'mlp2d')}")
    overrides = {"dataset": dataset}
    if not points:
        overrides.update(DATASETS[dataset].settings(model))
    if conditional:
        given = {**conditional_settings(dataset, given.get("data_dir") or ""), **given}
    elif overrides.get("classes") and (conditional is False or given.get("latent_codes")):
        overrides.update(WITHOUT_LABELS)  # the user's own latent codes, if any, still win
    if ("epochs" in given or "max_steps" in given) and "max_seconds" not in given:
        overrides["max_seconds"] = 0.0
    return preset(model, **{**overrides, **given})


def train(dataset="mnist-sample", *, model=None, conditional=None, out=None, tensorboard=None, background=False,
          progress=True, ray=None, **settings):
    """Train a GAN and return its TrainingRun: `ganlib.train(dataset="mnist-sample", max_seconds=60)`.

    Settings are the command line's, as keywords (`lr=1e-4`, `batch_size=128`, `max_steps=500`, `image_size=64`).
    The run folder is `out` (default runs/MODEL-DATASET-TIME). With `background=True` it returns at once while the
    run trains in a thread (`run.wait()`, `run.stop()`); otherwise it returns when the run ends (an interrupt stops
    it cleanly, and what it trained is kept). With `ray="HOST:PORT"` (or "local") it trains on a Ray cluster and the
    folder fills in here all the same.
    """
    if "lr" in settings:
        lr = settings.pop("lr")
        settings = {"lr_g": lr, "lr_d": lr, **settings}
    model_cfg, train_cfg = run_configs(model, dataset, conditional, **settings)
    if model_cfg.family == "mlp2d":
        raise ConfigError("2D datasets train on the Playground page or with `python -m ganlib train`")
    out = Path(out) if out else default_run_folder(model_cfg, train_cfg)
    check_out_folder(out, "out", resume=None)
    run = TrainingRun(model_cfg, train_cfg, out, tensorboard=tensorboard, progress=progress and not background,
                      cluster=ClusterSettings.from_environment(ray) if ray else None)
    return run.start() if background else run.start().wait()


def default_run_folder(model_cfg, train_cfg):
    """runs/MODEL-DATASET-TIME: a new folder for each run."""
    return Path("runs") / f"{model_cfg.family}-{train_cfg.dataset}-{time.strftime('%Y%m%d-%H%M%S')}"


def check_out_folder(out, option="--out", resume="--resume"):
    """A new run gets a folder of its own: mixing it into another run's files (its metrics.csv appended to) would
    corrupt both. `option` and `resume` name the caller's settings in the refusal."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{option} {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()):
        carry_on = f"continue it with {resume} {out}, or " if resume else ""
        raise ConfigError(f"{option} {out} already holds files (another run?): {carry_on}choose another {option}")


class TrainingRun:
    """One training run: its settings, folder and history, collected from the trainer's events as it goes."""

    def __init__(self, model_cfg, train_cfg, out, *, resume=None, tensorboard=None, progress=False, cluster=None):
        self.model_cfg, self.train_cfg, self.folder = model_cfg, train_cfg, Path(out)
        self.cluster = cluster  # ClusterSettings: train on Ray; None: here
        self.record = Run(self.folder.name, "", model_cfg, train_cfg, self.folder, status="starting",
                          cluster=cluster is not None)
        self.progress = ConsoleProgress(self.folder, train_cfg) if progress else None
        self.trainer = None
        self.resume, self.tensorboard = resume, tensorboard
        self._thread = None
        self._built = threading.Event()
        self._failure = None

    def start(self):
        """Train in a thread of its own (torch's thread count belongs to the thread that trains)."""
        self._thread = threading.Thread(target=self._work, name=f"ganlib-{self.folder.name}", daemon=True)
        self._thread.start()
        self._built.wait()
        if self._failure:
            raise self._failure
        return self

    def _work(self):
        try:
            where = ({"cluster": self.cluster} if self.cluster else {"cpu_threads": cpu_threads()})
            self.trainer = (RayTrainer if self.cluster else Trainer)(
                self.model_cfg, self.train_cfg, run_dir=self.folder, on_event=self._on_event, resume=self.resume,
                tensorboard=self.tensorboard, **where)
        except Exception as error:  # settings that cannot work (or a bug): raised in the caller's thread
            self._failure = error
        finally:
            self._built.set()
        if not self._failure:
            self.trainer.run()

    def _on_event(self, event):
        self.record.on_event(event)
        if self.progress:
            self.progress(event, self.trainer)

    def wait(self, timeout=None):
        """Block until the run ends (Ctrl-C or the notebook's stop button stops it); returns the run."""
        try:
            self._thread.join(timeout)
        except KeyboardInterrupt:
            self.stop()
            self._thread.join()
        return self

    def stop(self):
        """Stop within one step; the run saves its checkpoint and final grid first."""
        if self.trainer:
            self.trainer.stop()
        return self

    @property
    def status(self):
        """queued, running, finished, stopped or failed."""
        return self.record.status

    @property
    def message(self):
        """Why a failed run failed, in words."""
        return self.record.message

    @property
    def metrics(self):
        """Every step's figures, as in metrics.csv: [{step, epoch, loss_d, loss_g, d_real, d_fake, …}, …]."""
        return list(self.record.rows)

    @property
    def losses(self):
        """{'step': [...], 'loss_d': [...], 'loss_g': [...]}: ready for a plot or a DataFrame."""
        rows = self.metrics
        return {name: [row[name] for row in rows] for name in ("step", "loss_d", "loss_g")}

    @property
    def quality(self):
        """The quality meter's figures at each epoch: [{epoch, step, frechet, real_frechet, …}, …]."""
        return [{"epoch": scored.epoch, "step": scored.step, **scored.score.as_dict()} for scored in self.record.quality]

    def grid(self, index=-1):
        """The sample grid drawn at an epoch's end (the last one by default) as a PIL image."""
        if not self.record.grids:
            raise GanStudioError("no grid yet: the first is drawn at the end of the first epoch")
        return self.record.grids[index].image

    def generator(self):
        """The run's generator, as `ganlib.load` gives it."""
        if not self.record.checkpoint_path:
            raise GanStudioError("no checkpoint yet: the first is saved at the end of the first epoch")
        return load(self.record.checkpoint_path)

    def __repr__(self):
        latest = f", {self.record.quality[-1].score.summary()}" if self.record.quality else ""
        steps = self.record.progress.step if self.record.progress else 0
        return f"<TrainingRun {self.status}: {steps:,} steps{latest}; folder {self.folder}>"


class ConsoleProgress:
    """A tqdm bar for a run (the command line's and a notebook's): a first line saying what trains where, then
    steps, img/s, losses, D(x) and D(G(z)), and a line per quality score."""

    def __init__(self, folder, train_cfg):
        self.folder, self.train_cfg = folder, train_cfg
        self.bar = None

    def __call__(self, event, trainer):
        from tqdm import tqdm

        if trainer.rank:  # under torchrun, rank 0 alone reports
            return
        if isinstance(event, Started):
            processes = f" × {trainer.world_size} processes" if trainer.world_size > 1 else ""
            print(f"{event.data_summary()}; training on {event.device}{processes}, "
                  f"{event.precision}; {event.steps_per_epoch} steps/epoch → {self.folder}", file=sys.stderr)
            self.bar = tqdm(total=event.total_steps or None, initial=trainer.step, unit="step", dynamic_ncols=True)
        elif isinstance(event, Metrics):
            last = event.rows[-1]
            self.bar.update(event.step - self.bar.n)
            self.bar.set_postfix_str(f"epoch {event.epoch:.1f}{epochs_of(self.train_cfg)} "
                                     f"{event.images_per_second:,.0f} img/s loss_D {last['loss_d']:.3f} "
                                     f"loss_G {last['loss_g']:.3f} D(x) {last['d_real']:.2f} "
                                     f"D(G(z)) {last['d_fake']:.2f} left {event.eta_seconds:.0f}s")
        elif isinstance(event, QualityScored):
            tqdm.write(f"epoch {event.epoch:g}: {event.score.summary()}")
        elif isinstance(event, Placed):
            print(f"the Ray cluster placed the run on {event.where}", file=sys.stderr)
        elif isinstance(event, Moved):
            tqdm.write(f"the run moved: {event.message}")
        elif isinstance(event, (Finished, Failed)) and self.bar is not None:
            self.bar.close()


# --- a trained generator -------------------------------------------------------------------------------

def load(path, device="auto"):
    """A generator from a run folder, a checkpoint, an exported generator or a Hub folder, checked as every front
    checks weights: `ganlib.load("checkpoints/mnist-cdcgan").sample(64)`."""
    network, checkpoint = load_generator(path, resolve_device(device, torch.get_num_threads()))
    return TrainedGenerator(network, checkpoint, Path(path))


class TrainedGenerator:
    """What a trained generator can do: draw samples (of a class, for a conditional one), walk between two of them,
    and be scored by the quality meter."""

    def __init__(self, network, checkpoint, path):
        self.network, self.checkpoint, self.path = network, checkpoint, path
        self.model_cfg, self.train_cfg = checkpoint.model_cfg, checkpoint.train_cfg

    @property
    def classes(self):
        """The names of the classes a conditional generator draws ('0'…'9', 'Flags'); empty for others."""
        if not self.model_cfg.classes:
            return ()
        return class_names(self.train_cfg.dataset, self.train_cfg.data_dir, self.model_cfg.classes)

    def class_index(self, label):
        """The index of a class given by name or number (7, '7', 'Flags'), or one line saying what it can be."""
        names = self.classes
        if not names:
            raise GanStudioError("a class needs a conditional generator (trained with --conditional); this one draws "
                                 "whatever it likes")
        asked = str(label)
        keys = [folded(name) for name in names]
        if folded(asked) in keys:
            return keys.index(folded(asked))
        if asked.isdigit() and int(asked) < len(names):
            return int(asked)
        raise GanStudioError(f"class {asked[:40]!r} is not one of this generator's classes: {', '.join(names)} "
                             f"(or a number from 0 to {len(names) - 1})")

    def latents(self, n, seed=0, label=None, truncation=None, codes=None):
        """n latents [n, latent_dim] from a seed, asking for class `label` where given, and keeping to the latent
        `codes` where given (numbers, or "eye" for those the card names as drawing recognisable images)."""
        z = sample_z(n, self.model_cfg.latent_dim, seed=seed, truncation=truncation)
        if codes is not None:
            z = with_codes_among(z, self.codes_to_draw(codes), self.model_cfg.latent_codes)
        return z if label is None else with_class(z, self.class_index(label), self.model_cfg.classes)

    def codes_to_draw(self, codes):
        """The latent codes a draw keeps to (numbers, or "eye"), or one line saying why they cannot be drawn."""
        return codes_to_draw(codes, self.checkpoint.card, getattr(self.model_cfg, "latent_codes", 0))

    def images(self, n=64, seed=0, label=None, truncation=None, codes=None):
        """n samples as a tensor [n, C, H, W] in [-1, 1] (2D generators: points [n, 2])."""
        if n < 1:
            raise GanStudioError("n must be at least 1")
        if codes is not None:
            codes = self.codes_to_draw(codes)
        check_output_memory(self.model_cfg, n, "n", run_memory_budget(runs_at_once=1))
        if self.model_cfg.family == "mlp2d":
            with torch.no_grad():
                return self.network(point_noise(n, self.model_cfg, torch.Generator().manual_seed(seed))).cpu()
        return render(self.network, self.latents(n, seed, label, truncation, codes))

    def sample(self, n=64, seed=0, label=None, truncation=None, nrow=None, codes=None):
        """n samples as one picture: a grid (2D generators: a scatter of the points)."""
        drawn = self.images(n, seed, label, truncation, codes)
        if self.model_cfg.family == "mlp2d":
            return scatter_picture([(drawn, (31, 119, 180))], self.model_cfg.data_scale)
        return to_pil_grid(drawn, nrow=nrow)

    def walk(self, seed_a=0, seed_b=1, steps=10, method="slerp"):
        """The images along a latent path from seed_a's sample to seed_b's: a tensor [steps, C, H, W]. Either end may
        also be a Projection, its file or a latent tensor: walk from your drawing."""
        return render(self.network, self._path(seed_a, seed_b, steps, method))

    def interpolate(self, seed_a=0, seed_b=1, steps=10, method="slerp", frame_ms=80, scale=2):
        """The same walk as an animated GIF a notebook shows (`.save(path)` writes it)."""
        buffer = io.BytesIO()
        render_gif(self.network, self._path(seed_a, seed_b, steps, method), buffer, frame_ms=frame_ms, scale=scale)
        return Animation(buffer.getvalue())

    def _path(self, start, end, steps, method):
        if steps < 2:
            raise GanStudioError("steps must be at least 2")
        check_output_memory(self.model_cfg, steps, "steps", run_memory_budget(runs_at_once=1))
        return latent_path([self.latent_of(start), self.latent_of(end)], steps, method)

    @property
    def identity(self):
        """Which generator this is, as projection files name it: the hash of its weights."""
        return self.checkpoint.card.get("weights_sha256", "")

    def latent_of(self, key):
        """A walk's end [latent_dim]: a seed's sample, a projection (or its file, `project --out FILE.npz`), or a
        latent tensor; a file of another generator, or numbers no latent has, is refused in one line."""
        if isinstance(key, (str, Path)):
            return read_projection_latent(key, self.model_cfg.latent_dim, self.identity)
        if isinstance(key, Projection):
            key = key.latent
        if isinstance(key, torch.Tensor):
            return checked_latent(key, self.model_cfg.latent_dim)
        return sample_z(1, self.model_cfg.latent_dim, seed=key)[0]

    def project(self, image, label=None, steps=STEPS, seed=0, progress=True, data_dir=None):
        """Your image (a path, bytes or a PIL image) projected into this generator: a Projection with the generator's
        closest drawing, its latent, the distance, the best of 1,000 random samples' distance and the nearest real
        training image; a notebook shows the three side by side. `label` fixes a conditional generator's class."""
        from tqdm import tqdm

        if self.model_cfg.family == "mlp2d":
            raise GanStudioError("a 2D generator draws points, not images: there is nothing to project into it")
        index = None if label is None else self.class_index(label)
        target = prepare_image(image, self.model_cfg, self.train_cfg.dataset)
        with tqdm(total=steps, unit="step", desc="projecting", disable=not progress) as bar:
            found = project(self.network, self.model_cfg, self.train_cfg.dataset, target, index, steps, seed,
                            on_progress=lambda done, total: bar.update(done - bar.n))
        training = self.training_images(data_dir)
        if training is not None:
            found.nearest_real = nearest_training_image(found.input, training)
        return found

    def training_images(self, data_dir=None):
        """The training images (uint8 [N, C, H, W]) where they are at hand and fit in memory, else None."""
        try:
            data = load_dataset(self.train_cfg.dataset, self.model_cfg.image_size, self.model_cfg.channels,
                                data_dir if data_dir is not None else self.train_cfg.data_dir)
        except GanStudioError:
            return None
        return data.images if isinstance(data, TensorImages) else None

    def score(self, seed=1, data_dir=None):
        """The quality meter's QualityScore against real images of the data it learned (`.as_dict()`, `.summary()`)."""
        device = next(self.network.parameters()).device
        data = load_dataset(self.train_cfg.dataset, self.model_cfg.image_size, self.model_cfg.channels,
                            data_dir if data_dir is not None else self.train_cfg.data_dir)
        meter = QualityMeter.for_data(self.train_cfg.dataset, data.to(device), self.train_cfg.seed, device)
        return meter.score_generator(self.network, self.model_cfg, seed=seed)

    def __repr__(self):
        cfg = self.model_cfg
        shape = "2D points" if cfg.family == "mlp2d" else f"{cfg.channels}×{cfg.image_size}×{cfg.image_size}"
        return f"<TrainedGenerator {cfg.family} on {self.train_cfg.dataset}, {shape}, from {self.path}>"


class Animation:
    """A GIF in memory: a notebook shows it, `save` writes it."""

    def __init__(self, data):
        self.data = data

    def save(self, path):
        Path(path).write_bytes(self.data)
        return Path(path)

    def _repr_html_(self):
        return f'<img src="data:image/gif;base64,{base64.b64encode(self.data).decode()}">'
