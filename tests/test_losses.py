import math

import pytest
import torch

from ganlib.errors import ConfigError
from ganlib.losses import LOSSES, get_loss, gradient_penalty, r1_penalty

REAL = torch.tensor([2.0, 0.0])
FAKE = torch.tensor([-1.0, 1.0])


def softplus(x):
    return math.log1p(math.exp(x))


def test_bce_is_minimax_for_d_and_non_saturating_for_g():
    bce = get_loss("bce")
    expected_d = (softplus(-2) + softplus(0)) / 2 + (softplus(-1) + softplus(1)) / 2
    assert bce.d_loss(REAL, FAKE).item() == pytest.approx(expected_d, rel=1e-6)
    assert bce.g_loss(FAKE).item() == pytest.approx((softplus(1) + softplus(-1)) / 2, rel=1e-6)
    assert bce.score(torch.tensor([0.0])).item() == 0.5  # D's probability


def test_lsgan_hinge_and_wasserstein_on_known_logits():
    assert get_loss("lsgan").d_loss(REAL, FAKE).item() == pytest.approx(0.5 * ((1 + 1) / 2 + (1 + 1) / 2))
    assert get_loss("lsgan").g_loss(FAKE).item() == pytest.approx(0.5 * (4 + 0) / 2)
    assert get_loss("hinge").d_loss(REAL, FAKE).item() == pytest.approx((0 + 1) / 2 + (0 + 2) / 2)
    assert get_loss("hinge").g_loss(FAKE).item() == pytest.approx(0.0)
    assert get_loss("wgan-gp").d_loss(REAL, FAKE).item() == pytest.approx(0.0 - 1.0)
    assert get_loss("wgan-gp").gradient_penalty == 10.0


def test_bce_stays_finite_for_extreme_logits():
    loss = get_loss("bce").d_loss(torch.tensor([-200.0]), torch.tensor([200.0]))
    assert torch.isfinite(loss) and loss.item() == pytest.approx(400.0)


def test_unknown_loss_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown loss 'bse'; choose one of " + ", ".join(LOSSES)):
        get_loss("bse")


def test_gradient_penalty_is_zero_for_a_unit_slope_critic():
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 1, bias=False))
    with torch.no_grad():
        critic[1].weight.copy_(torch.tensor([[0.6, 0.8, 0.0, 0.0]]))  # ‖∇‖ = 1 everywhere
    real, fake = torch.randn(5, 1, 2, 2), torch.randn(5, 1, 2, 2)
    assert gradient_penalty(critic, real, fake, torch.rand(5, 1, 1, 1)).item() == pytest.approx(0.0, abs=1e-10)
    with torch.no_grad():
        critic[1].weight.mul_(3)  # ‖∇‖ = 3 → penalty (3 − 1)² = 4
    assert gradient_penalty(critic, real, fake, torch.rand(5, 1, 1, 1)).item() == pytest.approx(4.0, rel=1e-5)


def test_r1_penalty_is_the_squared_slope_of_d_at_real_images():
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 1))
    with torch.no_grad():
        critic[1].weight.copy_(torch.tensor([[0.6, 0.8, 2.0, 0.0]]))  # ‖∇‖² = 0.36 + 0.64 + 4 = 5 everywhere
    real = torch.randn(5, 1, 2, 2, requires_grad=True)
    penalty = r1_penalty(critic(real), real)
    assert penalty.item() == pytest.approx(5.0, rel=1e-6)
    penalty.backward()  # differentiable in D's weights: d(‖w‖²)/dw = 2w
    torch.testing.assert_close(critic[1].weight.grad, 2 * critic[1].weight.detach())
