import pytest
import torch

from ganlib.datasets import to_unit_range
from ganlib.nearest import nearest_images, typical_real_distance


def test_a_copied_training_image_is_its_own_nearest_neighbour_at_distance_zero(digits):
    training = digits.images[:500]
    copies = to_unit_range(training[[7, 123]])
    distances, indices = nearest_images(copies, training, k=3)
    assert distances.shape == indices.shape == (2, 3)
    assert indices[:, 0].tolist() == [7, 123]
    assert distances[:, 0].tolist() == pytest.approx([0.0, 0.0], abs=1e-3)
    assert (distances[:, 1:] > 0.1).all() and (distances[:, :-1] <= distances[:, 1:]).all()


def test_distances_are_on_the_pixel_scale():
    training = torch.zeros(1, 1, 4, 4, dtype=torch.uint8)  # all black: -1 everywhere
    white = torch.ones(1, 1, 4, 4)  # +1 everywhere: every pixel 2 apart
    distances, _ = nearest_images(white, training, k=1)
    assert distances.item() == pytest.approx(2.0, abs=0.01)


def test_shape_mismatch_is_refused(digits):
    with pytest.raises(ValueError, match="differ in shape"):
        nearest_images(torch.zeros(1, 3, 28, 28), digits.images[:10])


def test_typical_real_distance_is_between_copy_and_unrelated(digits):
    typical = typical_real_distance(digits.images, n=64)
    assert 0.2 < typical < 1.0
