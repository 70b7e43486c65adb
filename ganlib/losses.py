"""GAN losses as pure functions of the discriminator's logits, and one registry of them.

Each entry also says how to read D's output as a score for the D(x) / D(G(z)) chart: a probability for
BCE, the raw output for the others (LSGAN aims it at 1 and 0; hinge and WGAN critics are unbounded).
"""
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from .errors import ConfigError


@dataclass(frozen=True)
class Loss:
    d_loss: Callable  # (real_logits, fake_logits) → scalar D minimizes
    g_loss: Callable  # (fake_logits) → scalar G minimizes
    score: Callable  # logits → what the D(x) / D(G(z)) chart shows
    gradient_penalty: float = 0.0  # weight of the WGAN-GP penalty on D's input gradient

    @property
    def probabilities(self):
        """Whether D's scores are probabilities (a 0–1 chart, and 'D wins' means D(x) → 1, D(G(z)) → 0)."""
        return self.score is torch.sigmoid


def bce_d(real, fake):
    """Minimax D: maximize log D(x) + log(1 − D(G(z))), in the logit form that is safe under autocast."""
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def bce_g(fake):
    """Non-saturating G: maximize log D(G(z)) instead of minimizing log(1 − D(G(z)))."""
    return F.softplus(-fake).mean()


def minimax_g(fake):
    """The original, saturating G: minimize log(1 − D(G(z))) = −softplus(logit). Its gradient vanishes
    exactly when G is losing (D(G(z)) → 0): the lesson the non-saturating form was invented to fix."""
    return -F.softplus(fake).mean()


def lsgan_d(real, fake):
    return 0.5 * ((real - 1).pow(2).mean() + fake.pow(2).mean())


def lsgan_g(fake):
    return 0.5 * (fake - 1).pow(2).mean()


def hinge_d(real, fake):
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def wasserstein_d(real, fake):
    return fake.mean() - real.mean()


def wasserstein_g(fake):
    """Shared by hinge and WGAN: G raises the critic's score of its samples."""
    return -fake.mean()


LOSSES = {
    "bce": Loss(bce_d, bce_g, torch.sigmoid),
    "minimax": Loss(bce_d, minimax_g, torch.sigmoid),
    "lsgan": Loss(lsgan_d, lsgan_g, torch.Tensor.float),
    "hinge": Loss(hinge_d, wasserstein_g, torch.Tensor.float),
    "wgan-gp": Loss(wasserstein_d, wasserstein_g, torch.Tensor.float, gradient_penalty=10.0),
}


def get_loss(name):
    if name not in LOSSES:
        raise ConfigError(f"unknown loss '{name}'; choose one of {', '.join(LOSSES)}")
    return LOSSES[name]


def r1_penalty(real_logits, real):
    """R1: ‖∇ₓD(x)‖² on real data, averaged over the batch (`real` must require grad). It keeps D flat where the
    data is, so G is not thrown from mode to mode (Mescheder et al., 2018)."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.flatten(1).pow(2).sum(dim=1).mean()


def gradient_penalty(discriminator, real, fake, alpha):
    """WGAN-GP: (‖∇D(x̂)‖ − 1)² at points x̂ = αx + (1 − α)G(z), α [B, 1, 1, 1] uniform in [0, 1]."""
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(mixed).sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
