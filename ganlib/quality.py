"""The quality meter: "is it getting better?" as numbers, computed offline from a batch of samples.

Digit data is scored by the shipped digit classifier: which digits come out (class histogram, KL from
uniform), how clearly (mean confidence), and a Fréchet distance between sample and real features. Other data is
scored by the colour meter's network, trained on the shipped emoji (ganlib/image_features.py): a Fréchet distance
and coverage (how much of the real images' variety the samples reach), and for emoji how many samples it
recognises as some kind of emoji. Each figure comes with its floor: real images the reference has not seen,
scored the same way. Both report diversity: spread of sample features relative to real ones.
"""
import math
from dataclasses import asdict, dataclass

import torch
from torch.nn import functional as F

from .classifier import load_digit_classifier
from .image_features import load_image_features
from .latent import render, sample_z
from .models import asked_classes

QUALITY_SAMPLES = 1000  # per score: every figure in a run, a card and `score` uses this many samples
REAL_REFERENCE_IMAGES = 2000
DIGIT_DATASETS = ("mnist-sample", "mnist")
COVERED_SHARE = 0.25  # a digit counts as covered when it gets at least a quarter of its fair share
NEIGHBOURS = 5  # k of the k-nearest-neighbour figures (Naeem et al.'s choice for density and coverage)
RECOGNISED = 0.9  # a sample the colour meter names a kind of emoji for this surely reads as an emoji
LEGIBLE = 0.9  # a sample the classifier reads this surely is a legible digit (real MNIST digits: ~95% of them)


@dataclass
class QualityScore:
    frechet: float  # Fréchet distance of sample features from real features; lower is better
    diversity: float  # mean pairwise feature distance of samples ÷ that of real images; ~1 is healthy
    real_frechet: float = None  # the yardstick: real images not in the reference, scored the same way
    class_histogram: list = None  # digits only: share of samples classified as 0..9
    kl_uniform: float = None  # digits only: KL(histogram ‖ uniform); 0 is even, log 10 = 2.30 is one digit
    confidence: float = None  # digits only: mean top-class probability
    classes_covered: int = None  # digits only: digits with at least a quarter of their fair share
    legible: float = None  # digits only: share of samples the classifier reads with at least LEGIBLE confidence
    as_asked: float = None  # conditional digits only: share of samples read as the digit they were drawn for
    worst_as_asked: float = None  # conditional digits only: that share for the digit drawn least faithfully
    coverage: float = None  # colour: share of real images with a sample among their nearest neighbours (variety)
    real_coverage: float = None  # colour: the floor, real images not in the reference
    recognised: float = None  # emoji: share of samples the colour meter names a kind of emoji for, surely
    real_recognised: float = None  # emoji: the floor

    def as_dict(self):
        return {k: v for k, v in asdict(self).items() if v is not None}

    def summary(self):
        """One line for a progress bar or a status line."""
        frechet = f"Fréchet {self.frechet:.1f}" + (f" (real: {self.real_frechet:.1f})" if self.real_frechet else "")
        if self.class_histogram is None:
            if self.coverage is None:  # cards of older meters
                return f"{frechet} · diversity {self.diversity:.2f}"
            recognised = "" if self.recognised is None else \
                f"{self.recognised:.0%} read as emoji{beside_floor(self.real_recognised)} · "
            return (f"how real: {recognised}{frechet} · how varied: covers "
                    f"{self.coverage:.0%}{beside_floor(self.real_coverage)}")
        legible = f"legible {self.legible:.0%} · " if self.legible is not None else ""  # older cards lack it
        if self.as_asked is not None:
            legible += f"as asked {self.as_asked:.0%} (worst digit {self.worst_as_asked:.0%}) · "
        return (f"{legible}digits {self.classes_covered}/10 · KL {self.kl_uniform:.3f} · confidence "
                f"{self.confidence:.2f} · {frechet}")


def beside_floor(share):
    """' (real: 84%)', or nothing where the meter had no real images to spare."""
    return "" if share is None else f" (real: {share:.0%})"


def gaussian_stats(features):
    features = features.double()
    return features.mean(0), torch.cov(features.T)


