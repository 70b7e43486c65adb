"""Does the colour meter agree with the eye? Its verdicts on samples labelled by eye as emoji or smear.

    python -m benchmarks.meter_vs_eye

benchmarks/data/eye_labels.json holds four labelled sets: the first 100 latents of seed 11 from `emoji64-dcgan` and
from `emoji-dcgan` (drawn at 32 px), and the first 200 from `emoji64-dcgan-wide` and from `emoji64-dcgan-codes`,
each naming the samples a person took for an emoji. Printed for each set: how well the meter's confidence ranks
emoji above smears (AUC: 0.5 is chance, 1 is the eye) and the share of each group it reads as emoji; then, over all
sets, the Fréchet distance and coverage of equal-sized groups of real emoji, of the samples labelled emoji and of
the smears (20 draws of each group's size, averaged).
"""
import json
from pathlib import Path

import torch
from torch.nn import functional as F

import ganlib
from ganlib.datasets import load_dataset
from ganlib.latent import render, sample_z
from ganlib.quality import (QualityMeter, frechet_distance, gaussian_stats, manifold_figures, read_as_emoji,
                            reference_and_yardstick)

LABELS = Path(__file__).parent / "data" / "eye_labels.json"
DRAWS = 20


def labelled_sets(size=32):
    """[(generator name, its labelled images [N, 3, size, size], taken for an emoji [N])]; 32 px is what the meter
    reads, None keeps each generator's own size."""
    sets = []
    for entry in json.loads(LABELS.read_text())["sets"]:
        generator = ganlib.load(f"checkpoints/{entry['generator']}")
        drawn = render(generator.network, sample_z(entry["count"], generator.model_cfg.latent_dim, seed=entry["seed"]))
        emoji = torch.zeros(entry["count"], dtype=torch.bool)
        emoji[entry["emoji"]] = True
        if size is not None:
            drawn = F.interpolate(drawn, size=size, mode="bilinear", antialias=True)
        sets.append((entry["generator"], drawn, emoji))
    return sets


def ranking_agreement(score, positive):
    """AUC: the chance that a sample the eye took for an emoji scores above one it took for a smear."""
    above = score[positive][:, None] > score[~positive][None]
    ties = score[positive][:, None] == score[~positive][None]
    return (above.float().mean() + 0.5 * ties.float().mean()).item()


def real_halves(size=32, meter_seed=0):
    """(reference, yardstick): the emoji at `size` px, split as a meter built with this seed splits them; the
    yardstick is the half it keeps unseen."""
    data = load_dataset("emoji", size, 3)
    return [next(data.batches(part, len(part))) for part in reference_and_yardstick(len(data), meter_seed)]


def group_figures(meter, features, size, generator):
    """Fréchet distance and coverage of `size` random members of a group, averaged over DRAWS draws."""
    frechet, coverage = 0.0, 0.0
    for _ in range(DRAWS):
        group = features[torch.randperm(len(features), generator=generator)[:size]]
        frechet += frechet_distance(gaussian_stats(group), meter.real_stats) / DRAWS
        coverage += manifold_figures(meter.real_features, group, real_radius=meter.real_radius)["coverage"] / DRAWS
    return frechet, coverage


def main():
    meter = QualityMeter.for_data("emoji", load_dataset("emoji", 32, 3), seed=0)
    all_features, all_emoji = [], []
    for name, images, emoji in labelled_sets():
        features, probabilities = meter._features_and_probabilities(images)
        read = read_as_emoji(probabilities)
        print(f"{name}: {int(emoji.sum())} of {len(emoji)} taken for an emoji by eye, the meter reads {read.float().mean():.0%}; "
              f"confidence ranks emoji above smears at AUC {ranking_agreement(probabilities.max(1).values, emoji):.2f}; "
              f"read as emoji: {read[emoji].float().mean():.0%} of the eye's emoji, {read[~emoji].float().mean():.0%} of its smears")
        all_features.append(features)
        all_emoji.append(emoji)
    features, emoji = torch.cat(all_features), torch.cat(all_emoji)
    real = meter._features_and_probabilities(real_halves()[1])[0]
    size, generator = int(emoji.sum()), torch.Generator().manual_seed(1)
    for name, group in (("real emoji", real), ("taken for emoji", features[emoji]), ("smears", features[~emoji])):
        frechet, coverage = group_figures(meter, group, size, generator)
        print(f"{name:16} ({size} at a time): Fréchet {frechet:8.0f}  covers {coverage:.0%}")


if __name__ == "__main__":
    main()
