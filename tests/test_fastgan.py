"""The few-shot family (FastGAN, sized for a CPU): skip-layer excitation, D's decoders, the colour DiffAugment, and a
short run through the whole engine."""
import pytest
import torch

from ganlib.augment import color
from ganlib.checkpoint import load_generator
from ganlib.config import preset
from ganlib.datasets import load_dataset
from ganlib.gan import GAN
from ganlib.memory import estimate_run
from ganlib.models import build_models
from ganlib.models.fastgan import FastGANGenerator, SkipExcitation
from ganlib.runs import RunManager


def test_skip_layer_excitation_gates_each_channel_of_a_map_eight_times_larger():
    excite = SkipExcitation(channels_small=32, channels_large=8)
    small, large = torch.randn(5, 32, 8, 8), torch.randn(5, 8, 64, 64)
    out = excite(small, large)
    assert out.shape == large.shape
    gate = out / large  # one weight per image and channel, in (0, 1)
    assert torch.allclose(gate, gate[:, :, :1, :1].expand_as(gate), atol=1e-5)
    assert 0 < gate.min() and gate.max() < 1
    assert not torch.allclose(excite(torch.randn(5, 32, 8, 8), large), out)  # it reads the small map


def test_the_generator_draws_every_size_with_excitation_from_32_px_on():
    for size, excited in ((32, ["32"]), (64, ["32", "64"]), (128, ["32", "64", "128"]),
                          (256, ["32", "64", "128", "256"])):
        model_cfg, _ = preset("fastgan", image_size=size)
        generator = FastGANGenerator(model_cfg)
        assert list(generator.excite) == excited
        images = generator(torch.randn(3, model_cfg.latent_dim))
        assert images.shape == (3, 3, size, size) and images.abs().max() <= 1


def test_ds_decoders_learn_to_rebuild_real_images():
    """The self-supervision alone, on 64 real emoji at 64 px: the reconstruction loss falls."""
    model_cfg, _ = preset("fastgan", image_size=64)
    torch.manual_seed(0)
    _, discriminator = build_models(model_cfg)
    emoji = load_dataset("emoji", 64, 3)
    real = next(emoji.batches(torch.arange(64), 64))
    optimizer = torch.optim.Adam(discriminator.parameters(), 2e-3)
    losses = []
    for _ in range(40):
        _, loss = discriminator(real, reconstruct=True)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5


def test_the_colour_augmentation_changes_what_d_sees_of_real_and_fake_alike_and_is_differentiable():
    """Flat grey images show the colour op alone: per image one brightness shift (saturation and contrast cannot
    act on a flat image). In a training step D sees real and generated images each shifted so."""
    flat = torch.zeros(256, 3, 8, 8)
    shifted = color(flat, torch.Generator().manual_seed(0))
    per_image = shifted.mean((1, 2, 3))
    assert torch.allclose(shifted, per_image.view(-1, 1, 1, 1).expand_as(shifted), atol=1e-6)
    assert -1 <= per_image.min() < -0.8 and 0.8 < per_image.max() <= 1  # uniform in ±1 on [-1, 1] images
    images = (torch.rand(4, 3, 8, 8) * 2 - 1).requires_grad_(True)
    color(images, torch.Generator().manual_seed(0)).square().sum().backward()
    assert images.grad.abs().sum() > 0
    model_cfg, train_cfg = preset("fastgan", g_width=8, d_width=8, batch_size=64, device="cpu", ema_decay=0.0)
    spreads = {}
    for augment in ("color", ""):
        gan = GAN(model_cfg, train_cfg.__class__(**{**vars(train_cfg), "augment": augment}), torch.device("cpu"))
        seen = []
        first = gan.discriminator.downs["16"].net[0]
        first.register_forward_hook(lambda module, args, out: seen.append(args[0].detach().float()))
        gan.train_step(torch.zeros(64, 3, 32, 32))  # flat grey real images
        real, fake = seen[0], seen[1]
        spreads[augment] = [batch.mean((1, 2, 3)).std().item() for batch in (real, fake)]
    assert spreads[""][0] == 0 and all(spread > 0.3 for spread in spreads["color"])
    assert spreads["color"][1] > 2 * spreads[""][1]


def test_a_short_colour_run_trains_saves_and_loads_like_any_other(tmp_path, monkeypatch):
    model_cfg, train_cfg = preset("fastgan", dataset="emoji", max_seconds=0.0, max_steps=6, batch_size=8,
                                  g_width=8, d_width=8, device="cpu")
    assert estimate_run(model_cfg, train_cfg).total > 0
    manager = RunManager(max_concurrent=1, runs_root=tmp_path)
    run_id = manager.start("s", model_cfg, train_cfg)
    assert manager.wait(run_id, 120)
    run = manager.get(run_id)
    assert run.status == "finished", run.message
    assert {"loss_d", "loss_g"} <= set(run.rows[-1]) and run.progress.step == 6
    generator, checkpoint = load_generator(run.checkpoint_path)
    assert checkpoint.model_cfg.family == "fastgan"
    assert generator(torch.randn(2, model_cfg.latent_dim)).shape == (2, 3, 32, 32)
    gan = GAN(model_cfg, train_cfg, torch.device("cpu"))
    assert gan.discriminator.rebuilds and gan.channels_last


def test_below_32_px_the_few_shot_gan_is_refused_in_words_and_digits_get_32_px():
    from ganlib.api import run_configs
    from ganlib.errors import ConfigError

    with pytest.raises(ConfigError, match="draws 32 px and up, not 28"):
        preset("fastgan", image_size=28, channels=1)[0].validate()
    model_cfg, _ = run_configs("fastgan", "mnist-sample", conditional=False)
    assert (model_cfg.image_size, model_cfg.channels, model_cfg.classes) == (32, 1, 0)
