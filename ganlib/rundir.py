"""The files of one run folder, named in one place (docs/design.md lists them)."""
import csv
import json
from pathlib import Path

from .checkpoint import CHECKPOINT_NAME, atomic_write

METRIC_NAMES = ("loss_d", "loss_g", "d_real", "d_fake", "grad_norm_g", "grad_norm_d")
CSV_COLUMNS = ("step", "epoch", *METRIC_NAMES, "seconds")
QUALITY_COLUMNS = ("epoch", "step", "frechet", "real_frechet", "diversity", "legible", "as_asked", "worst_as_asked",
                   "kl_uniform", "confidence", "classes_covered", *(f"share_{digit}" for digit in range(10)),
                   "recognised", "real_recognised", "coverage", "real_coverage")


class RunDirectory:
    """config.json, metrics.csv, quality.csv, grids/epoch_NNN.png, grid_final.png, checkpoint.safetensors + .json,
    and timelapse.gif once the Train page has made it."""

    def __init__(self, path):
        self.path = Path(path)
        (self.path / "grids").mkdir(parents=True, exist_ok=True)
        self.config = self.path / "config.json"
        self.metrics = self.path / "metrics.csv"
        self.quality = self.path / "quality.csv"
        self.checkpoint = self.path / f"{CHECKPOINT_NAME}.safetensors"
        self.final_grid = self.path / "grid_final.png"
        self.timelapse = self.path / "timelapse.gif"

    def downloads(self):
        """(label, path, file name) of each file of the run a person can download, those that exist so far."""
        card = self.checkpoint.with_suffix(".json")
        files = [("Checkpoint (.safetensors)", self.checkpoint, self.checkpoint.name),
                 ("Checkpoint card (.json)", card, card.name), ("Metrics (.csv)", self.metrics, "metrics.csv"),
                 ("Quality meter (.csv)", self.quality, "quality.csv"), ("Final grid (.png)", self.final_grid, "grid.png"),
                 ("Timelapse (.gif)", self.timelapse, "timelapse.gif")]
        return [(label, path, name) for label, path, name in files if path.exists()]

    def write_config(self, config):
        atomic_write(self.config, lambda tmp: Path(tmp).write_text(json.dumps(config, indent=2)))

    def append_metrics(self, rows, truncate_after_step=None):
        """Append rows to metrics.csv; when resuming, first drop rows past the checkpoint's step, in one atomic
        rewrite: a reader (the page, a node mirroring the folder) sees the old file or the new, never a part."""
        if truncate_after_step is None or not self.metrics.exists():
            return append_csv(self.metrics, CSV_COLUMNS, rows)
        with open(self.metrics, newline="") as f:
            reader = csv.DictReader(f)
            kept = [row for row in reader if int(row["step"]) <= truncate_after_step]
            columns = reader.fieldnames or CSV_COLUMNS
        atomic_write(self.metrics, lambda tmp: write_csv(tmp, columns, kept + list(rows)))

    def append_quality(self, epoch, step, score):
        """One row per epoch of the quality meter's figures (digit shares blank for non-digit data)."""
        row = {"epoch": epoch, "step": step, **score.as_dict()}
        row.update({f"share_{digit}": share for digit, share in enumerate(score.class_histogram or [])})
        append_csv(self.quality, QUALITY_COLUMNS, [row])

    def grid_path(self, epoch):
        return self.path / "grids" / f"epoch_{epoch:03d}.png"

    def save_grid(self, image, epoch=None):
        """Save a grid as the final grid and, at an epoch end, as that epoch's grid too."""
        if epoch is not None:
            image.save(self.grid_path(epoch))
        atomic_write(self.final_grid, lambda tmp: image.save(tmp, format="PNG"))


def append_csv(path, columns, rows):
    """Append dict rows to a CSV file, writing the header when the file is new and keeping the header it has
    otherwise (a run resumed from an older version's folder)."""
    if not path.exists():
        return write_csv(path, columns, rows)
    with open(path, newline="") as f:
        columns = next(csv.reader(f), None) or columns
    with open(path, "a", newline="") as f:
        csv.DictWriter(f, fieldnames=columns, extrasaction="ignore").writerows(rows)


def write_csv(path, columns, rows):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
