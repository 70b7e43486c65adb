"""A few-shot GAN for small colour sets, after FastGAN (Liu et al., "Towards Faster and Stabilized GAN Training for
High-fidelity Few-shot Image Synthesis", ICLR 2021), sized for minutes on a CPU.

G: from a 4×4 map, blocks of nearest upsampling + 3×3 conv + BatchNorm + GLU; from 32 px on, skip-layer
excitation (SLE) lets an 8× smaller map gate each channel of the larger one, a shortcut for the gradient and for
global style. D: strided conv blocks down to 4×4 and one logit; two small decoders rebuild, from D's 8×8 features,
the whole real image at 32 px and, from its 16×16 features, a random quarter of it, so D must keep what real
images look like rather than the few cues that tell them from fakes (its self-supervision; the loss is pixel MSE,
which needs no downloaded network). Trained with hinge loss and DiffAugment (gan.py, the fastgan preset).
"""
import math

import torch
from torch import nn
from torch.nn import functional as F

from .common import ClassProjection, with_code

REBUILT_SIZE = 32  # the decoders draw 32×32 images: enough to ask D for shapes and colours, cheap on a CPU


def widths(base_width, image_size):
    """{resolution: channels} from 4 px up to the image: wide where maps are small, narrow where they are large."""
    levels = int(math.log2(image_size // 4))
    return {4 * 2 ** level: max(8, base_width * 8 // 2 ** max(0, level - 1)) for level in range(levels + 1)}


class UpBlock(nn.Module):
    """×2 nearest upsampling, 3×3 conv, BatchNorm and a gated linear unit (half the channels gate the other)."""

    def __init__(self, channels_in, channels_out):
        super().__init__()
        self.net = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                 nn.Conv2d(channels_in, 2 * channels_out, 3, 1, 1, bias=False),
                                 nn.BatchNorm2d(2 * channels_out), nn.GLU(dim=1))

    def forward(self, x):
        return self.net(x)


class SkipExcitation(nn.Module):
    """Skip-layer excitation: a small map's content, pooled to 4×4 and squeezed to one weight per channel in
    (0, 1), scales each channel of a map 8× larger."""

    def __init__(self, channels_small, channels_large):
        super().__init__()
        self.net = nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Conv2d(channels_small, channels_large, 4, 1, 0),
                                 nn.SiLU(), nn.Conv2d(channels_large, channels_large, 1), nn.Sigmoid())

    def forward(self, small, large):
        return large * self.net(small)


class FastGANGenerator(nn.Module):
    """z → 4×4 (ConvTranspose + BatchNorm + GLU) → UpBlocks to the image, SLE from 32 px on, 3×3 conv + Tanh."""

    def __init__(self, cfg):
        super().__init__()
        self.codes = cfg.classes
        self.widths = widths(cfg.g_width, cfg.image_size)
        sizes = list(self.widths)
        self.start = nn.Sequential(nn.ConvTranspose2d(cfg.latent_dim, 2 * self.widths[4], 4, 1, 0, bias=False),
                                   nn.BatchNorm2d(2 * self.widths[4]), nn.GLU(dim=1))
        self.ups = nn.ModuleDict({str(size): UpBlock(self.widths[size // 2], self.widths[size]) for size in sizes[1:]})
        self.excite = nn.ModuleDict({str(size): SkipExcitation(self.widths[size // 8], self.widths[size])
                                     for size in sizes if size >= 32})
        self.to_image = nn.Sequential(nn.Conv2d(self.widths[sizes[-1]], cfg.channels, 3, 1, 1), nn.Tanh())

    def forward(self, z):  # z: [B, latent_dim] → [B, C, H, W] in [-1, 1]
        maps = {4: self.features(z).view(len(z), -1, 4, 4)}
        for size, block in self.ups.items():
            size = int(size)
            maps[size] = block(maps[size // 2])
            if str(size) in self.excite:
                maps[size] = self.excite[str(size)](maps[size // 8], maps[size])
        return self.to_image(maps[size])

    def features(self, z):
        """The 4×4 map [B, width·16]: where the latent explorer finds its directions."""
        return self.start(with_code(z, self.codes)[:, :, None, None]).flatten(1)


class DownBlock(nn.Module):
    """A 4×4 stride-2 conv, BatchNorm and LeakyReLU(0.2), then a 3×3 conv that looks again at the half-size map."""

    def __init__(self, channels_in, channels_out, batchnorm=True):
        super().__init__()
        norm = (lambda: nn.BatchNorm2d(channels_out)) if batchnorm else nn.Identity
        self.net = nn.Sequential(nn.Conv2d(channels_in, channels_out, 4, 2, 1, bias=False), norm(),
                                 nn.LeakyReLU(0.2, True), nn.Conv2d(channels_out, channels_out, 3, 1, 1, bias=False),
                                 norm(), nn.LeakyReLU(0.2, True))

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    """8×8 features → a 32×32 image: two UpBlocks, then a 3×3 conv + Tanh."""

    def __init__(self, channels_in, channels_out, width=32):
        super().__init__()
        self.net = nn.Sequential(UpBlock(channels_in, width), UpBlock(width, width // 2),
                                 nn.Conv2d(width // 2, channels_out, 3, 1, 1), nn.Tanh())

    def forward(self, x):
        return self.net(x)


class FastGANDiscriminator(nn.Module):
    """DownBlocks from the image to 4×4, one logit from the 4×4 map; decoders rebuild real images from the 8×8
    and 16×16 maps (reconstruction_loss). A conditional one adds a class projection on the 4×4 features."""

    rebuilds = True  # forward(real, reconstruct=True) also returns the decoders' loss, which D's step adds

    def __init__(self, cfg):
        super().__init__()
        sizes = widths(cfg.d_width, cfg.image_size)
        self.downs = nn.ModuleDict()
        channels = cfg.channels
        for size in sorted(sizes, reverse=True)[1:]:  # image/2 … 4
            self.downs[str(size)] = DownBlock(channels, sizes[size], batchnorm=cfg.d_batchnorm and size < cfg.image_size // 2)
            channels = sizes[size]
        self.logit = nn.Conv2d(sizes[4], 1, 4, 1, 0)
        self.projection = ClassProjection(cfg.classes, sizes[4] * 16) if cfg.classes else None
        self.rebuild_whole = Decoder(sizes[8], cfg.channels)
        self.rebuild_part = Decoder(sizes[16], cfg.channels) if 16 in sizes and cfg.image_size >= 32 else None

    def forward(self, x, labels=None, reconstruct=False):
        """x: [B, C, H, W], labels [B] for a conditional D → logits [B]; reconstruct: (logits, the decoders'
        reconstruction loss on x, which must be real images)."""
        maps, h = {}, x
        for size, block in self.downs.items():
            h = maps[int(size)] = block(h)
        logits = self.logit(h).view(-1)
        if labels is not None:
            logits = logits + self.projection(h, labels).to(logits.dtype)
        return (logits, self.reconstruction_loss(x, maps)) if reconstruct else logits

    def reconstruction_loss(self, x, maps):
        """MSE of the whole image rebuilt from 8×8 features, plus a random quarter of each image rebuilt from the
        matching quarter of its 16×16 features (chosen on the device, so a captured CUDA graph draws anew)."""
        loss = F.mse_loss(self.rebuild_whole(maps[8]).float(), thumbnail(x).float())
        if self.rebuild_part is None:
            return loss
        which = torch.randint(0, 4, (len(x),), device=x.device)
        rows = torch.arange(len(x), device=x.device)
        part = quarters(maps[16])[which, rows]
        return loss + F.mse_loss(self.rebuild_part(part).float(), thumbnail(quarters(x)[which, rows]).float())


def quarters(x):
    """The four quarters of [B, C, H, W] maps, stacked: [4, B, C, H/2, W/2]."""
    h, w = x.shape[-2] // 2, x.shape[-1] // 2
    return torch.stack([x[..., :h, :w], x[..., :h, w:], x[..., h:, :w], x[..., h:, w:]])


def thumbnail(x):
    return F.interpolate(x, size=(REBUILT_SIZE, REBUILT_SIZE), mode="bilinear", antialias=True)
