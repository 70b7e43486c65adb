"""The digit classifier behind the quality meter: a small CNN trained on the shipped MNIST sample.

It ships in ganlib/data/ (safetensors + JSON card) so scoring works offline; `python -m ganlib
train-classifier` rebuilds it. Its 64-wide penultimate layer is the feature space of the Fréchet distance.
"""
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from .datasets import load_dataset
from .frozen import load_network, save_network

CLASSIFIER_PATH = Path(__file__).parent / "data" / "mnist_classifier.safetensors"
FEATURE_DIM = 64
HELD_OUT_PER_CLASS = 50


class DigitClassifier(nn.Module):
    """[B, 1, 28, 28] in [-1, 1] → 10 logits; features() gives the [B, 64] layer before them."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(True), nn.MaxPool2d(2),  # 14×14
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(True), nn.MaxPool2d(2),  # 7×7
            nn.Flatten(), nn.Dropout(0.25),
            nn.Linear(64 * 7 * 7, FEATURE_DIM), nn.ReLU(True),
        )
        self.head = nn.Linear(FEATURE_DIM, 10)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))


def held_out_split(labels, per_class=HELD_OUT_PER_CLASS):
    """(train indices, held-out indices): the first `per_class` images of each digit are held out."""
    held_out = torch.cat([torch.nonzero(labels == digit).flatten()[:per_class] for digit in range(10)])
    is_held_out = torch.zeros(len(labels), dtype=torch.bool)
    is_held_out[held_out] = True
    return torch.nonzero(~is_held_out).flatten(), held_out


def random_shift(images, generator, pixels=2):
    """Shift each image by up to `pixels` in x and y: GAN digits are rarely centred as exactly as MNIST's."""
    padded = F.pad(images, (pixels,) * 4, value=-1.0)
    size = images.shape[-1]
    dx, dy = torch.randint(0, 2 * pixels + 1, (2, len(images)), generator=generator).tolist()
    return torch.stack([p[:, y:y + size, x:x + size] for p, x, y in zip(padded, dx, dy)])


def train_digit_classifier(out=CLASSIFIER_PATH, *, epochs=12, seed=0, log=print):
    """Train on the MNIST sample minus 500 held-out digits, report held-out accuracy, write weights + card."""
    torch.manual_seed(seed)
    data = load_dataset("mnist-sample", 28, 1)
    images, labels = next(data.batches(torch.arange(len(data)), len(data))), data.labels
    train_idx, held_idx = held_out_split(labels)
    model = DigitClassifier()
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    generator = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        for batch in torch.randperm(len(train_idx), generator=generator).split(64):
            index = train_idx[batch]
            loss = F.cross_entropy(model(random_shift(images[index], generator)), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        accuracy = held_out_accuracy(model, images[held_idx], labels[held_idx])
        log(f"epoch {epoch + 1}/{epochs}: held-out accuracy {accuracy:.1%}")
    card = {"trained_on": "mnist-sample", "train_images": len(train_idx), "held_out_images": len(held_idx),
            "held_out_accuracy": round(accuracy, 4), "epochs": epochs, "seed": seed,
            "training_seconds": round(time.perf_counter() - started, 1),
            "command": "python -m ganlib train-classifier"}
    return save_network(model, card, out)


@torch.no_grad()
def held_out_accuracy(model, images, labels):
    model.eval()
    return (model(images).argmax(1) == labels).float().mean().item()


def load_digit_classifier(path=CLASSIFIER_PATH, device="cpu"):
    """The shipped classifier in eval mode, its weights frozen."""
    return load_network(lambda state: DigitClassifier(), path, "the digit classifier",
                        "python -m ganlib train-classifier", device)
