"""Would features that have seen ImageNet agree with the eye? The colour checks in a pretrained MobileNetV2.

    npm pack nsfwjs && mkdir nsfwjs && tar xzf nsfwjs-*.tgz -C nsfwjs
    python -m benchmarks.meter_imagenet_features nsfwjs/package

The colour meter's network has seen 1,906 Twemoji and nothing else. The npm package nsfwjs (MIT) bundles a Keras
MobileNetV2 whose blocks 0–10 keep their ImageNet weights (frozen) and whose blocks 11–16 were fine-tuned to sort
photographs from drawings; its weights ship as uint8 codes in base64 text (dist/models/mobilenet_v2), read here
with regular expressions, never run as JavaScript. Images are read at 224 px in [0, 1], as the package feeds them.
Printed: the Fréchet distance and coverage of groups of real, blurred and the eye's emoji and smears, as multiples
of the real floor; the same for 256 samples of each shipped colour generator, on two seeds; then linear judges taught by the
eye's labels of the other generators and checked on each in turn, as `benchmarks.eye_judge` does in the meter's
features; last, the same judges in the meter's 128 features and block 16 together, every image read through 32 px
(the meter's size), with their reads of 256 samples of each shipped generator.
"""
import argparse
import base64
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from torch.nn import functional as F

import ganlib
from benchmarks.colour_meter_check import blurred
from benchmarks.eye_judge import judges_without, print_judges
from benchmarks.meter_vs_eye import group_figures, labelled_sets, real_halves
from ganlib.datasets import load_dataset
from ganlib.latent import render, sample_z
from ganlib.quality import NEIGHBOURS, QualityMeter, gaussian_stats, kth_neighbour_distance

BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
WEIGHT = re.compile(r'name:"([\w/]+)",shape:\[([\d,]*)\],dtype:"float32",'
                    r'quantization:\{min:(-?[\d.e-]+),scale:(-?[\d.e-]+),dtype:"uint8"\}')
SHIPPED = ("emoji64-dcgan-wide", "emoji64-dcgan", "emoji-dcgan", "emoji64-dcgan-codes")
SAMPLES = 256
SEEDS = (0, 1)


def package_weights(package):
    """{layer/weight name: tensor}: the manifest's uint8 codes, each min + scale · code."""
    folder = Path(package) / "dist" / "models" / "mobilenet_v2"
    manifest = WEIGHT.findall((folder / "model.min.js").read_text())
    encoded = max(re.findall(r'"([A-Za-z0-9+/=]{1000,})"', (folder / "group1-shard1of1.min.js").read_text()), key=len)
    codes = np.frombuffer(base64.b64decode(encoded), dtype=np.uint8)
    weights, at = {}, 0
    for name, shape, low, scale in manifest:
        shape = [int(size) for size in shape.split(",")]
        count = int(np.prod(shape))
        weights[name] = torch.from_numpy(codes[at:at + count].astype(np.float32) * float(scale) + float(low)).view(shape)
        at += count
    if at != len(codes):
        raise ValueError(f"the manifest names {at:,} weights, the shard holds {len(codes):,}")
    return weights


class MobileNetV2:
    """Keras' MobileNetV2 (width 1) at inference: Keras pads stride-2 convolutions on the right and bottom only."""

    def __init__(self, weights):
        self.weights = weights
        self.kernels = {}  # Keras' [H, W, in, out] and depthwise [H, W, C, 1] → torch's [out, in, H, W] and [C, 1, H, W]
        for name, value in weights.items():
            if name.endswith("/kernel") and value.dim() == 4:
                self.kernels[name.removesuffix("/kernel")] = (value.permute(3, 2, 0, 1).contiguous(), False)
            elif name.endswith("/depthwise_kernel"):
                self.kernels[name.removesuffix("/depthwise_kernel")] = (value.permute(2, 3, 0, 1).contiguous(), True)

    def conv(self, x, name, stride=1):
        kernel, depthwise = self.kernels[name]
        if kernel.shape[-1] == 3:
            x = F.pad(x, (0, 1, 0, 1) if stride == 2 else (1, 1, 1, 1))
        return F.conv2d(x, kernel, stride=stride, groups=kernel.shape[0] if depthwise else 1)

    def norm(self, x, name):
        w = self.weights
        return F.batch_norm(x, w[f"{name}/moving_mean"], w[f"{name}/moving_variance"], w[f"{name}/gamma"],
                            w[f"{name}/beta"], eps=1e-3)

    def blocks(self, images, size=224):
        """Yield each block's output for images [N, 3, H, W] in [-1, 1], read at `size` px in [0, 1] as the package
        feeds them. Differentiable in the images, so a discriminator can read through it
        (`benchmarks.projected_discriminator`)."""
        x = (F.interpolate(images.float(), size=size, mode="bilinear", antialias=True) + 1) / 2
        x = F.relu6(self.norm(self.conv(x, "Conv1", 2), "bn_Conv1"))
        index, channels = 0, 32
        for expansion, out, repeats, first_stride in BLOCKS:
            for repeat in range(repeats):
                stride = first_stride if repeat == 0 else 1
                name = f"block_{index}" if index else "expanded_conv"
                h = F.relu6(self.norm(self.conv(x, f"{name}_expand"), f"{name}_expand_BN")) if expansion > 1 else x
                h = F.relu6(self.norm(self.conv(h, f"{name}_depthwise", stride), f"{name}_depthwise_BN"))
                h = self.norm(self.conv(h, f"{name}_project"), f"{name}_project_BN")
                x = x + h if stride == 1 and channels == out else h
                index, channels = index + 1, out
                yield x

    @torch.no_grad()
    def features(self, images, size=224):
        """Images [N, 3, H, W] in [-1, 1] → (block 16's channels averaged [N, 320], the pooled top [N, 1280])."""
        blocks, pooled = [], []
        for chunk in images.split(64):
            *_, x = self.blocks(chunk, size)
            blocks.append(x.mean((2, 3)))
            pooled.append(F.relu6(self.norm(self.conv(x, "Conv_1"), "Conv_1_bn")).mean((2, 3)))
        return torch.cat(blocks), torch.cat(pooled)


