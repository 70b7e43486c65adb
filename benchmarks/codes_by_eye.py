"""Which latent codes draw emoji? The eye's labels of the shipped codes generator, code by code, and a blind check.

    python -m benchmarks.codes_by_eye

First, eye_labels.json's 200 labelled samples of `emoji64-dcgan-codes` grouped by the code each latent asks for:
how many of each code's samples the eye took for an emoji, and how unlikely so uneven a spread is if the labels fell
on codes at random (the share of 2,000 shuffles of the labels that put as many emoji in the best codes). The codes
at least a third emoji are the ones its card names. Then eye_labels_codes.json: 200 fresh samples, half asking for
those codes and half for the others, labelled blind to the half: the share of each half the eye took for emoji.
"""
import json
from pathlib import Path

import torch

from benchmarks.meter_vs_eye import LABELS
from ganlib.latent import sample_z, with_class
from ganlib.models import chosen_codes

BLIND_LABELS = Path(__file__).parent / "data" / "eye_labels_codes.json"
CODES = 20
SHUFFLES = 2000


def code_shares(codes, emoji):
    """The share of emoji among each code's samples [CODES] (0 for a code no sample asked for)."""
    asked = torch.bincount(codes, minlength=CODES).float()
    return torch.bincount(codes, weights=emoji.float(), minlength=CODES) / asked.clamp_min(1)


def best_codes_share(codes, emoji):
    """The share of emoji among the samples of the best codes holding at most half the samples."""
    order = code_shares(codes, emoji).argsort(descending=True)
    held = torch.bincount(codes, minlength=CODES).float()[order].cumsum(0)
    best = torch.isin(codes, order[held <= len(codes) / 2])
    return emoji[best].float().mean().item()


def blind_latents(labels):
    """The labelled latents in the order they were labelled, and which of them asked for the card's codes."""
    halves = []
    for seed, codes in ((labels["seeds"]["codes"], labels["codes"]),
                        (labels["seeds"]["others"], [c for c in range(CODES) if c not in labels["codes"]])):
        z = sample_z(labels["count"] // 2, 100, seed=seed)
        picks = torch.tensor(codes)[torch.randint(len(codes), (len(z),), generator=torch.Generator().manual_seed(seed))]
        halves.append(torch.cat([with_class(z[i:i + 1], int(pick), CODES) for i, pick in enumerate(picks)]))
    order = torch.randperm(labels["count"], generator=torch.Generator().manual_seed(labels["seeds"]["shuffle"]))
    return torch.cat(halves)[order], order < labels["count"] // 2


def main():
    entry = next(s for s in json.loads(LABELS.read_text())["sets"] if s["generator"] == "emoji64-dcgan-codes")
    emoji = torch.zeros(entry["count"], dtype=torch.bool)
    emoji[entry["emoji"]] = True
    codes = chosen_codes(sample_z(entry["count"], 100, seed=entry["seed"]), CODES)
    shares, asked = code_shares(codes, emoji), torch.bincount(codes, minlength=CODES)
    print(f"emoji64-dcgan-codes, seed {entry['seed']}'s first {entry['count']} latents: "
          f"{emoji.float().mean():.1%} emoji by eye")
    for code in range(CODES):
        print(f"  code {code:2}: {int(emoji[codes == code].sum()):2} of {int(asked[code]):2} emoji ({shares[code]:.0%})")
    observed = best_codes_share(codes, emoji)
    rng = torch.Generator().manual_seed(0)
    shuffled = [best_codes_share(codes, emoji[torch.randperm(len(emoji), generator=rng)]) for _ in range(SHUFFLES)]
    print(f"the best codes holding half the samples: {observed:.0%} emoji; with the labels shuffled "
          f"{sum(shuffled) / SHUFFLES:.0%} on average, as many or more in {sum(s >= observed for s in shuffled)} of "
          f"{SHUFFLES}")
    print(f"codes at least a third emoji: {(shares >= 1 / 3).nonzero().flatten().tolist()}")

    blind = json.loads(BLIND_LABELS.read_text())
    _, among = blind_latents(blind)
    seen = torch.zeros(blind["count"], dtype=torch.bool)
    seen[blind["emoji"]] = True
    print(f"fresh samples labelled blind: {int(seen[among].sum())} of {int(among.sum())} emoji asking for codes "
          f"{blind['codes']}, {int(seen[~among].sum())} of {int((~among).sum())} asking for the others")


if __name__ == "__main__":
    main()
