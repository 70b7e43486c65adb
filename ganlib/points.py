"""Two-dimensional data for the Playground and how close generated points come to it.

Every distribution here is a cloud of centers blurred by a Gaussian of width σ: the two mixtures of the
mode-collapse literature (8 or 25 centers), shapes drawn as a dense line of centers, or a person's own points.
One sampler serves them all, and the mode metric applies to the mixtures.
"""
import csv
import io
import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch

from .errors import DatasetError

METRIC_SAMPLES = 2500  # the mode-collapse literature scores 2,500 samples
MAX_USER_POINTS = 100_000
MAX_CSV_BYTES = 8 * 2**20  # 100,000 rows of two numbers in full float precision fit in 5 MB


@dataclass(frozen=True)
class PointData:
    title: str
    centers: torch.Tensor  # [K, 2]
    sigma: float
    has_modes: bool  # a mixture of a few Gaussians: "modes captured" and "high quality" mean something

    def sample(self, n, generator=None):
        """[n, 2] points: a center chosen uniformly, plus N(0, σ²) noise."""
        index = torch.randint(len(self.centers), (n,), generator=generator)
        return self.centers[index] + self.sigma * torch.randn(n, 2, generator=generator)

    @property
    def scale(self):
        """Half the side of the square that holds the data: the networks see points divided by it."""
        return float(self.centers.abs().max()) + 3 * self.sigma


def ring8():
    angles = torch.arange(8) * (2 * math.pi / 8)
    return PointData("Ring of 8 Gaussians", torch.stack([angles.cos(), angles.sin()], dim=1), 0.01, True)


def grid25():
    values = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
    return PointData("Grid of 25 Gaussians", torch.cartesian_prod(values, values), 0.05, True)


def spiral():
    """Two turns, the radius growing from 0.2 to 1."""
    t = torch.linspace(0, 1, 1000)
    radius, angle = 0.2 + 0.8 * t, 4 * math.pi * t
    return PointData("Spiral", torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1), 0.02, False)


def moons():
    """Two interleaved half circles, centered on the origin."""
    angle = torch.linspace(0, math.pi, 500)
    upper = torch.stack([angle.cos() - 0.5, angle.sin() - 0.25], dim=1)
    lower = torch.stack([0.5 - angle.cos(), 0.25 - angle.sin()], dim=1)
    return PointData("Two moons", torch.cat([upper, lower]), 0.05, False)


POINT_DATASETS = {"ring8": ring8, "grid25": grid25, "spiral": spiral, "moons": moons}


def user_points(points):
    """A person's own points [N, 2], each blurred by 2% of the cloud's extent."""
    points = torch.as_tensor(np.asarray(points, dtype=np.float32)).reshape(-1, 2)
    extent = float((points.max(0).values - points.min(0).values).max()) if len(points) > 1 else 1.0
    return PointData("Your points", points, 0.02 * max(extent, 1e-3), False)


def points_from_csv(data):
    """Parse 'x,y' rows (a header row is skipped) of a CSV's bytes into an [N, 2] array; anything else is one clear
    sentence. The file's size is checked before it is decoded, and reading stops at the row limit."""
    if len(data) > MAX_CSV_BYTES:
        raise DatasetError(f"the points file is {len(data) / 2**20:,.0f} MB; at most {MAX_CSV_BYTES // 2**20} MB "
                           f"({MAX_USER_POINTS:,} rows) are allowed")
    lines = io.StringIO(data.decode("utf-8", errors="replace"), newline="")
    try:
        rows = [row for row in itertools.islice(csv.reader(lines), MAX_USER_POINTS + 2) if any(c.strip() for c in row)]
    except csv.Error as error:
        raise DatasetError(f"the points file is not a CSV of 'x,y' rows ({error})") from error
    if rows and not is_number(rows[0][0]):
        rows = rows[1:]  # a header such as "x,y"
    if not rows:
        raise DatasetError("the points file has no rows: write one 'x,y' pair per line")
    if len(rows) > MAX_USER_POINTS:
        raise DatasetError(f"the points file has more than {MAX_USER_POINTS:,} rows, the most allowed")
    for number, row in enumerate(rows, start=1):
        if len(row) < 2 or not all(is_number(cell) for cell in row[:2]):
            raise DatasetError(f"row {number} of the points file is not two numbers 'x,y': {','.join(row)[:40]!r}")
    points = np.array([[float(row[0]), float(row[1])] for row in rows], dtype=np.float32)
    if not np.isfinite(points).all():
        raise DatasetError("the points file holds an infinite or NaN coordinate")
    return points


def is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ModeCoverage:
    captured: int  # modes that are the nearest center of at least one high-quality sample
    modes: int
    high_quality: float  # share of samples within 3σ of their nearest center


def mode_coverage(samples, data):
    """The metric of the mode-collapse literature (VEEGAN, PacGAN) for [N, 2] samples of a mixture."""
    distance, nearest = torch.cdist(samples.float(), data.centers).min(dim=1)
    good = distance < 3 * data.sigma
    return ModeCoverage(len(torch.unique(nearest[good])), len(data.centers), float(good.float().mean()))


def divergences(real, fake, bound, bins=50):
    """(KL(real‖fake), JS) of two [N, 2] clouds, from histograms on a bins×bins grid over [−bound, bound]².

    Empty cells of the fake histogram get a small floor, so a collapsed generator gives a large but finite KL.
    """
    def histogram(points):
        counts = torch.histogramdd(points.float().cpu(), bins=[bins, bins], range=[-bound, bound] * 2).hist
        return (counts.flatten() + 1e-6) / (counts.sum() + 1e-6 * counts.numel())

    p, q = histogram(real), histogram(fake)
    middle = (p + q) / 2
    kl = float((p * (p / q).log()).sum())
    js = float(0.5 * (p * (p / middle).log()).sum() + 0.5 * (q * (q / middle).log()).sum())
    return kl, js
