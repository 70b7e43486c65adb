"""The notebooks' MLP GAN: fully connected G and D."""
import math

from torch import nn

from .common import ClassProjection, judge, with_code


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


class MLPDiscriminator(nn.Module):
    """C·H·W → 4w → 2w → 1 logit, LeakyReLU(0.2) hidden (w=256 is the notebooks' 1024-512)."""

    rebuilds = False  # no decoders (see FastGANDiscriminator)

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
