"""The trainer's events: the vocabulary in which a run tells the world what happened.

The trainer emits them; the run record, TensorBoard, the CLI's progress bar and the Ray backend listen. They are plain
data (numbers, strings, PIL images, the quality meter's figures) so that they pickle across a process boundary: a run
training in a Ray actor sends the very same events to the app that a run in a thread hands it directly.
"""
from dataclasses import dataclass

from PIL.Image import Image


@dataclass
class Started:
    device: str
    precision: str
    dataset_size: int
    steps_per_epoch: int
    total_steps: int  # 0: the time limit alone ends the run
    skipped_images: int
    real_grid: Image = None  # a grid of real training images, to show beside the fakes

    def data_summary(self):
        """'loaded 9,812 images, skipped 3': files that are not readable images are counted, never fatal."""
        loaded = f"loaded {self.dataset_size:,} images"
        if not self.skipped_images:
            return loaded
        return f"{loaded}, skipped {self.skipped_images:,} (not images, unreadable or too large)"


@dataclass
class Metrics:
    rows: list  # one dict per step: step, epoch, loss_d, loss_g, d_real, d_fake, grad_norm_g, grad_norm_d, seconds
    step: int
    epoch: float  # fractional: 2.5 is halfway through the third epoch
    images_per_second: float
    elapsed: float
    eta_seconds: float


@dataclass
class GridSampled:
    epoch: int  # epochs completed when the grid was drawn
    step: int
    image: Image
    epoch_end: bool


@dataclass
class QualityScored:
    epoch: float  # fractional when a run ended mid-epoch
    step: int
    score: object  # quality.QualityScore: the meter's figures


@dataclass
class CheckpointSaved:
    path: str
    step: int


@dataclass
class Finished:
    reason: str  # "completed", "max_steps", "max_seconds", "time_cap" (the host's wall-clock cap) or "stopped"
    step: int
    epoch: int


@dataclass
class Failed:
    message: str
    step: int


@dataclass
class Placed:
    """A cluster gave the run a place to train (the Ray backend): 'node 2 of 5, GPU 0'."""
    where: str


@dataclass
class Moved:
    """The node a run trained on was lost: it goes on elsewhere from its checkpoint at `step`, and what came after
    that step is trained again (with the same numbers)."""
    message: str
    step: int
