"""A run's memory, estimated from its configs before anything is allocated, and checked against the host's budget.

The networks are built on PyTorch's meta device (shapes, no storage), so even a 100 GB setting costs nothing to
estimate; activations follow from running each network on meta tensors and counting what each layer outputs.
"""
import math
from dataclasses import dataclass

import torch

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


def activation_counts(network, *inputs, **options):
    """Numbers each layer of `network` outputs, in the order they run, when it runs on `inputs` (meta tensors:
    shapes only, no storage, no arithmetic), so any family's layout is followed as it really computes."""
    counts = []
    record = lambda module, given, output: counts.append(output.numel()) if torch.is_tensor(output) else None
    hooks = [module.register_forward_hook(record) for module in network.modules() if not list(module.children())]
    try:
        network(*inputs, **options)
    finally:
        for hook in hooks:
            hook.remove()
    return counts


def latents(batch, model_cfg):
    return torch.empty(batch, model_cfg.latent_dim, device="meta")


def sampling_bytes(generator, model_cfg, n=SAMPLING_CHUNK):
    """Drawing n samples without gradients: the two largest neighbouring layers are alive at once."""
    counts = activation_counts(generator, latents(n, model_cfg))
    return max(a + b for a, b in zip(counts, counts[1:])) * FLOAT_BYTES


def estimate_run(model_cfg, train_cfg, dataset_images=0):
    """What training these configs holds at its peak; `dataset_images`: how many images the data decodes to."""
    generator, discriminator = meta_models(model_cfg)
    g, d = parameter_count(generator), parameter_count(discriminator)
    averaged = g if train_cfg.ema_decay else 0
    weights = (4 * (g + d) + averaged) * FLOAT_BYTES  # weight, gradient and Adam's two moments each
    batch, image = train_cfg.batch_size, (model_cfg.channels, model_cfg.image_size, model_cfg.image_size)
    g_step = sum(activation_counts(generator, latents(batch, model_cfg)))
    rebuilds = {"reconstruct": True} if discriminator.rebuilds else {}  # D's decoders run on real images
    d_pass = sum(activation_counts(discriminator, torch.empty(batch, *image, device="meta"), **rebuilds))
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