def frechet_distance(stats_a, stats_b):
    """‖μa − μb‖² + tr(Σa + Σb − 2(Σa Σb)^½), the matrix root taken through symmetric eigendecompositions."""
    (mu_a, cov_a), (mu_b, cov_b) = stats_a, stats_b
    values, vectors = torch.linalg.eigh(cov_a)
    root_a = vectors @ torch.diag(values.clamp(min=0).sqrt()) @ vectors.T
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp(min=0).sqrt().sum()
    return ((mu_a - mu_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * cross).item()


def mean_pairwise_distance(features, limit=500):
    features = features[:limit].float()
    n = len(features)
    if n < 2:
        return 0.0
    distances = torch.cdist(features, features, compute_mode="donot_use_mm_for_euclid_dist")  # exact 0 for copies
    return (distances.sum() / (n * (n - 1))).item()


def manifold_figures(real, fake, k=NEIGHBOURS, real_radius=None):
    """Precision, recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020) of fake features
    against real ones [N, D], from k-nearest-neighbour balls: each real point's ball reaches its k-th nearest real
    neighbour (recall uses the fakes' own balls). Precision: fakes inside some real ball; recall: reals inside some
    fake ball; density: real balls a fake lies in, ÷ k, averaged; coverage: real balls that hold at least one fake.
    `real_radius`: the real balls, where a meter scoring many batches against one reference has them already."""
    real, fake = real.double(), fake.double()
    real_radius = kth_neighbour_distance(real, k) if real_radius is None else real_radius
    fake_radius = kth_neighbour_distance(fake, k)
    distances = torch.cdist(real, fake)  # [N real, M fake]
    inside_real = distances <= real_radius[:, None]
    return {"precision": inside_real.any(0).double().mean().item(),
            "recall": (distances <= fake_radius[None, :]).any(1).double().mean().item(),
            "density": (inside_real.double().sum(0) / k).mean().item(),
            "coverage": inside_real.any(1).double().mean().item()}


def kth_neighbour_distance(features, k):
    """Each point's distance to its k-th nearest other point."""
    distances = torch.cdist(features, features)
    return distances.kthvalue(k + 1, dim=1).values  # the first is the point itself, at 0


def kl_from_uniform(histogram):
    k = len(histogram)
    return float(sum(p * math.log(p * k) for p in histogram if p > 0))


def read_as_emoji(probabilities):
    """[N] bool: which images the colour meter names a kind of emoji for, from its probabilities [N, kinds]."""
    return probabilities.max(1).values >= RECOGNISED


def meter_network(dataset_name, device="cpu"):
    """The meter's frozen network for a dataset: the digit classifier for digits, the colour features otherwise."""
    with torch.random.fork_rng(devices=[]):  # building layers draws from the global RNG a run replays
        network = load_digit_classifier(device=device) if dataset_name in DIGIT_DATASETS else \
            load_image_features(device=device)
    # NHWC: twice as fast on the CPU (max pooling above all), so a score costs little time per epoch
    return network.to(memory_format=torch.channels_last).eval().requires_grad_(False)


def meter_input(images, digits):
    """Images [N, C, H, W] in [-1, 1] as the meter's network reads them (the digit classifier: 28×28 grayscale)."""
    if digits:
        images = images.mean(1, keepdim=True) if images.shape[1] == 3 else images
        if images.shape[-1] != 28:
            images = F.interpolate(images, size=(28, 28), mode="bilinear", antialias=True)
    return images.contiguous(memory_format=torch.channels_last)


def reference_and_yardstick(n, seed=0):
    """(reference, yardstick): the indices of a dataset of n images that a meter built with this seed compares
    samples against, and those it scores as real images it has not seen (QualityMeter.for_data)."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    spare = min(QUALITY_SAMPLES, max(n - REAL_REFERENCE_IMAGES, n // 2)) if n >= 4 else 0
    count = min(REAL_REFERENCE_IMAGES, n - spare)
    return order[:count], order[count:count + spare] if spare else order[:QUALITY_SAMPLES]


class QualityMeter:
    """Scores batches of generated images against real images of the same dataset; built once per run."""

    def __init__(self, dataset_name, real_images, device="cpu", yardstick_images=None):
        """real_images: float [N, C, H, W] in [-1, 1], a few thousand of the training images; yardstick_images:
        other real images whose score says how close "as good as real" is."""
        self.digits, self.device = dataset_name in DIGIT_DATASETS, device
        self.emoji = dataset_name == "emoji"  # the colour meter's network names kinds of emoji, nothing else
        self.network = meter_network(dataset_name, device)
        self.real_features = self._features_and_probabilities(real_images)[0]
        self.real_stats = gaussian_stats(self.real_features)
        self.real_spread = mean_pairwise_distance(self.real_features)
        self.real_radius = None if self.digits else kth_neighbour_distance(self.real_features.double(), NEIGHBOURS)
        self.floor = None
        if yardstick_images is not None:
            self.floor = self.score(yardstick_images)

    @property
    def real_frechet(self):
        return self.floor.frechet if self.floor else None

    @classmethod
    def for_data(cls, dataset_name, data, seed=0, device="cpu"):
        """A meter whose real reference is up to REAL_REFERENCE_IMAGES images of a loaded dataset, and whose
        yardstick is up to QUALITY_SAMPLES others: a small dataset (the 1,906 emoji) is split in two halves, so
        the yardstick is always real images the reference has not seen (the same ones only below 4 images)."""
        reference, yardstick = reference_and_yardstick(len(data), seed)
        load = lambda index: torch.cat([next(data.batches(chunk, len(chunk))) for chunk in index.split(500)])
        return cls(dataset_name, load(reference), device, yardstick_images=load(yardstick))

    @torch.inference_mode()
    def _features_and_probabilities(self, images):
        features, probabilities = [], []
        for chunk in images.split(500):
            feature = self.network.features(meter_input(chunk.to(self.device, torch.float32), self.digits))
            if self.digits or self.emoji:
                probabilities.append(self.network.head(feature).softmax(1))
            features.append(feature)
        return torch.cat(features), torch.cat(probabilities) if probabilities else None

    def read_as_emoji(self, images):
        """[N] bool: which of the images [N, C, H, W] in [-1, 1] an emoji meter reads as emoji."""
        return read_as_emoji(self._features_and_probabilities(images)[1])

    def score_generator(self, generator, model_cfg, seed=1):
        """Score QUALITY_SAMPLES samples of an eval-mode generator from one seed: the figures `score` and the
        checkpoint cards give (a run's trainer draws the same latents, seed + 1 of its training seed)."""
        z = sample_z(QUALITY_SAMPLES, model_cfg.latent_dim, seed=seed)
        return self.score(render(generator, z), asked_classes(z, model_cfg.classes))

    def score(self, images, asked=None):
        """images: float [N, C, H, W] in [-1, 1] (N ≥ 2; QUALITY_SAMPLES for figures comparable across runs);
        asked: the digit each was drawn for [N], for a conditional generator."""
        features, probabilities = self._features_and_probabilities(images)
        score = QualityScore(frechet=frechet_distance(gaussian_stats(features), self.real_stats),
                             diversity=mean_pairwise_distance(features) / max(self.real_spread, 1e-12),
                             real_frechet=self.real_frechet)
        if not self.digits:
            score.coverage = manifold_figures(self.real_features, features, real_radius=self.real_radius)["coverage"]
            score.real_coverage = self.floor.coverage if self.floor else None
            if self.emoji:
                score.recognised = read_as_emoji(probabilities).float().mean().item()
                score.real_recognised = self.floor.recognised if self.floor else None
            return score
        if probabilities is not None:
            counts = torch.bincount(probabilities.argmax(1), minlength=10).float()
            histogram = (counts / counts.sum()).tolist()
            score.class_histogram = [round(p, 4) for p in histogram]
            score.kl_uniform = kl_from_uniform(histogram)
            score.confidence = probabilities.max(1).values.mean().item()
            score.legible = (probabilities.max(1).values >= LEGIBLE).float().mean().item()
            score.classes_covered = sum(p >= COVERED_SHARE / 10 for p in histogram)
            if asked is not None:
                read_as_asked = (probabilities.argmax(1) == asked.to(probabilities.device)).float()
                score.as_asked = read_as_asked.mean().item()
                score.worst_as_asked = min(read_as_asked[asked == digit].mean().item() for digit in asked.unique())
        return score
