"""The two network families of the original notebooks, each one Generator and one Discriminator class
parameterized by size. Only networks live here: no optimizers, no devices, no I/O.

Discriminators return logits of shape [B]; losses turn them into probabilities where they need to, which
keeps BCE numerically safe under autocast.
"""
import math

import torch
from torch import nn
from torch.nn import functional as F


class MLPGenerator(nn.Module):
    """z(latent_dim) → w → 2w → 4w → C·H·W, ReLU hidden, Tanh out (w=256 is the notebooks' 256-512-1024). A
    conditional one reads the class from the first entries of z, as the DCGAN does (with_code)."""

    def __init__(self, cfg):
        super().__init__()
        self.codes = cfg.classes
        self.out_shape = (cfg.channels, cfg.image_size, cfg.image_size)
        w = cfg.g_width
        self.net = nn.Sequential(
            nn.Linear(cfg.latent_dim, w), nn.ReLU(True),
            nn.Linear(w, 2 * w), nn.ReLU(True),
            nn.Linear(2 * w, 4 * w), nn.ReLU(True),
            nn.Linear(4 * w, math.prod(self.out_shape)), nn.Tanh(),
        )

    def forward(self, z):  # z: [B, latent_dim] → [B, C, H, W] in [-1, 1]
        return self.net(with_code(z, self.codes)).view(-1, *self.out_shape)

    def features(self, z):
        """First hidden layer's activations [B, w]: where the latent explorer finds its directions."""
        return self.net[:2](with_code(z, self.codes))


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


class MLPDiscriminator(nn.Module):
    """C·H·W → 4w → 2w → 1 logit, LeakyReLU(0.2) hidden (w=256 is the notebooks' 1024-512)."""

    def __init__(self, cfg):
        super().__init__()
        w = cfg.d_width
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(cfg.channels * cfg.image_size ** 2, 4 * w), nn.LeakyReLU(0.2, True), nn.Dropout(cfg.d_dropout),
            nn.Linear(4 * w, 2 * w), nn.LeakyReLU(0.2, True), nn.Dropout(cfg.d_dropout),
            nn.Linear(2 * w, 1),
        )
        self.projection = ClassProjection(cfg.classes, 2 * w) if cfg.classes else None

    def forward(self, x, labels=None):  # x: [B, C, H, W], labels [B] for a conditional D → logits [B]
        return judge(self.net, self.projection, x, labels)[0]


