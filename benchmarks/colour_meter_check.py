"""Which colour-meter figures can tell fakes from real emoji: each figure, in random and in trained features.

    python -m benchmarks.colour_meter_check [--seed 0]

The shipped emoji at 32 px are split in two halves: one is the reference, the other is scored as it is (the
floor, real against real) and as fakes made from it: each blurred, each its own mean colour (a flat blob), ten of
them repeated (no variety), and the shipped `emoji-dcgan`'s 1,000 samples. A figure is worth showing when the
floor sits clearly apart from every fake.
"""
import argparse
import math

import torch
from torch import nn
from torch.nn import functional as F

from ganlib.checkpoint import load_generator
from ganlib.datasets import load_dataset
from ganlib.image_features import load_image_features
from ganlib.latent import render, sample_z
from ganlib.quality import frechet_distance, gaussian_stats, manifold_figures, read_as_emoji

class RandomFeatures(nn.Module):
    """The meter's old feature space for colour, kept here for comparison: a fixed, randomly initialised conv net: a feature space for any image size that needs no download."""

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


FAKES = ("real (floor)", "blurred", "mean-colour blobs", "ten repeated", "emoji-dcgan")


def blurred(images):
    """Each image at a quarter of its size and back: the meter must tell these from sharp emoji."""
    return F.interpolate(F.interpolate(images, scale_factor=0.25, mode="bilinear", antialias=True),
                         size=images.shape[-2:], mode="bilinear")


def fakes_of(images, seed):
    blobs = images.mean((2, 3), keepdim=True).expand_as(images)
    ten = images[torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:10]].repeat(100, 1, 1, 1)
    generator, checkpoint = load_generator("checkpoints/emoji-dcgan")
    samples = render(generator, sample_z(1000, checkpoint.model_cfg.latent_dim, seed=seed + 1))
    return dict(zip(FAKES, (images, blurred(images), blobs, ten[:len(images)], samples)))


def recognised(network, features):
    """The share of images the trained network names a kind of emoji for at 0.9 or more (nan for random ones)."""
    if not hasattr(network, "head"):
        return math.nan
    return read_as_emoji(network.head(features).softmax(1)).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = load_dataset("emoji", 32, 3)
    images = next(data.batches(torch.arange(len(data)), len(data)))
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(args.seed))
    reference, scored = images[order[:len(images) // 2]], images[order[len(images) // 2:]]
    with torch.no_grad():
        for name, network in (("random", RandomFeatures()), ("trained", load_image_features())):
            real = network.features(reference)
            print(f"{name} features: {'':18} Fréchet  precision  recall  density  coverage  recognised")
            for fake_name, fake in fakes_of(scored, args.seed).items():
                features = network.features(fake)
                figures = manifold_figures(real, features)
                print(f"  {fake_name:34} {frechet_distance(gaussian_stats(features), gaussian_stats(real)):7.2f}"
                      f"  {figures['precision']:9.2f}  {figures['recall']:6.2f}  {figures['density']:7.2f}"
                      f"  {figures['coverage']:8.2f}  {recognised(network, features):10.2f}")


if __name__ == "__main__":
    main()
