"""The 2D Playground's networks: MLPs from noise to a point, and from a point to one logit."""
from torch import nn


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
