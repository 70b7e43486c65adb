"""Can the eye's labels teach a judge the meter's confidence misses? A linear judge in the meter's 128 features.

    python -m benchmarks.eye_judge

A logistic regression ("emoji or smear") learns from the labels of some generators (benchmarks/data/eye_labels.json)
and is checked on a generator it has not seen: how well it ranks that generator's emoji above its smears (AUC), the
share of each group it reads as emoji, and what it makes of real emoji the meter keeps unseen and of the same emoji
blurred (¼ size and back). A second judge also learns that half the other emoji are emoji and their blurred copies
are not. The meter's own confidence is printed beside them for comparison.
"""
import torch
from torch.nn import functional as F

from benchmarks.colour_meter_check import blurred
from benchmarks.meter_vs_eye import labelled_sets, ranking_agreement, real_halves
from ganlib.datasets import load_dataset
from ganlib.quality import QualityMeter

L2 = 0.1  # ridge weight on standardised features: of 0.01, 0.1 and 1, the best AUC on a held-out generator


def fit_judge(features, emoji, weights):
    """A ridge logistic regression on standardised features; returns features → logit (> 0 reads as emoji)."""
    mean, std = features.mean(0), features.std(0).clamp_min(1e-6)
    inputs = (features - mean) / std
    w, b = torch.zeros(features.shape[1], requires_grad=True), torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([w, b], max_iter=500)

    def loss():
        optimizer.zero_grad()
        value = (F.binary_cross_entropy_with_logits(inputs @ w + b, emoji.float(), reduction="none") * weights).sum() \
            + L2 * w.square().sum()
        value.backward()
        return value

    optimizer.step(loss)
    return lambda x: ((x - mean) / std @ w + b).detach()


def balanced(emoji, total=1.0):
    """Weights giving each class half of `total`."""
    share = emoji.float().mean()
    return torch.where(emoji, 0.5 / share, 0.5 / (1 - share)) * total / len(emoji)


def judges_without(sets, held, taught, taught_emoji):
    """The two judges taught by every labelled set but `held` ((name, features, …, emoji) each): by the eye's labels
    alone, and by them plus real emoji (emoji) and their blurred copies (not)."""
    others = [s for i, s in enumerate(sets) if i != held]
    features, emoji = torch.cat([s[1] for s in others]), torch.cat([s[-1] for s in others])
    return {"eye labels": fit_judge(features, emoji, balanced(emoji)),
            "eye labels + real/blurred": fit_judge(
                torch.cat([features, taught]), torch.cat([emoji, taught_emoji]),
                torch.cat([balanced(emoji), torch.full((len(taught_emoji),), 1 / len(taught_emoji))]))}


def print_judges(judges, features, emoji, real, real_blurred):
    """Each judge's AUC on a held-out set and the share of each group it reads as emoji."""
    for judge_name, judge in judges.items():
        score = judge(features)
        print(f"  {judge_name:26} AUC {ranking_agreement(score, emoji):.2f}; reads as emoji: the eye's emoji "
              f"{(score > 0)[emoji].float().mean():.0%}, smears {(score > 0)[~emoji].float().mean():.0%}, "
              f"unseen real {(judge(real) > 0).float().mean():.0%}, "
              f"blurred {(judge(real_blurred) > 0).float().mean():.0%}")


def main():
    data = load_dataset("emoji", 32, 3)
    meter = QualityMeter.for_data("emoji", data, seed=0)
    features_of = meter._features_and_probabilities  # (features, probabilities) of images
    sets = [(name, *features_of(images), emoji) for name, images, emoji in labelled_sets()]
    real = real_halves()[1]  # the real emoji the meter keeps unseen
    taught, kept = real[:len(real) // 2], real[len(real) // 2:]  # real emoji the judge learns from / is checked on
    taught_features = torch.cat([features_of(taught)[0], features_of(blurred(taught))[0]])
    taught_emoji = torch.arange(len(taught_features)) < len(taught)
    kept_features, kept_blurred = features_of(kept)[0], features_of(blurred(kept))[0]
    for held, (name, features, probabilities, emoji) in enumerate(sets):
        print(f"checked on {name} (taught by the other sets); the meter's confidence: "
              f"AUC {ranking_agreement(probabilities.max(1).values, emoji):.2f}")
        print_judges(judges_without(sets, held, taught_features, taught_emoji), features, emoji, kept_features,
                     kept_blurred)


if __name__ == "__main__":
    main()
