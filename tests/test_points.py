import math

import numpy as np
import pytest
import torch

from ganlib.config import preset
from ganlib.errors import DatasetError
from ganlib.points import (POINT_DATASETS, divergences, grid25, mode_coverage, points_from_csv, ring8,
                           user_points)


def test_ring8_is_eight_gaussians_of_sigma_001_evenly_on_the_unit_circle():
    data = ring8()
    assert data.sigma == 0.01 and data.has_modes and data.centers.shape == (8, 2)
    assert torch.allclose(data.centers.norm(dim=1), torch.ones(8), atol=1e-6)
    angles = torch.atan2(data.centers[:, 1], data.centers[:, 0]) % (2 * math.pi)
    assert torch.allclose(angles.sort().values, torch.arange(8) * math.pi / 4, atol=1e-5)


def test_grid25_is_twentyfive_gaussians_of_sigma_005_on_the_even_lattice():
    data = grid25()
    assert data.sigma == 0.05 and data.has_modes
    expected = {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert {tuple(int(v) for v in c.tolist()) for c in data.centers} == expected


@pytest.mark.parametrize("make", [ring8, grid25])
def test_samples_spread_around_their_nearest_center_with_the_stated_sigma(make):
    data = make()
    points = data.sample(20_000, torch.Generator().manual_seed(0))
    offsets = points - data.centers[torch.cdist(points, data.centers).argmin(dim=1)]
    assert offsets.mean(dim=0).abs().max() < 0.01 * data.sigma * 10
    assert offsets.std(dim=0) == pytest.approx([data.sigma, data.sigma], rel=0.03)


def test_every_shape_fits_in_its_square():
    for make in POINT_DATASETS.values():
        data = make()
        points = data.sample(5000, torch.Generator().manual_seed(1))
        assert points.abs().max() <= data.scale + 3 * data.sigma


def test_mode_metric_counts_only_high_quality_samples_near_a_center():
    data = ring8()
    on_three_modes = data.centers[:3].repeat(100, 1) + 0.005  # 300 samples within 3σ of modes 0, 1, 2
    far_away = torch.zeros(100, 2)  # the ring's middle: no mode within 3σ
    coverage = mode_coverage(torch.cat([on_three_modes, far_away]), data)
    assert (coverage.captured, coverage.modes) == (3, 8)
    assert coverage.high_quality == pytest.approx(0.75)
    just_outside = data.centers + 3.01 * data.sigma * torch.tensor([1.0, 0.0])
    assert mode_coverage(just_outside, data).captured == 0


def test_real_samples_score_all_modes_and_about_99_7_percent_high_quality():
    for make in (ring8, grid25):
        data = make()
        coverage = mode_coverage(data.sample(2500, torch.Generator().manual_seed(2)), data)
        # within 3σ in 2D: 1 − exp(−9/2) ≈ 98.9%
        assert coverage.captured == coverage.modes and coverage.high_quality == pytest.approx(0.989, abs=0.01)


def test_divergences_are_small_between_two_real_samples_and_large_for_a_collapsed_one():
    data = grid25()
    real = data.sample(2500, torch.Generator().manual_seed(0))
    other_real = data.sample(2500, torch.Generator().manual_seed(1))
    collapsed = data.centers[:1].repeat(2500, 1)
    kl_same, js_same = divergences(real, other_real, data.scale)
    kl_collapsed, js_collapsed = divergences(real, collapsed, data.scale)
    assert kl_same < 0.2 and js_same < 0.05
    assert kl_collapsed > 5 and js_collapsed > 0.5 and js_collapsed <= math.log(2) + 1e-6


def test_points_from_csv_reads_a_header_and_rows_and_names_a_bad_row():
    assert points_from_csv(b"x,y\n0,1\n2.5,-3\n").tolist() == [[0.0, 1.0], [2.5, -3.0]]
    with pytest.raises(DatasetError, match="row 2 .* not two numbers"):
        points_from_csv(b"0,1\nhello,2\n")
    with pytest.raises(DatasetError, match="no rows"):
        points_from_csv(b"x,y\n")
    with pytest.raises(DatasetError, match="NaN"):
        points_from_csv(b"0,1\nnan,2\n")


def test_user_points_are_blurred_by_two_percent_of_their_extent():
    data = user_points(np.array([[0, 0], [10, 0], [0, 5]]))
    assert data.sigma == pytest.approx(0.2) and not data.has_modes and data.centers.shape == (3, 2)


def test_the_2d_preset_is_what_the_readme_measured():
    model_cfg, train_cfg = preset("mlp2d")
    assert (model_cfg.hidden_layers, model_cfg.g_width, model_cfg.latent_dim) == (3, 128, 2)
    assert (train_cfg.lr_g, train_cfg.r1_gamma, train_cfg.ema_decay, train_cfg.batch_size) == (1e-3, 0.1, 0.999, 256)
