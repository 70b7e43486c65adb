import pytest
import torch
from PIL import Image

from ganlib.config import ModelConfig
from ganlib.latent import (latent_path, latents_for_codes, lerp, move_along, principal_directions, render_gif, sample_z,
                           slerp, with_codes_among)
from ganlib.models import build_models, chosen_codes


def test_sample_z_is_reproducible_and_truncation_bounds_it():
    assert torch.equal(sample_z(4, 10, seed=7), sample_z(4, 10, seed=7))
    assert not torch.equal(sample_z(4, 10, seed=7), sample_z(4, 10, seed=8))
    truncated = sample_z(2000, 10, seed=1, truncation=0.5)
    assert truncated.abs().max() <= 0.5 and truncated.std() < 0.35


def test_lerp_and_slerp_hit_their_endpoints():
    a, b = sample_z(2, 64, seed=0)
    for interpolate in (lerp, slerp):
        path = interpolate(a, b, torch.linspace(0, 1, 5))
        assert path.shape == (5, 64)
        assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(path[-1], b, atol=1e-5)


def test_slerp_keeps_gaussian_norms_where_lerp_sags():
    a, b = sample_z(2, 512, seed=0)
    middle_lerp = lerp(a, b, [0.5])[0].norm()
    middle_slerp = slerp(a, b, [0.5])[0].norm()
    typical = (a.norm() + b.norm()) / 2
    assert middle_slerp == pytest.approx(typical.item(), rel=1e-4)
    assert middle_lerp < 0.8 * typical  # the straight line cuts through the low-norm interior


def test_slerp_of_parallel_vectors_does_not_divide_by_zero():
    a = torch.ones(8)
    path = slerp(a, 2 * a, torch.linspace(0, 1, 3))
    assert torch.isfinite(path).all() and torch.allclose(path[1], 1.5 * a)


def test_open_path_visits_every_keypoint_with_the_asked_steps():
    keys = sample_z(3, 16, seed=2)
    path = latent_path(keys, 9, "lerp")
    assert path.shape == (9, 16)
    assert torch.allclose(path[0], keys[0]) and torch.allclose(path[4], keys[1]) and torch.allclose(path[8], keys[2])


def test_closed_path_returns_towards_its_start_without_repeating_it():
    keys = sample_z(3, 16, seed=2)
    path = latent_path(keys, 12, "slerp", closed=True)
    assert path.shape == (12, 16)
    assert torch.allclose(path[0], keys[0], atol=1e-5) and torch.allclose(path[4], keys[1], atol=1e-5)
    assert not torch.allclose(path[-1], keys[0], atol=1e-3)
    assert (path[-1] - keys[0]).norm() < (path[-2] - keys[0]).norm()  # heading home


def test_render_gif_writes_one_frame_per_latent(tmp_path):
    generator, _ = build_models(ModelConfig(family="dcgan", g_width=8, latent_dim=16))
    generator.eval()
    frames = render_gif(generator, latent_path(sample_z(2, 16, seed=0), 6), tmp_path / "walk.gif")
    with Image.open(tmp_path / "walk.gif") as gif:
        assert gif.n_frames == 6 and gif.size == (28, 28)
    assert len(frames) == 6


def test_gif_can_be_written_to_memory_and_enlarged(tmp_path):
    import io

    generator, _ = build_models(ModelConfig(family="mlp", g_width=8, latent_dim=16))
    gif = io.BytesIO()
    render_gif(generator.eval(), latent_path(sample_z(2, 16, seed=0), 4), gif, scale=3)
    with Image.open(gif) as image:
        assert image.n_frames == 4 and image.size == (84, 84)


@pytest.mark.parametrize("family", ["dcgan", "mlp"])
def test_principal_directions_find_the_latent_axis_the_generator_is_most_sensitive_to(family):
    torch.manual_seed(0)
    generator, _ = build_models(ModelConfig(family=family, g_width=16, latent_dim=32))
    first_layer = generator.net[0]
    with torch.no_grad():  # plant a direction: latent axis 5 drives the first layer 10× harder
        if family == "mlp":
            first_layer.weight[:, 5] *= 10
        else:
            first_layer.weight[5] *= 10  # ConvTranspose2d weight: [latent, out, k, k]
    directions, explained = principal_directions(generator.eval(), 32, count=3, samples=512)
    assert directions.shape == (3, 32) and explained.shape == (3,)
    assert torch.allclose(directions.norm(dim=1), torch.ones(3), atol=1e-5)
    assert directions[0].abs().argmax() == 5 and directions[0, 5] > 0.9
    assert explained[0] > 3 * explained[1] and explained.sum() < 1
    again, _ = principal_directions(generator, 32, count=3, samples=512)
    assert torch.equal(directions, again)


def test_move_along_adds_the_scaled_directions():
    z = torch.zeros(4)
    directions = torch.eye(4)[:2]
    assert torch.equal(move_along(z, directions, [2.0, -1.0]), torch.tensor([2.0, -1.0, 0.0, 0.0]))
    assert torch.equal(move_along(z, directions, [0.0, 0.0]), z)


def test_latents_for_codes_give_each_code_a_row_with_the_same_noise():
    z = latents_for_codes(3, 4, 10, seed=1)
    assert z.shape == (12, 10)
    assert chosen_codes(z, 3).tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert torch.equal(z[:4, 3:], z[8:, 3:])  # the same noise in every row: only the code changes


def test_latents_kept_to_some_codes_ask_for_each_equally_keep_their_style_and_walk_among_them():
    z = sample_z(3000, 30, seed=3)
    kept = with_codes_among(z, [2, 5, 9], 10)
    chosen = chosen_codes(kept, 10)
    assert set(chosen.tolist()) == {2, 5, 9}
    assert torch.bincount(chosen, minlength=10)[[2, 5, 9]].min() > 900  # 1,000 each expected
    own = chosen_codes(z, 10)
    asked_already = torch.isin(own, torch.tensor([2, 5, 9]))
    assert torch.equal(chosen[asked_already], own[asked_already])  # a latent asking for an allowed code keeps it
    assert torch.equal(kept[:, 10:], z[:, 10:])  # the style is untouched
    walk = latent_path([kept[0], kept[1], kept[2]], 60)
    assert set(chosen_codes(walk, 10).tolist()) <= {2, 5, 9}
