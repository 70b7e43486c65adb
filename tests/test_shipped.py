"""The pretrained generators in checkpoints/: the Latent explorer's offline starting point."""
import json
from pathlib import Path

import pytest

import ganlib
from ganlib.checkpoint import load_checkpoint, load_generator
from ganlib.cli import main
from ganlib.datasets import load_dataset
from ganlib.eye_codes import eye_codes
from ganlib.latent import render, sample_z
from ganlib.models import build_models
from ganlib.nearest import nearest_images
from ganlib.quality import DIGIT_DATASETS, QualityMeter

CHECKPOINTS = Path(__file__).parent.parent / "checkpoints"
SHIPPED = sorted(CHECKPOINTS.glob("*.safetensors"))


def test_the_promised_generators_are_shipped():
    assert {"mnist-dcgan", "mnist-mlp", "emoji-dcgan"} <= {path.stem for path in SHIPPED}


def training_images(checkpoint):
    """The shipped dataset a generator was trained on, at its size."""
    model = checkpoint.model_cfg
    return load_dataset(checkpoint.train_cfg.dataset, model.image_size, model.channels)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_each_shipped_generator_is_small_documented_and_draws_its_declared_shape(path):
    assert path.stat().st_size < 10 * 2**20
    card = json.loads(path.with_suffix(".json").read_text())
    for field in ("model", "train", "step", "elapsed_seconds", "hardware", "command"):
        assert card[field], field
    assert card["command"].startswith("python -m ganlib train")
    assert f"--export checkpoints/{path.stem}" in card["command"]
    assert all(name.startswith("generator.") for name in load_checkpoint(path).tensors)  # no D, no optimizer state
    generator, checkpoint = load_generator(path)
    model = checkpoint.model_cfg
    images = render(generator, sample_z(16, model.latent_dim, seed=0))
    assert images.shape == (16, model.channels, model.image_size, model.image_size)
    assert images.min() >= -1 and images.max() <= 1 and images.std() > 0.3


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_generators_draw_far_closer_to_their_real_images_than_an_untrained_one(path):
    """Digits: pixel distance to the nearest real digit. Emoji: the meter's Fréchet distance (an untrained G's flat
    gray sits close to emoji's white backgrounds in pixels, but nowhere near them in features)."""
    generator, checkpoint = load_generator(path)
    untrained, _ = build_models(checkpoint.model_cfg)
    z = sample_z(64, checkpoint.model_cfg.latent_dim, seed=1)
    data = training_images(checkpoint)
    if checkpoint.train_cfg.dataset in DIGIT_DATASETS:
        trained_distance = nearest_images(render(generator, z), data.images, k=1)[0].mean()
        untrained_distance = nearest_images(render(untrained.eval(), z), data.images, k=1)[0].mean()
        assert trained_distance < 0.6 * untrained_distance
    else:
        meter = QualityMeter.for_data(checkpoint.train_cfg.dataset, data)
        trained = meter.score_generator(generator, checkpoint.model_cfg).frechet
        assert trained < meter.score_generator(untrained.eval(), checkpoint.model_cfg).frechet / 10
        assert trained < 2 * meter.real_frechet  # near the real-vs-real floor


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_each_card_states_quality_figures_that_the_meter_reproduces(path):
    card = json.loads(path.with_suffix(".json").read_text())
    generator, checkpoint = load_generator(path)
    meter = QualityMeter.for_data(checkpoint.train_cfg.dataset, training_images(checkpoint),
                                  seed=checkpoint.train_cfg.seed)
    score = meter.score_generator(generator, checkpoint.model_cfg, seed=1)
    assert score.frechet == pytest.approx(card["quality"]["frechet"], rel=0.01)
    assert score.diversity == pytest.approx(card["quality"]["diversity"], abs=0.01)
    if meter.digits:
        assert score.class_histogram == pytest.approx(card["quality"]["class_histogram"], abs=0.01)
        assert score.legible == pytest.approx(card["quality"]["legible"], abs=0.01)
        if checkpoint.model_cfg.classes:
            assert score.as_asked == pytest.approx(card["quality"]["as_asked"], abs=0.01)
    else:  # colour: how varied, and for emoji how many read as one
        assert score.coverage == pytest.approx(card["quality"]["coverage"], abs=0.01)
        assert score.recognised == pytest.approx(card["quality"]["recognised"], abs=0.01)


def test_the_label_free_dcgan_draws_every_digit_about_equally():
    quality = json.loads((CHECKPOINTS / "mnist-dcgan.json").read_text())["quality"]
    assert quality["classes_covered"] == 10 and quality["kl_uniform"] < 0.1 and min(quality["class_histogram"]) > 0.04


def test_the_codes_a_person_found_drawing_emoji_are_read_as_emoji_more_often_than_the_others():
    """The card's eye codes (docs/quality.md: "Codes that draw emoji") hold for its weights: the meter, which never
    saw the labels, reads their samples as emoji far more often than the other codes' samples."""
    generator = ganlib.load(CHECKPOINTS / "emoji64-dcgan-codes")
    found = eye_codes(generator.checkpoint.card, 20)
    assert len(found.codes) == 10 and found.share > 0.5 > found.others_share
    others = [code for code in range(20) if code not in found.codes]
    meter = QualityMeter.for_data("emoji", training_images(generator.checkpoint), seed=0)
    read = {name: meter.score(generator.images(500, seed=1, codes=codes)).recognised
            for name, codes in (("eye", "eye"), ("others", others), ("all", None))}
    assert read["eye"] > read["all"] + 0.05 and read["eye"] > read["others"] + 0.15


def test_sample_keeps_to_the_codes_asked_and_says_why_it_cannot(tmp_path, capsys):
    path = CHECKPOINTS / "emoji64-dcgan-codes.safetensors"
    assert main(["sample", str(path), "--codes", "1, 19", "--n", "6", "--out", str(tmp_path / "flags.png")]) == 0
    assert "wrote 6 samples of codes 1, 19 of shape (3, 64, 64)" in capsys.readouterr().out
    assert (tmp_path / "flags.png").stat().st_size > 1000
    for codes, message in (("20", "not a list of code numbers from 0 to 19"), ("flags", "not a list of code numbers"),
                           ("", "not a list of code numbers")):
        assert main(["sample", str(path), "--codes", codes, "--out", str(tmp_path / "x.png")]) == 2
        assert message in capsys.readouterr().err
    assert main(["sample", str(CHECKPOINTS / "emoji64-dcgan.safetensors"), "--codes", "eye",
                 "--out", str(tmp_path / "x.png")]) == 2
    assert "only a generator trained with latent codes" in capsys.readouterr().err
    assert main(["sample", str(CHECKPOINTS / "mnist-dcgan.safetensors"), "--codes", "eye",
                 "--out", str(tmp_path / "x.png")]) == 2
    assert "names no codes found drawing recognisable images" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