def floor_of(reference):
    """What `meter_vs_eye.group_figures` needs of a reference: its statistics, points and neighbour balls."""
    return SimpleNamespace(real_stats=gaussian_stats(reference), real_features=reference,
                           real_radius=kth_neighbour_distance(reference.double(), NEIGHBOURS))


def against_floor(floor, groups, size, yardstick):
    """'name Fréchet ×floor, covers ×floor' for each group, `size` at a time; the floor is the yardstick's."""
    generator = torch.Generator().manual_seed(1)
    real_frechet, real_coverage = group_figures(floor, yardstick, size, generator)
    cells = [f"real {real_frechet:.3g}, covers {real_coverage:.0%}"]
    for name, features in groups.items():
        frechet, coverage = group_figures(floor, features, size, generator)
        cells.append(f"{name} {frechet / real_frechet:.2f}×, {coverage / real_coverage:.2f}×")
    return " · ".join(cells)


def joint_judges(network, labelled, samples):
    """Judges in the meter's features and block 16 side by side, every image read at 32 px: the meter knows the
    Twemoji, ImageNet's blocks know edges and textures, and at one size no generator's samples alone look blurred.
    labelled: `labelled_sets(size=None)`; samples: {shipped generator: its samples of seed 1}."""
    meter = QualityMeter.for_data("emoji", load_dataset("emoji", 32, 3), seed=0)

    def features(images):
        images = F.interpolate(images, size=32, mode="bilinear", antialias=True) if images.shape[-1] != 32 else images
        return torch.cat([meter._features_and_probabilities(images)[0], network.features(images)[0]], 1)

    yardstick = real_halves(32)[1]
    real, real_blurred = features(yardstick), features(blurred(yardstick))
    sets = [(name, features(images), emoji) for name, images, emoji in labelled]
    samples = {name: features(drawn) for name, drawn in samples.items()}
    half = len(yardstick) // 2
    taught, taught_emoji = torch.cat([real[:half], real_blurred[:half]]), torch.arange(2 * half) < half
    for held, (name, features_held, emoji) in enumerate(sets):
        print(f"checked on {name} (taught by the other sets), the meter's features and block 16 at 32 px:")
        judges = judges_without(sets, held, taught, taught_emoji)
        print_judges(judges, features_held, emoji, real[half:], real_blurred[half:])
        reads = ", ".join(f"{generator} {(judges['eye labels + real/blurred'](drawn) > 0).float().mean():.0%}"
                          for generator, drawn in samples.items())
        print(f"  + real/blurred reads of {SAMPLES} samples (seed 1): {reads}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", help="the unpacked nsfwjs npm package")
    args = parser.parse_args()
    network = MobileNetV2(package_weights(args.package))
    reference, yardstick = real_halves(64)
    (_, reference_top), (yardstick_blocks, yardstick_top) = network.features(reference), network.features(yardstick)
    blurred_blocks, blurred_top = network.features(blurred(yardstick))
    labelled = labelled_sets(size=None)
    sets = [(name, *network.features(images), emoji) for name, images, emoji in labelled]
    emoji = torch.cat([s[3] for s in sets])
    top = torch.cat([s[2] for s in sets])
    print(f"Pooled top (1,280), groups of {int(emoji.sum())} against the 64-px real floor: " + against_floor(
        floor_of(reference_top), {"the eye's emoji": top[emoji], "smears": top[~emoji], "blurred": blurred_top},
        int(emoji.sum()), yardstick_top))
    floors = {64: (floor_of(reference_top), yardstick_top)}
    seed_one = {}  # each shipped generator's samples of seed 1, for the joint judges to read
    for name in SHIPPED:
        generator = ganlib.load(f"checkpoints/{name}")
        for seed in SEEDS:
            samples = render(generator.network, sample_z(SAMPLES, generator.model_cfg.latent_dim, seed=seed))
            if seed == 1:
                seed_one[name] = samples
            if samples.shape[-1] not in floors:
                other_reference, other_yardstick = real_halves(samples.shape[-1])
                floors[samples.shape[-1]] = (floor_of(network.features(other_reference)[1]),
                                             network.features(other_yardstick)[1])
            floor, real = floors[samples.shape[-1]]
            print(f"{name}, seed {seed} ({SAMPLES} at a time, {samples.shape[-1]}-px floor): "
                  + against_floor(floor, {"samples": network.features(samples)[1]}, SAMPLES, real))
    half = len(yardstick) // 2  # the judge learns from one half of the real and blurred emoji, is read on the other
    taught = torch.cat([yardstick_blocks[:half], blurred_blocks[:half]])
    taught_emoji = torch.arange(2 * half) < half
    for held, (name, blocks, _, emoji) in enumerate(sets):
        print(f"checked on {name} (taught by the other sets), block 16's 320 channels:")
        print_judges(judges_without(sets, held, taught, taught_emoji), blocks, emoji, yardstick_blocks[half:],
                     blurred_blocks[half:])
    joint_judges(network, labelled, seed_one)


if __name__ == "__main__":
    main()
