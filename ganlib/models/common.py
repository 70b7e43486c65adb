"""What every image family shares: the class and latent-code inputs of G, the class projection of a conditional
D, and what is done to a trained G (its moving average, exact BatchNorm statistics)."""
import math

import torch
from torch import nn
from torch.nn import functional as F


def chosen_codes(z, codes):
    """The categorical code a latent asks for: which of its first `codes` entries is largest (each code equally
    likely for Gaussian z). Every tool that draws z (grids, walks, the meter) thus picks codes too."""
    return z[:, :codes].argmax(1)


def asked_classes(z, classes):
    """The class each latent asks a conditional generator for [B], or None for one that is not conditional."""
    return chosen_codes(z, classes) if classes else None


def with_code(z, codes):
    """z with its first `codes` entries replaced by the one-hot of the chosen code, scaled by √codes so the code
    has the length those Gaussian entries have on average."""
    if not codes:
        return z
    one_hot = F.one_hot(chosen_codes(z, codes), codes).to(z.dtype) * math.sqrt(codes)
    return torch.cat([one_hot, z[:, codes:]], 1)


class ClassProjection(nn.Module):
    """A conditional D's class term, ⟨embedding(y), features(x)⟩ added to its logit (the projection
    discriminator, Miyato & Koyama 2018): D then judges "a real image of class y", so G must draw the class it
    was asked for. Starts at zero: D begins unconditional and learns what each class looks like."""

    def __init__(self, classes, feature_size):
        super().__init__()
        self.embedding = nn.Embedding(classes, feature_size)
        nn.init.zeros_(self.embedding.weight)

    def forward(self, features, labels):  # features [B, ...], labels [B] → [B]
        return (self.embedding(labels) * features.flatten(1)).sum(1)


def judge(net, projection, x, labels):
    """Logits [B] of a D whose last layer is net[-1], and the features it reads (net[:-1](x))."""
    features = net[:-1](x)
    logits = net[-1](features).view(-1)
    if labels is not None:
        logits = logits + projection(features, labels).to(logits.dtype)
    return logits, features


def average_weight(decay, step):
    """How far the moving average of G moves toward G's current weights at `step`: far while G is young."""
    return 1 - min(decay, (1 + step) / (10 + step))


@torch.no_grad()
def update_average(averaged, current, weight):
    """One step of the exponential moving average of G's weights that grids and exports show. `weight` is a
    number or a 0-d tensor on the device (a replayed CUDA graph reads the tensor's value at each replay)."""
    for averaged_param, param in zip(averaged.parameters(), current.parameters()):
        averaged_param.lerp_(param, weight)


def batchnorm_layers(model):
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def calibrate_batchnorm(generator, latent_dim, device, generator_rng, batches=2, batch_size=256):
    """Set BatchNorm running statistics to the exact averages for the current weights (512 samples: 8 batches drew
    images 0.002 apart on average in [-1, 1], at four times the cost, which a short run pays at every epoch).

    Training only ever uses batch statistics, so this changes nothing in training; it makes eval-mode
    sampling (latent explorer, `sample`) draw what the generator really makes instead of the garbage that
    lagging running averages give early in training.
    """
    layers = batchnorm_layers(generator)
    if not layers:
        return
    was_training = generator.training
    saved_momentum = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the calibration batches
    generator.train()
    for _ in range(batches):
        generator(torch.randn(batch_size, latent_dim, device=device, generator=generator_rng))
    for m, momentum in zip(layers, saved_momentum):
        m.momentum = momentum
    generator.train(was_training)
