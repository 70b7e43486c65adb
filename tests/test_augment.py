"""DiffAugment: differentiable, and applied alike to what D sees of real and generated images."""
import pytest
import torch

from ganlib.augment import cutout, diff_augment, translate
from ganlib.config import ModelConfig, TrainConfig
from ganlib.errors import ConfigError
from ganlib.gan import GAN


def test_translation_moves_content_by_at_most_an_eighth_and_fills_with_zero():
    images = torch.full((64, 1, 16, 16), -1.0)
    images[:, :, 8, 8] = 1.0  # one bright pixel
    moved = translate(images, torch.Generator().manual_seed(0))
    where = (moved == 1.0).nonzero()[:, 2:]
    assert len(where) == 64 and (where - 8).abs().max() <= 2 and (where != 8).any()
    assert (moved == 0).any()  # the border shifted in is zero


def test_cutout_zeroes_a_quarter_of_the_image_at_most():
    images = torch.ones(200, 3, 28, 28)
    cut = cutout(images, torch.Generator().manual_seed(0))
    zeroed = (cut == 0).all(1).float().mean((1, 2))
    assert zeroed.max() == pytest.approx(14 * 14 / 28 ** 2) and zeroed.min() > 0  # clipped at the edges
    assert ((cut == 0).all(1) == (cut == 0).any(1)).all()  # every channel alike


def test_augmentation_is_differentiable_in_the_images():
    images = torch.randn(16, 1, 28, 28, requires_grad=True)
    weights = torch.randn(16, 1, 28, 28)
    (diff_augment(images, "translation,cutout", torch.Generator().manual_seed(1)) * weights).sum().backward()
    grad = images.grad
    assert grad.abs().sum() > 0 and (grad == 0).float().mean() > 0.1  # shown pixels get gradients, cut ones none


def test_d_sees_real_and_generated_images_augmented_alike():
    model_cfg = ModelConfig(g_width=8, d_width=8, latent_dim=16)
    seen = []
    for augment in ("cutout", ""):
        gan = GAN(model_cfg, TrainConfig(augment=augment, device="cpu", ema_decay=0), torch.device("cpu"))
        inputs = []
        gan.discriminator.net[0].register_forward_hook(lambda module, args, out: inputs.append(args[0].detach()))
        gan.train_step(torch.rand(32, 1, 28, 28) * 2 - 1)
        real, fake, fake_for_g = inputs  # the D step's two passes, then the G step's
        seen.append([(batch == 0).all(1).float().mean().item() for batch in (real, fake, fake_for_g)])
    with_cutout, without = seen
    assert all(0.15 < share < 0.3 for share in with_cutout) and all(share < 0.01 for share in without)


def test_an_unknown_augmentation_is_named():
    with pytest.raises(ConfigError, match="augment must name augmentations .*translation, cutout.*'flip'"):
        TrainConfig(augment="flip").validate()
