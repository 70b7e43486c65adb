"""A run's events as TensorBoard event files (`train --tensorboard DIR`), for people who keep their runs there (W&B
and trackio read the same files).

The writer is torch's own, which needs the optional `tensorboard` package (`pip install "gan-studio[tensorboard]"`);
GAN Studio never needs it otherwise.
"""
import json

import numpy as np

from .config import config_to_dict
from .errors import ConfigError
from .rundir import METRIC_NAMES
from .events import Failed, Finished, GridSampled, Metrics, QualityScored, Started

INSTALL_HINT = 'pip install "gan-studio[tensorboard]" (or pip install tensorboard)'


def summary_writer(folder):
    """torch's SummaryWriter on `folder`, or one line saying what to install."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ConfigError(f"--tensorboard needs the tensorboard package: {INSTALL_HINT}") from error
    return SummaryWriter(log_dir=str(folder))


class TensorBoardLog:
    """Listens to a trainer's events: every step's losses, D(x), D(G(z)) and gradient norms; img/s at each report;
    the quality meter's figures and the sample grid at each epoch; the settings as text at the start."""

    def __init__(self, folder, model_cfg, train_cfg):
        self.writer = summary_writer(folder)
        self.settings = {"model": config_to_dict(model_cfg), "train": config_to_dict(train_cfg)}

    def __call__(self, event):
        if isinstance(event, Started):
            self.writer.add_text("settings", f"```json\n{json.dumps(self.settings, indent=2)}\n```", 0)
        elif isinstance(event, Metrics):
            for row in event.rows:
                for name in METRIC_NAMES:
                    self.writer.add_scalar(f"train/{name}", row[name], row["step"])
            self.writer.add_scalar("speed/images_per_second", event.images_per_second, event.step)
        elif isinstance(event, GridSampled):
            self.writer.add_image("samples", np.asarray(event.image.convert("RGB")), event.step, dataformats="HWC")
        elif isinstance(event, QualityScored):
            for name, value in event.score.as_dict().items():
                if isinstance(value, (int, float)):
                    self.writer.add_scalar(f"quality/{name}", value, event.step)
            self.writer.flush()
        elif isinstance(event, (Finished, Failed)):
            self.writer.add_text("outcome", getattr(event, "reason", None) or event.message, event.step)
            self.writer.close()


def with_tensorboard(on_event, folder, model_cfg, train_cfg):
    """One callable for every event: the TensorBoard log first (when `folder` is given), then `on_event`. Where the
    run trains does not matter: a run on a Ray cluster logs on the app's side, from the events it sends back."""
    listeners = [on_event] if on_event is not None else []
    if folder:
        listeners.insert(0, TensorBoardLog(folder, model_cfg, train_cfg))

    def broadcast(event):
        for listener in listeners:
            listener(event)
    return broadcast
