"""Does the colour meter agree with the eye? Its verdicts on 200 samples labelled by eye as emoji or smear.

    python -m benchmarks.meter_vs_eye

The samples are the first 100 latents of seed 11 from each shipped colour generator (`emoji64-dcgan`, then
`emoji-dcgan` drawn at 32 px), as they were on 2026-12-06; benchmarks/data/eye_labels.json names those a person
took for an emoji. Printed: how well the meter's confidence ranks emoji above smears (AUC: 0.5 is chance, 1 is the
eye), the share of each group it reads as emoji, and the Fréchet distance and coverage of equal-sized groups of
real emoji, of the samples labelled emoji and of the smears (20 draws of each group's size, averaged).
"""
import json
from pathlib import Path

import torch
from torch.nn import functional as F

import ganlib
from ganlib.datasets import load_dataset
from ganlib.latent import render, sample_z
from ganlib.quality import QualityMeter, frechet_distance, gaussian_stats, manifold_figures, read_as_emoji

LABELS = Path(__file__).parent / "data" / "eye_labels.json"
DRAWS = 20


def labelled_samples(labels):
    """The 200 labelled images [200, 3, 32, 32] and whether each was taken for an emoji [200]."""
    images = []
    for name in labels["generators"]:
        generator = ganlib.load(f"checkpoints/{name}")
        drawn = render(generator.network, sample_z(labels["per_generator"], generator.model_cfg.latent_dim,
                                                   seed=labels["seed"]))
        images.append(F.interpolate(drawn, size=32, mode="bilinear", antialias=True))
    images = torch.cat(images)
    emoji = torch.zeros(len(images), dtype=torch.bool)
    emoji[labels["emoji"]] = True
    return images, emoji


def ranking_agreement(score, positive):
    """AUC: the chance that a sample the eye took for an emoji scores above one it took for a smear."""
    above = score[positive][:, None] > score[~positive][None]
    ties = score[positive][:, None] == score[~positive][None]
    return (above.float().mean() + 0.5 * ties.float().mean()).item()


def group_figures(meter, features, size, generator):
    """Fréchet distance and coverage of `size` random members of a group, averaged over DRAWS draws."""
    frechet, coverage = 0.0, 0.0
    for _ in range(DRAWS):
        group = features[torch.randperm(len(features), generator=generator)[:size]]
        frechet += frechet_distance(gaussian_stats(group), meter.real_stats) / DRAWS
        coverage += manifold_figures(meter.real_features, group, real_radius=meter.real_radius)["coverage"] / DRAWS
    return frechet, coverage


def main():
    labels = json.loads(LABELS.read_text())
    images, emoji = labelled_samples(labels)
    data = load_dataset("emoji", 32, 3)
    meter = QualityMeter.for_data("emoji", data, seed=0)
    features, probabilities = meter._features_and_probabilities(images)
    read = read_as_emoji(probabilities)
    print(f"{int(emoji.sum())} of {len(emoji)} samples taken for an emoji by eye; the meter reads {read.float().mean():.0%}")
    print(f"confidence ranks emoji above smears: AUC {ranking_agreement(probabilities.max(1).values, emoji):.2f}")
    print(f"read as emoji: {read[emoji].float().mean():.0%} of the eye's emoji, {read[~emoji].float().mean():.0%} "
          f"of its smears")
    unseen = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[len(data) // 2:]
    real = meter._features_and_probabilities(next(data.batches(unseen, len(unseen))))[0]
    size, generator = int(emoji.sum()), torch.Generator().manual_seed(1)
    for name, group in (("real emoji", real), ("taken for emoji", features[emoji]), ("smears", features[~emoji])):
        frechet, coverage = group_figures(meter, group, size, generator)
        print(f"{name:16} ({size} at a time): Fréchet {frechet:8.0f}  covers {coverage:.0%}")


if __name__ == "__main__":
    main()
