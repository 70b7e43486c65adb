import math

import pytest
import torch
from torch.nn import functional as F

from ganlib.classifier import held_out_accuracy, held_out_split, load_digit_classifier, train_digit_classifier
from ganlib.datasets import TensorImages, load_dataset, to_unit_range
from ganlib.image_features import load_image_features, train_image_features
from ganlib.quality import QualityMeter, frechet_distance, gaussian_stats, kl_from_uniform


@pytest.fixture(scope="module")
def digit_meter(digits):
    return QualityMeter.for_data("mnist-sample", digits)


def unit_images(data, index):
    return to_unit_range(data.images[index])


def mixed_digits(data, n=300):
    """n real digits of all classes (the sample is sorted by class)."""
    return unit_images(data, torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:n])


def test_the_shipped_classifier_reads_held_out_digits(digits):
    _, held_out = held_out_split(digits.labels)
    assert len(held_out) == 500 and torch.bincount(digits.labels[held_out]).tolist() == [50] * 10
    accuracy = held_out_accuracy(load_digit_classifier(), unit_images(digits, held_out), digits.labels[held_out])
    assert accuracy >= 0.95


def test_frechet_distance_is_zero_for_equal_statistics_and_the_mean_gap_squared_for_a_shift():
    features = torch.randn(2000, 8, generator=torch.Generator().manual_seed(0))
    assert frechet_distance(gaussian_stats(features), gaussian_stats(features)) == pytest.approx(0, abs=1e-6)
    shift = torch.tensor([3.0, 4.0] + [0.0] * 6)
    assert frechet_distance(gaussian_stats(features), gaussian_stats(features + shift)) == pytest.approx(25, rel=1e-6)


def test_kl_from_uniform_spans_zero_to_log_of_the_class_count():
    assert kl_from_uniform([0.1] * 10) == pytest.approx(0)
    assert kl_from_uniform([1.0] + [0.0] * 9) == pytest.approx(math.log(10))


def test_real_digits_score_as_even_confident_and_close(digit_meter, digits):
    _, held_out = held_out_split(digits.labels)
    score = digit_meter.score(unit_images(digits, held_out))
    assert score.classes_covered == 10 and score.kl_uniform < 0.05 and score.confidence > 0.9
    assert score.legible > 0.9 and score.summary().startswith(f"legible {score.legible:.0%} · digits 10/10")
    assert score.frechet < 10 and 0.9 < score.diversity < 1.1
    assert sum(score.class_histogram) == pytest.approx(1, abs=1e-3)


def test_a_collapsed_generator_scores_as_one_digit(digit_meter, digits):
    ones = torch.nonzero(digits.labels == 1).flatten()[:300]
    score = digit_meter.score(unit_images(digits, ones))
    assert score.classes_covered == 1 and score.class_histogram[1] > 0.9 and score.kl_uniform > 2.0
    assert score.frechet > 10 * digit_meter.score(mixed_digits(digits)).frechet


def test_blurred_digits_are_less_legible_than_sharp_ones(digit_meter, digits):
    sharp = mixed_digits(digits)
    blurred = torch.nn.functional.avg_pool2d(sharp, 5, stride=1, padding=2)  # smeared strokes, as a young G draws
    halves = torch.where(torch.arange(28)[None, None, :, None] < 14, sharp, -1.0)  # the lower half of each digit gone
    for broken in (blurred, halves):
        assert digit_meter.score(broken).legible < digit_meter.score(sharp).legible - 0.2