def dcgan_layout(image_size):
    """(base, n_up): the first layer makes a base×base map (7 for 28 px, else 4), then n_up ×2 upsamplings.

    This is what lets one class serve 28, 32, 64 and 128 px where the reference script only does 64.
    """
    base = 7 if image_size % 7 == 0 else 4
    n_up = int(math.log2(image_size // base))
    assert base * 2 ** n_up == image_size, f"no DCGAN layout for {image_size} px"
    return base, n_up


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


class DCGANGenerator(nn.Module):
    """ConvTranspose + BatchNorm + ReLU from a base×base map up to the image, Tanh out. With latent codes
    (InfoGAN) or classes (conditional), the first entries of z become a one-hot code (with_code)."""

    def __init__(self, cfg):
        super().__init__()
        self.codes = cfg.classes or cfg.latent_codes
        base, n_up = dcgan_layout(cfg.image_size)
        width = cfg.g_width * 2 ** (n_up - 1)
        layers = [nn.ConvTranspose2d(cfg.latent_dim, width, base, 1, 0, bias=False),
                  nn.BatchNorm2d(width), nn.ReLU(True)]
        for _ in range(n_up - 1):  # each block doubles the resolution and halves the width
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width // 2), nn.ReLU(True)]
            width //= 2
        layers += [nn.ConvTranspose2d(width, cfg.channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, z):  # z: [B, latent_dim] → [B, C, H, W] in [-1, 1]
        return self.net(with_code(z, self.codes)[:, :, None, None])

    def features(self, z):
        """First block's activations [B, width·base·base]: where the latent explorer finds its directions."""
        return self.net[:3](with_code(z, self.codes)[:, :, None, None]).flatten(1)


class DCGANDiscriminator(nn.Module):
    """Strided Conv + LeakyReLU(0.2) (+ BatchNorm, + Dropout) down to base×base, then one logit. With latent
    codes, a second head on the same features guesses which code G was given (InfoGAN's Q network); a
    conditional one adds a class projection to its logit."""

    def __init__(self, cfg):
        super().__init__()
        base, n_up = dcgan_layout(cfg.image_size)
        width = cfg.d_width
        layers = [nn.Conv2d(cfg.channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for _ in range(n_up - 1):  # each block halves the resolution and doubles the width
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=False)]
            layers += [nn.BatchNorm2d(width * 2)] if cfg.d_batchnorm else []
            layers += [nn.LeakyReLU(0.2, True)]
            layers += [nn.Dropout(cfg.d_dropout)] if cfg.d_dropout else []
            width *= 2
        layers += [nn.Conv2d(width, 1, base, 1, 0, bias=False)]
        self.net = nn.Sequential(*layers)
        self.code_head = nn.Conv2d(width, cfg.latent_codes, base, 1, 0) if cfg.latent_codes else None
        self.projection = ClassProjection(cfg.classes, width * base * base) if cfg.classes else None
        self.apply(dcgan_init)

    def forward(self, x, labels=None, with_codes=False):
        """x: [B, C, H, W], labels [B] for a conditional D → logits [B]; with_codes: (logits [B], code logits
        [B, latent_codes])."""
        logits, features = judge(self.net, self.projection, x, labels)
        return (logits, self.code_head(features).flatten(1)) if with_codes else logits


def mlp(sizes, activation):
    """Linear layers between consecutive sizes, `activation` after every one but the last."""
    layers = []
    for size_in, size_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(size_in, size_out), activation()]
    return nn.Sequential(*layers[:-1])


class PointGenerator(nn.Module):
    """noise → width × hidden_layers (ReLU) → a 2D point, scaled from [-1, 1]-ish to the data's square."""

    def __init__(self, cfg):
        super().__init__()
        self.scale = cfg.data_scale
        self.net = mlp([cfg.latent_dim, *[cfg.g_width] * cfg.hidden_layers, 2], nn.ReLU)

    def forward(self, z):  # z: [B, latent_dim] → [B, 2]
        return self.net(z) * self.scale


class PointDiscriminator(nn.Module):
    """A 2D point → width × hidden_layers (LeakyReLU 0.2) → one logit."""

    def __init__(self, cfg):
        super().__init__()
        self.scale = cfg.data_scale
        self.net = mlp([2, *[cfg.d_width] * cfg.hidden_layers, 1], lambda: nn.LeakyReLU(0.2))

    def forward(self, x):  # x: [B, 2] → logits [B]
        return self.net(x / self.scale).view(-1)


def dcgan_init(module):
    """N(0, 0.02) conv weights and N(1, 0.02) BatchNorm scales, as in the DCGAN paper. Networks built on the
    meta device (for a memory estimate) have no values to draw."""
    if getattr(module, "weight", None) is not None and module.weight.is_meta:
        return
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


MODEL_FAMILIES = {
    "mlp": (MLPGenerator, MLPDiscriminator),
    "dcgan": (DCGANGenerator, DCGANDiscriminator),
    "mlp2d": (PointGenerator, PointDiscriminator),
}


def build_models(cfg):
    """(generator, discriminator) for a validated ModelConfig or PointModelConfig, on the CPU in fp32."""
    generator_cls, discriminator_cls = MODEL_FAMILIES[cfg.validate().family]
    return generator_cls(cfg), discriminator_cls(cfg)


def build_generator(cfg):
    """The generator alone: what sampling needs."""
    return MODEL_FAMILIES[cfg.validate().family][0](cfg)


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
