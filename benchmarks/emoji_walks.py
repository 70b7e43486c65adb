"""How often a colour generator's samples, and the frames of walks between them, read as emoji.

    python -m benchmarks.emoji_walks CHECKPOINT [--seed 0] [--truncation 0 2 1.5 1] [--codes eye]

For each truncation: the colour meter's figures on 1,000 samples (read as emoji, Fréchet and coverage, each beside
the floor), then 40 walks (slerp, 10 frames, as the explorer draws them) between pairs of samples that both read as
emoji: the share of the 8 frames between the ends that read as emoji too, and the share of walks where every frame
does (for a conditional generator, also with both ends asking for one category). A walk that melts a flag into a
smear and back scores low on both. With --codes, every sample and walk keeps to those latent codes (as the
explorer's "Draw from some codes" does).
"""
import argparse

import torch

import ganlib
from ganlib.datasets import load_dataset
from ganlib.latent import latent_path, render
from ganlib.models import asked_classes
from ganlib.quality import QUALITY_SAMPLES, QualityMeter

WALKS, FRAMES = 40, 10


def walk_figures(meter, network, ends):
    """(share of interior frames read as emoji, share of walks read as emoji all the way) for walks between
    consecutive pairs of `ends` [2·WALKS, D]."""
    paths = torch.cat([latent_path([a, b], FRAMES) for a, b in zip(ends[0::2], ends[1::2])])
    read = meter.read_as_emoji(render(network, paths)).view(-1, FRAMES)
    return read[:, 1:-1].float().mean().item(), read.all(1).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--seed", type=int, default=0, help="the meter's split of the emoji and the samples' seed")
    parser.add_argument("--truncation", type=float, nargs="+", default=[0.0, 2.0, 1.5, 1.0])
    parser.add_argument("--codes", help="keep to these latent codes: numbers (3,7,12) or 'eye' for the card's")
    args = parser.parse_args()
    generator = ganlib.load(args.checkpoint)
    model_cfg = generator.model_cfg
    data = load_dataset("emoji", model_cfg.image_size, model_cfg.channels)
    meter = QualityMeter.for_data("emoji", data, seed=args.seed)
    floor = meter.floor
    print(f"{args.checkpoint}, meter seed {args.seed}: floor {floor.recognised:.0%} read as emoji, "
          f"Fréchet {floor.frechet:.0f}, covers {floor.coverage:.0%}")
    for truncation in args.truncation:
        z = generator.latents(QUALITY_SAMPLES, args.seed + 1, truncation=truncation or None, codes=args.codes)
        images = render(generator.network, z)
        score = meter.score(images, asked_classes(z, model_cfg.classes))
        read = meter.read_as_emoji(images)
        ends = z[read][: 2 * WALKS]
        interior, whole = walk_figures(meter, generator.network, ends)
        print(f"truncation {truncation or 'off'}: read as emoji {score.recognised:.0%}, "
              f"Fréchet {score.frechet / floor.frechet:.2f}× floor, covers {score.coverage / floor.coverage:.2f}× "
              f"floor; walks between emoji: {interior:.0%} of frames read as emoji, {whole:.0%} all the way")
        if model_cfg.classes:  # as the explorer walks with a category chosen: the far end asks for the near end's
            ends[1::2, :model_cfg.classes] = ends[0::2, :model_cfg.classes]
            interior, whole = walk_figures(meter, generator.network, ends)
            print(f"  within one category: {interior:.0%} of frames read as emoji, {whole:.0%} all the way")


if __name__ == "__main__":
    main()
