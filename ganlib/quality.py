"""The quality meter: "is it getting better?" as numbers, computed offline from a batch of samples.

Digit data is scored by the shipped digit classifier: which digits come out (class histogram, KL from
uniform), how clearly (mean confidence), and a Fréchet distance between sample and real features. Other
data is scored in a fixed random convolutional feature space (no download; it compares runs on the same
data, not across datasets). Both report diversity: spread of sample features relative to real ones.
"""
import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .classifier import load_digit_classifier
from .latent import render, sample_z
from .models import asked_classes

QUALITY_SAMPLES = 1000  # per score: every figure in a run, a card and `score` uses this many samples
REAL_REFERENCE_IMAGES = 2000
DIGIT_DATASETS = ("mnist-sample", "mnist")
COVERED_SHARE = 0.25  # a digit counts as covered when it gets at least a quarter of its fair share
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

    def as_dict(self):
        return {k: v for k, v in asdict(self).items() if v is not None}

    def summary(self):
        """One line for a progress bar or a status line."""
        frechet = f"Fréchet {self.frechet:.1f}" + (f" (real: {self.real_frechet:.1f})" if self.real_frechet else "")
        if self.class_histogram is None:
            return f"{frechet} · diversity {self.diversity:.2f}"
        legible = f"legible {self.legible:.0%} · " if self.legible is not None else ""  # older cards lack it
        if self.as_asked is not None:
            legible += f"as asked {self.as_asked:.0%} (worst digit {self.worst_as_asked:.0%}) · "
        return (f"{legible}digits {self.classes_covered}/10 · KL {self.kl_uniform:.3f} · confidence "
                f"{self.confidence:.2f} · {frechet}")


class RandomFeatures(nn.Module):
    """A fixed, randomly initialised conv net: a feature space for any image size that needs no download."""

    def __init__(self, seed=0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.net = nn.Sequential(
            nn.Conv2d(3, 32, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2), nn.AdaptiveAvgPool2d(2), nn.Flatten())
        for layer in self.net:
            if isinstance(layer, nn.Conv2d):
                nn.init.normal_(layer.weight, 0.0, math.sqrt(2.0 / layer.weight[0].numel()), generator=generator)
                nn.init.zeros_(layer.bias)

    def features(self, x):  # [B, C, H, W] in [-1, 1] → [B, 512]
        return self.net(x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x)


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


def kl_from_uniform(histogram):
    k = len(histogram)
    return float(sum(p * math.log(p * k) for p in histogram if p > 0))


class QualityMeter:
    """Scores batches of generated images against real images of the same dataset; built once per run."""

    def __init__(self, dataset_name, real_images, device="cpu", yardstick_images=None):
        """real_images: float [N, C, H, W] in [-1, 1], a few thousand of the training images; yardstick_images:
        other real images whose score says how close "as good as real" is."""
        self.digits, self.device = dataset_name in DIGIT_DATASETS, device
        with torch.random.fork_rng(devices=[]):  # building layers draws from the global RNG a run replays
            network = load_digit_classifier(device=device) if self.digits else RandomFeatures().to(device)
        # NHWC: twice as fast on the CPU (max pooling above all), so a score costs little time per epoch
        self.network = network.to(memory_format=torch.channels_last).eval().requires_grad_(False)
        real_features = self._features_and_probabilities(real_images)[0]
        self.real_stats = gaussian_stats(real_features)
        self.real_spread = mean_pairwise_distance(real_features)
        self.real_frechet = None
        if yardstick_images is not None:
            self.real_frechet = self.score(yardstick_images).frechet

    @classmethod
    def for_data(cls, dataset_name, data, seed=0, device="cpu"):
        """A meter whose real reference is up to REAL_REFERENCE_IMAGES images of a loaded dataset, and whose
        yardstick is up to QUALITY_SAMPLES others: a small dataset (the 1,906 emoji) is split in two halves, so
        the yardstick is always real images the reference has not seen (the same ones only below 4 images)."""
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
        n = len(data)
        spare = min(QUALITY_SAMPLES, max(n - REAL_REFERENCE_IMAGES, n // 2)) if n >= 4 else 0
        count = min(REAL_REFERENCE_IMAGES, n - spare)
        others = order[count:count + spare] if spare else order[:QUALITY_SAMPLES]
        load = lambda index: torch.cat([next(data.batches(chunk, len(chunk))) for chunk in index.split(500)])
        return cls(dataset_name, load(order[:count]), device, yardstick_images=load(others))

    @torch.inference_mode()
    def _features_and_probabilities(self, images):
        features, probabilities = [], []
        for chunk in images.split(500):
            chunk = chunk.to(self.device, torch.float32)
            if self.digits:  # the classifier reads 28×28 grayscale
                chunk = chunk.mean(1, keepdim=True) if chunk.shape[1] == 3 else chunk
                if chunk.shape[-1] != 28:
                    chunk = F.interpolate(chunk, size=(28, 28), mode="bilinear", antialias=True)
            feature = self.network.features(chunk.contiguous(memory_format=torch.channels_last))
            if self.digits:
                probabilities.append(self.network.head(feature).softmax(1))
            features.append(feature)
        return torch.cat(features), torch.cat(probabilities) if probabilities else None

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
