"""Would a discriminator that sees through ImageNet features teach G to draw emoji? A Projected-GAN-style fine-tune.

    python -m benchmarks.projected_discriminator nsfwjs/package [--steps 1500] [--out runs/projected]

(the package as `benchmarks.meter_imagenet_features` unpacks it). Starts from the shipped `emoji64-dcgan-wide` and
trains it against small discriminators on frozen features of the package's MobileNetV2, read at 128 px (Sauer et al.
2021, simplified: three of its blocks — 24 channels at 32×32, 32 at 16×16, 96 at 8×8 —, each through a fixed random
1×1 mix and a few spectrally normalised strided convolutions to a map of logits; hinge loss; DiffAugment on both real
and generated images; Adam 2e-4, β (0, 0.99); a moving average of G, as the shipped run keeps). Writes the averaged
G's 64 samples of seed 5 at 96 px (OUT/grid.png, as docs/quality.md counts them by eye) and prints the colour meter's
figures of the shipped and the fine-tuned G.
"""
import argparse
import copy
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import spectral_norm

import ganlib
from benchmarks.meter_imagenet_features import MobileNetV2, package_weights
from ganlib.augment import diff_augment
from ganlib.datasets import load_dataset
from ganlib.images import to_pil_grid
from ganlib.latent import render, sample_z
from ganlib.losses import hinge_d, wasserstein_g
from ganlib.models import update_average
from ganlib.quality import QualityMeter

TAPS = {2: (24, 32), 5: (32, 16), 12: (96, 8)}  # block index → (its channels, its map's size at 128 px)
READ_AT = 128
POLICY = "color,translation,cutout"
AVERAGE_FROM = 200  # steps before the moving average starts to lag G


def judge_head(channels, spatial, width=64):
    """A fixed random 1×1 mix of one block's channels (the paper's cross-channel mixing), then strided convolutions
    down to 4×4 and one logit per position."""
    mix = nn.Conv2d(channels, width, 1).requires_grad_(False)
    layers = [mix]
    while spatial > 4:
        layers += [spectral_norm(nn.Conv2d(width, width * 2, 4, 2, 1)), nn.LeakyReLU(0.2)]
        width, spatial = width * 2, spatial // 2
    return nn.Sequential(*layers, spectral_norm(nn.Conv2d(width, 1, 4, 1, 0)))


class ProjectedDiscriminator(nn.Module):
    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone  # frozen: its weights are plain tensors, not parameters
        self.heads = nn.ModuleDict({str(index): judge_head(channels, size) for index, (channels, size) in TAPS.items()})

    def forward(self, images):
        logits = []
        for index, features in enumerate(self.backbone.blocks(images, READ_AT)):
            if index in TAPS:
                logits.append(self.heads[str(index)](features).flatten(1))
            if index == max(TAPS):
                return torch.cat(logits, 1)


def fine_tune(generator, discriminator, data, steps, latent_dim):
    """Hinge-loss steps of D and G; returns the moving average of G."""
    average = copy.deepcopy(generator).eval()
    g_optimizer = torch.optim.Adam(generator.parameters(), 2e-4, betas=(0.0, 0.99))
    d_optimizer = torch.optim.Adam([p for p in discriminator.parameters() if p.requires_grad], 2e-4, betas=(0.0, 0.99))
    order_rng, step = torch.Generator().manual_seed(0), 0
    while step < steps:
        for real in data.batches(torch.randperm(len(data), generator=order_rng), 64):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                fake = generator(torch.randn(64, latent_dim))
                d_real = discriminator(diff_augment(real, POLICY))
                d_fake = discriminator(diff_augment(fake.detach(), POLICY))
                d_loss = hinge_d(d_real, d_fake)
            d_optimizer.zero_grad(set_to_none=True)
            d_loss.float().backward()
            d_optimizer.step()
            with torch.autocast("cpu", dtype=torch.bfloat16):
                g_loss = wasserstein_g(discriminator(diff_augment(fake, POLICY)))
            g_optimizer.zero_grad(set_to_none=True)
            g_loss.float().backward()
            g_optimizer.step()
            update_average(average, generator, 0.001 if step > AVERAGE_FROM else 1.0)
            with torch.no_grad():
                for kept, current in zip(average.buffers(), generator.buffers()):
                    kept.copy_(current)
            step += 1
            if step % 50 == 0:
                print(f"step {step}: D loss {d_loss.item():.3f}, G loss {g_loss.item():.3f}, "
                      f"D(x) {d_real.float().mean().item():.2f}, D(G(z)) {d_fake.float().mean().item():.2f}", flush=True)
            if step == steps:
                break
    return average


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", help="the unpacked nsfwjs npm package")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--out", type=Path, default=Path("runs/projected"))
    args = parser.parse_args()
    torch.manual_seed(0)
    shipped = ganlib.load("checkpoints/emoji64-dcgan-wide")
    generator = copy.deepcopy(shipped.network).float().train()
    data = load_dataset("emoji", 64, 3)
    latent_dim = shipped.model_cfg.latent_dim
    tuned = fine_tune(generator, ProjectedDiscriminator(MobileNetV2(package_weights(args.package))), data, args.steps,
                      latent_dim)
    args.out.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        seen = F.interpolate(render(tuned, sample_z(64, latent_dim, seed=5)), size=96, mode="bilinear", antialias=True)
        to_pil_grid(seen, nrow=8, padding=4).save(args.out / "grid.png")
        meter = QualityMeter.for_data("emoji", data, seed=0)
        for name, network in (("shipped", shipped.network.float()), ("fine-tuned", tuned)):
            print(f"{name}: {meter.score_generator(network, shipped.model_cfg).summary()}")
    print(f"wrote {args.out / 'grid.png'}")


if __name__ == "__main__":
    main()
