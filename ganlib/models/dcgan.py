"""The DCGAN: ConvTranspose + BatchNorm + ReLU up, strided Conv + LeakyReLU down (Radford et al. 2015)."""
import math

from torch import nn

from .common import ClassProjection, judge, with_code


def dcgan_layout(image_size):
    """(base, n_up): the first layer makes a base×base map (7 for 28 px, else 4), then n_up ×2 upsamplings.

    This is what lets one class serve 28, 32, 64 and 128 px where the reference script only does 64.
    """
    base = 7 if image_size % 7 == 0 else 4
    n_up = int(math.log2(image_size // base))
    assert base * 2 ** n_up == image_size, f"no DCGAN layout for {image_size} px"
    return base, n_up


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

    rebuilds = False  # no decoders (see FastGANDiscriminator)

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