def test_noise_scores_far_worse_than_digits(digit_meter, digits):
    noise = torch.rand(300, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert digit_meter.score(noise).frechet > 100 * digit_meter.score(mixed_digits(digits)).frechet


def test_other_data_is_scored_in_the_colour_meters_features_with_diversity_and_coverage(digits):
    colour = TensorImages(digits.images[::8].expand(-1, 3, -1, -1).contiguous())
    meter = QualityMeter.for_data("folder", colour)
    real, copies = to_unit_range(colour.images[:300]), to_unit_range(colour.images[:1].expand(300, -1, -1, -1))
    assert meter.score(real).class_histogram is None and 0.8 < meter.score(real).diversity < 1.2
    assert meter.score(real).recognised is None  # only emoji are named by kind
    assert meter.score(copies).diversity == pytest.approx(0, abs=1e-6)  # one image 300 times: collapsed
    assert meter.score(copies).frechet > meter.score(real).frechet
    assert meter.score(copies).coverage < 0.05 < 0.5 < meter.score(real).coverage


@pytest.fixture(scope="module")
def emoji_meter():
    """(meter, 953 real emoji it has not seen): the shipped emoji split in two halves, as every emoji run's."""
    emoji = load_dataset("emoji", 32, 3)
    meter = QualityMeter.for_data("emoji", emoji)
    order = torch.randperm(len(emoji), generator=torch.Generator().manual_seed(0))
    return meter, to_unit_range(emoji.images[order[len(emoji) // 2:]])


def test_real_emoji_score_at_the_floor_and_blurred_emoji_and_blobs_far_from_it(emoji_meter):
    """The figures the pages show, each checked against fakes: blobs once scored as well as real emoji."""
    meter, unseen = emoji_meter
    floor = meter.floor
    assert floor.recognised > 0.7 and floor.coverage > 0.9 and floor.frechet > 0
    blurred = F.interpolate(F.interpolate(unseen, scale_factor=0.25, mode="bilinear", antialias=True),
                            size=(32, 32), mode="bilinear")
    blobs = unseen.mean(dim=(2, 3), keepdim=True).expand_as(unseen)  # each emoji's average colour, no shape
    for fake, what in ((blurred, "blurred"), (blobs, "blobs")):
        score = meter.score(fake)
        assert score.frechet > 5 * floor.frechet, what
        assert score.recognised < 0.6 * floor.recognised, what
    assert meter.score(blobs).coverage < 0.2
    assert "read as emoji (real: " in meter.score(blobs).summary() and "how varied: covers" in floor.summary()


def test_a_generator_that_repeats_ten_emoji_scores_low_on_variety(emoji_meter):
    meter, unseen = emoji_meter
    ten = unseen[:10].repeat(100, 1, 1, 1)
    score = meter.score(ten)
    assert score.coverage < 0.1 * meter.floor.coverage  # diversity, a mean distance, cannot tell: ten differ


def test_the_colour_meters_network_rebuilds_from_one_call(tmp_path):
    card = train_image_features(tmp_path / "features", epochs=1, log=lambda line: None)
    rebuilt = load_image_features(tmp_path / "features.safetensors")
    assert len(card["kinds"]) == 98 and "face-smiling" in card["kinds"]
    assert rebuilt.features(torch.zeros(2, 3, 64, 64)).shape == (2, 128)
    assert rebuilt.head(rebuilt.features(torch.zeros(2, 1, 28, 28))).shape == (2, 98)


def test_the_classifier_rebuilds_from_one_call(tmp_path, digits):
    card = train_digit_classifier(tmp_path / "digits", epochs=1, log=lambda line: None)
    assert card["held_out_accuracy"] > 0.8 and (tmp_path / "digits.json").exists()
    _, held_out = held_out_split(digits.labels)
    rebuilt = load_digit_classifier(tmp_path / "digits.safetensors")
    assert held_out_accuracy(rebuilt, unit_images(digits, held_out), digits.labels[held_out]) == pytest.approx(
        card["held_out_accuracy"], abs=1e-4)


def test_a_missing_or_foreign_meter_network_names_the_command_that_rebuilds_it(tmp_path):
    from ganlib.errors import CheckpointError

    (tmp_path / "foreign.safetensors").write_bytes(b"not a safetensors file")
    for path in (tmp_path / "missing.safetensors", tmp_path / "foreign.safetensors"):
        with pytest.raises(CheckpointError, match="rebuild it with: python -m ganlib train-features"):
            load_image_features(path)
    with pytest.raises(CheckpointError, match="rebuild it with: python -m ganlib train-classifier"):
        load_digit_classifier(tmp_path / "missing.safetensors")
