import pytest
import torch

from ganlib.config import ModelConfig
from ganlib.errors import ConfigError
from ganlib.models import build_models, calibrate_batchnorm


@pytest.mark.parametrize("size", [28, 32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_makes_and_judges_images_at_every_size(size, channels):
    cfg = ModelConfig(family="dcgan", image_size=size, channels=channels, g_width=8, d_width=8, latent_dim=20)
    generator, discriminator = build_models(cfg)
    images = generator(torch.randn(3, 20))
    assert images.shape == (3, channels, size, size)
    assert images.min() >= -1 and images.max() <= 1  # Tanh out
    assert discriminator(images).shape == (3,)


@pytest.mark.parametrize("size,channels", [(28, 1), (32, 3), (64, 3)])
def test_mlp_is_the_notebook_network(size, channels):
    cfg = ModelConfig(family="mlp", image_size=size, channels=channels, g_width=256, d_width=256, latent_dim=100)
    generator, discriminator = build_models(cfg)
    g_linear = [m for m in generator.modules() if isinstance(m, torch.nn.Linear)]
    d_linear = [m for m in discriminator.modules() if isinstance(m, torch.nn.Linear)]
    pixels = channels * size * size
    assert [(m.in_features, m.out_features) for m in g_linear] == [(100, 256), (256, 512), (512, 1024), (1024, pixels)]
    assert [(m.in_features, m.out_features) for m in d_linear] == [(pixels, 1024), (1024, 512), (512, 1)]
    images = generator(torch.randn(2, 100))
    assert images.shape == (2, channels, size, size)
    assert discriminator(images).shape == (2,)


def test_dcgan_init_follows_the_paper():
    generator, _ = build_models(ModelConfig(family="dcgan", image_size=64, channels=3))
    conv = generator.net[0].weight
    assert abs(conv.mean().item()) < 0.002 and abs(conv.std().item() - 0.02) < 0.002


def test_discriminator_batchnorm_and_dropout_are_switchable():
    plain = ModelConfig(family="dcgan", d_batchnorm=False, d_dropout=0.3)
    _, discriminator = build_models(plain)
    kinds = {type(m).__name__ for m in discriminator.modules()}
    assert "BatchNorm2d" not in kinds and "Dropout" in kinds


@pytest.mark.parametrize("bad,message", [
    (dict(image_size=48), "image size 48 is not supported"),
    (dict(channels=2), "channels must be 1"),
    (dict(family="resnet"), "unknown model 'resnet'; choose one of mlp, dcgan"),
    (dict(latent_dim=0), "latent_dim must be between"),
])
def test_impossible_models_are_explained(bad, message):
    with pytest.raises(ConfigError, match=message):
        build_models(ModelConfig(**bad))


def test_calibrated_batchnorm_makes_eval_match_training_and_leaves_weights():
    torch.manual_seed(0)
    generator, _ = build_models(ModelConfig(family="dcgan", g_width=8, latent_dim=16))
    weights = [p.clone() for p in generator.parameters()]
    z = torch.randn(512, 16)
    with torch.no_grad():
        generator.train()
        train_mode = generator(z)
        calibrate_batchnorm(generator, 16, "cpu", torch.Generator().manual_seed(1), batches=8, batch_size=512)
        generator.eval()
        eval_mode = generator(z)
    assert (train_mode - eval_mode).abs().mean() < 0.02  # eval now draws what training draws
    assert all(torch.equal(a, b) for a, b in zip(weights, generator.parameters()))


def test_latent_codes_turn_the_first_entries_into_a_one_hot_choice():
    generator, discriminator = build_models(ModelConfig(latent_codes=4, latent_dim=16, g_width=8, d_width=8))
    generator.eval()
    z = torch.randn(3, 16, generator=torch.Generator().manual_seed(0))
    z[:, :4] = torch.tensor([[2.0, 0.1, -1.0, 0.5]] * 3)
    same_code = z.clone()
    same_code[:, 1:4] = torch.tensor([-3.0, 1.9, -0.2])  # entry 0 is still the largest: the same code
    other_code = z.clone()
    other_code[:, 3] = 2.5  # now entry 3 is
    with torch.no_grad():
        assert torch.equal(generator(z), generator(same_code))
        assert not torch.allclose(generator(z), generator(other_code))
        logits, code_logits = discriminator(generator(z), with_codes=True)
        assert logits.shape == (3,) and code_logits.shape == (3, 4)
        assert torch.equal(logits, discriminator(generator(z)))  # the same judgement, one pass for both heads


@pytest.mark.parametrize("bad", [dict(family="mlp", latent_codes=10), dict(latent_codes=100, latent_dim=100)])
def test_latent_codes_need_the_dcgan_and_room_in_the_latent(bad):
    with pytest.raises(ConfigError, match="latent codes need the DCGAN"):
        ModelConfig(**bad).validate()
