"""A run's memory, estimated from its configs before anything is allocated, and checked against the host's budget.

The networks are built on PyTorch's meta device (shapes, no storage), so even a 100 GB setting costs nothing to
estimate; activations follow from walking each network's layers with their output shapes.
"""
import math
from dataclasses import dataclass

import torch
from torch import nn

from .errors import ConfigError
from .models import build_models

FLOAT_BYTES = 4  # fp32 weights, optimizer state and activations (bf16 autocast only lowers some of them)
SAMPLING_CHUNK = 500  # the trainer and the explorer draw samples in chunks of this many
OUTPUT_BYTES_PER_VALUE = 20  # what `sample` and `interpolate` hold per drawn value, measured: 19-20 bytes over the process
QUALITY_SAMPLES_HELD = 1000  # quality.QUALITY_SAMPLES, which cannot be imported here (quality → datasets → memory)


@dataclass(frozen=True)
class MemoryEstimate:
    weights: int  # bytes of G, D, G's moving average, their gradients and Adam's two moments (training)
    activations: int  # bytes of one training step's activations and their gradients, and of sampling
    data: int  # bytes of the decoded dataset (uint8)
    training: bool = True  # False: a generator loaded to draw from, which nobody can make smaller here

    @property
    def total(self):
        return self.weights + self.activations + self.data

    def check(self, budget):
        """Raise a ConfigError in one sentence naming what to lower when the estimate is over `budget` bytes."""
        if self.total <= budget:
            return self
        if self.training:
            what, weights = "this run", "weights and optimizer state"
            parts = {"lower the G and D widths (ngf/ndf) or the image size": self.weights,
                     "lower the batch size, the widths or the image size": self.activations,
                     "lower the image size, or train on fewer images": self.data}
            advice = max(parts, key=parts.get)
        else:
            what, weights, advice = "this generator", "weights", "it is too large to load on this server"
        raise ConfigError(f"{what} would need about {gigabytes(self.total)} of memory ({weights} "
                          f"{gigabytes(self.weights)}, activations {gigabytes(self.activations)}, data "
                          f"{gigabytes(self.data)}), more than the {gigabytes(budget)} a run may use here: {advice}")


def gigabytes(n):
    return f"{n / 2**30:,.1f} GB" if n >= 2**30 else f"{n / 2**20:,.0f} MB"


def meta_models(model_cfg):
    """(G, D) with shapes and no storage."""
    with torch.device("meta"):
        return build_models(model_cfg)


def parameter_count(module):
    return sum(p.numel() for p in module.parameters())


def activation_counts(network, input_shape):
    """Numbers each layer of `network` outputs for an input of `input_shape`, in forward order (the models are
    sequences of these layer kinds, so output shapes follow from each layer's own settings)."""
    shape, counts = list(input_shape), []
    network = getattr(network, "net", network)  # the main path (a DCGAN D's small code head is left out)
    for layer in (m for m in network.modules() if not list(m.children())):
        if isinstance(layer, nn.Linear):
            shape = [shape[0], layer.out_features]
        elif isinstance(layer, nn.Flatten):
            shape = [shape[0], math.prod(shape[1:])]
        elif isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            size = shape[2]
            (k,), (s,), (p,) = layer.kernel_size[:1], layer.stride[:1], layer.padding[:1]
            size = (size - 1) * s - 2 * p + k if isinstance(layer, nn.ConvTranspose2d) else (size + 2 * p - k) // s + 1
            shape = [shape[0], layer.out_channels, size, size]
        counts.append(math.prod(shape))
    return counts


def generator_input_shape(generator, batch, latent_dim):
    first = next(m for m in generator.modules() if not list(m.children()))
    return (batch, latent_dim, 1, 1) if isinstance(first, nn.ConvTranspose2d) else (batch, latent_dim)


def sampling_bytes(generator, model_cfg, n=SAMPLING_CHUNK):
    """Drawing n samples without gradients: the two largest neighbouring layers are alive at once."""
    counts = activation_counts(generator, generator_input_shape(generator, n, model_cfg.latent_dim))
    return max(a + b for a, b in zip(counts, counts[1:])) * FLOAT_BYTES


def estimate_run(model_cfg, train_cfg, dataset_images=0):
    """What training these configs holds at its peak; `dataset_images`: how many images the data decodes to."""
    generator, discriminator = meta_models(model_cfg)
    g, d = parameter_count(generator), parameter_count(discriminator)
    averaged = g if train_cfg.ema_decay else 0
    weights = (4 * (g + d) + averaged) * FLOAT_BYTES  # weight, gradient and Adam's two moments each
    batch, image = train_cfg.batch_size, (model_cfg.channels, model_cfg.image_size, model_cfg.image_size)
    g_step = sum(activation_counts(generator, generator_input_shape(generator, batch, model_cfg.latent_dim)))
    d_pass = sum(activation_counts(discriminator, (batch, *image)))
    double_backward = 2 if train_cfg.r1_gamma or train_cfg.loss == "wgan-gp" else 1
    step = 2 * (g_step + 3 * d_pass * double_backward) * FLOAT_BYTES  # saved for backward, and their gradients
    held = QUALITY_SAMPLES_HELD * math.prod(image) * FLOAT_BYTES
    data = dataset_images * math.prod(image)  # uint8
    return MemoryEstimate(weights, step + sampling_bytes(generator, model_cfg) + held, data)


def estimate_generator(model_cfg):
    """What drawing from a generator alone holds (the latent explorer, `sample`)."""
    generator, _ = meta_models(model_cfg)
    return MemoryEstimate(parameter_count(generator) * FLOAT_BYTES, sampling_bytes(generator, model_cfg), 0,
                          training=False)


def check_output_memory(model_cfg, count, option, budget):
    """Refuse, before drawing anything, a count of images (or 2D points) whose outputs would not fit in `budget`
    bytes: `sample --n` and `interpolate --steps` hold all they draw until the file is written."""
    values = 2 if model_cfg.family == "mlp2d" else model_cfg.channels * model_cfg.image_size ** 2
    per_item = values * OUTPUT_BYTES_PER_VALUE
    if count * per_item > budget:
        raise ConfigError(f"{option} {count:,} would need about {gigabytes(count * per_item)} of memory for what it "
                          f"draws, more than the {gigabytes(budget)} one run may use here: ask for at most "
                          f"{budget // per_item:,}")
