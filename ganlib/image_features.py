"""The colour meter's network: a small CNN that learned which of 98 kinds each shipped emoji is.

Random convolutional features cannot tell a blob from an emoji, so the meter of colour data reads images with a
network trained for the job, offline, from the shipped emoji alone: it names each emoji's Unicode subcategory
('face-smiling', 'animal-mammal', 'flag'…) from views that are slightly cropped, shifted and flipped, with no blur,
so blurred images stay far from sharp ones. Its 128 features are the space of the Fréchet distance and the
nearest-neighbour figures; how surely it names a kind says whether a sample reads as an emoji at all. It ships in
ganlib/data/ (safetensors + JSON card); `python -m ganlib train-features` rebuilds it.
"""
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from .frozen import load_network, save_network

FEATURES_PATH = Path(__file__).parent / "data" / "emoji_features.safetensors"
FEATURE_DIM = 128
INPUT_SIZE = 32  # every image is read at 32×32 RGB: the meter compares what a thumbnail shows


class ImageFeatures(nn.Module):
    """[B, C, H, W] in [-1, 1], any size, grayscale or RGB → [B, 128] features; head() → subcategory logits."""

    def __init__(self, kinds=98):
        super().__init__()
        layers, channels = [], 3
        for width in (32, 64, 128):  # 32 → 16 → 8 → 4
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(True),
                       nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU(True)]
            channels = width
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * 4 * 4, FEATURE_DIM))
        self.classifier = nn.Linear(FEATURE_DIM, kinds)

    def features(self, x):
        x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
        if x.shape[-1] != INPUT_SIZE:
            x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True)
        return self.body(x)

    def head(self, features):
        return self.classifier(F.relu(features))


def augment(images, generator):
    """Slightly different views of [B, 3, H, W] images: a crop of 85-100% of the side, resized back, a shift
    within what the crop leaves, and a mirror image half of the time. No blur and no colour change: both are
    what the meter must notice."""
    batch = len(images)
    scale = torch.empty(batch).uniform_(0.85, 1.0, generator=generator)
    shift = (1 - scale)[:, None] * torch.empty(batch, 2).uniform_(-1, 1, generator=generator)
    flip = torch.where(torch.rand(batch, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(batch, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1], theta[:, :, 2] = scale * flip, scale, shift
    grid = F.affine_grid(theta, images.shape, align_corners=False)
    return F.grid_sample(images, grid, padding_mode="border", align_corners=False)


def train_image_features(out=FEATURES_PATH, *, epochs=60, seed=0, log=print):
    """Train on the shipped emoji, naming each one's subcategory; writes weights + a card with the names."""
    from .datasets import emoji_subcategories, load_dataset

    torch.manual_seed(seed)
    data = load_dataset("emoji", INPUT_SIZE, 3)
    images = next(data.batches(torch.arange(len(data)), len(data)))
    labels, kinds = emoji_subcategories()
    model = ImageFeatures(len(kinds))
    optimizer = torch.optim.Adam(model.parameters(), 2e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 2e-3, total_steps=epochs * -(-len(images) // 128))
    generator = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    for epoch in range(epochs):
        for batch in torch.randperm(len(images), generator=generator).split(128):
            loss = F.cross_entropy(model.head(model.features(augment(images[batch], generator))), labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        if (epoch + 1) % 10 == 0:
            log(f"epoch {epoch + 1}/{epochs}: loss {loss.item():.3f}")
    card = {"trained_on": "emoji", "images": len(images), "kinds": list(kinds), "epochs": epochs, "seed": seed,
            "training_seconds": round(time.perf_counter() - started, 1), "final_loss": round(loss.item(), 4),
            "command": "python -m ganlib train-features"}
    return save_network(model, card, out)


def load_image_features(path=FEATURES_PATH, device="cpu"):
    """The shipped colour network in eval mode, its weights frozen."""
    return load_network(lambda state: ImageFeatures(len(state["classifier.bias"])), path, "the colour meter's network",
                        "python -m ganlib train-features", device)
