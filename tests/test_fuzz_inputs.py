"""Mutated cards, weights, points files, images and zips: each is loaded or refused with a GanStudioError, never
a traceback. The mutations are random but seeded, so a failure reproduces."""
import io
import json
import math
import random
import zipfile

import pytest
from PIL import Image

from ganlib.archives import stage_zip_upload
from ganlib.checkpoint import file_sha256, load_checkpoint, load_generator, save_checkpoint
from ganlib.config import ModelConfig, TrainConfig
from ganlib.datasets import load_dataset
from ganlib.errors import GanStudioError
from ganlib.models import build_generator
from ganlib.points import points_from_csv
from ganlib.quality import QualityScore

ODD_VALUES = [None, True, -1, 0, 3.5, 1e308, math.nan, math.inf, "", "x" * 5000, "../../etc/passwd", [], [1, "a"],
              {}, {"a": {"b": []}}, "[link](http://evil.example)", 2**70]


def mutations(rng, value, depth=0):
    """A copy of a JSON value with one random change somewhere inside it."""
    if isinstance(value, dict) and value and depth < 3 and rng.random() < 0.7:
        key = rng.choice(list(value))
        changed = dict(value)
        roll = rng.random()
        if roll < 0.2:
            del changed[key]
        elif roll < 0.6:
            changed[key] = mutations(rng, value[key], depth + 1)
        else:
            changed[key] = rng.choice(ODD_VALUES)
        return changed
    if isinstance(value, list) and value and rng.random() < 0.5:
        changed = list(value)
        changed[rng.randrange(len(changed))] = rng.choice(ODD_VALUES)
        return changed
    return rng.choice(ODD_VALUES)


def only_refused_in_words(load):
    """Run load(); a GanStudioError is a fine answer, any other exception fails the test with its type."""
    try:
        return load()
    except GanStudioError:
        return None


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    model_cfg = ModelConfig(g_width=8, d_width=8, latent_dim=16)
    quality = QualityScore(40.0, 0.9, 3.4, [0.1] * 10, 0.02, 0.8, 10).as_dict()
    weights = save_checkpoint(folder / "g", model_cfg=model_cfg, train_cfg=TrainConfig(),
                              modules={"generator": build_generator(model_cfg)},
                              progress={"step": 39, "epoch": 1, "elapsed_seconds": 2.5, "hardware": "CPU",
                                        "quality": quality}, metrics={"loss_d": 1.2})
    return weights


def test_mutated_cards_are_loaded_or_refused_in_words(export, tmp_path):
    rng = random.Random(0)
    card = json.loads(export.with_suffix(".json").read_text())
    weights = tmp_path / "g.safetensors"
    weights.write_bytes(export.read_bytes())
    loaded = 0
    for _ in range(300):
        weights.with_suffix(".json").write_text(json.dumps(mutations(rng, card)))
        result = only_refused_in_words(lambda: load_generator(weights, memory_budget=2**30))
        if result is not None:
            generator, checkpoint = result
            loaded += 1
            assert checkpoint.card.get("step", 0) >= 0 and generator.training is False
    assert 0 < loaded < 300  # some mutations are harmless (an extra field), most are refused


def test_mutated_weights_are_loaded_or_refused_in_words(export, tmp_path):
    rng = random.Random(1)
    original, card = export.read_bytes(), json.loads(export.with_suffix(".json").read_text())
    weights = tmp_path / "g.safetensors"
    refused = 0
    for trial in range(150):
        data = bytearray(original)
        if trial % 3 == 0:
            data = data[:rng.randrange(len(data))]
        else:
            for _ in range(rng.randrange(1, 8)):  # the header is where a parser can be fooled
                data[rng.randrange(min(len(data), 400))] = rng.randrange(256)
        weights.write_bytes(bytes(data))
        card["weights_sha256"] = file_sha256(weights)  # a hostile upload brings a matching card
        weights.with_suffix(".json").write_text(json.dumps(card))
        refused += only_refused_in_words(lambda: load_generator(weights)) is None
        only_refused_in_words(lambda: load_checkpoint(weights))
    assert refused >= 50  # every third file is cut short, and a cut file is never loaded


def test_mutated_points_files_are_read_or_refused_in_words():
    rng = random.Random(2)
    good = b"x,y\n0,1\n2.5,-3\n1e3,4\n"
    for trial in range(300):
        if trial % 2:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        else:
            data = bytearray(good)
            for _ in range(rng.randrange(1, 5)):
                data.insert(rng.randrange(len(data) + 1), rng.choice(b",\n\r\"'-e.9\x00\xff x"))
            data = bytes(data)
        points = only_refused_in_words(lambda: points_from_csv(data))
        assert points is None or (points.ndim == 2 and points.shape[1] == 2)


def image_bytes(kind):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 16), (200, 30, 90)).save(buffer, format=kind)
    return buffer.getvalue()


def test_mutated_images_and_zips_are_loaded_skipped_or_refused_in_words(tmp_path):
    rng = random.Random(3)
    originals = [image_bytes(kind) for kind in ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")]
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(120):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if index % 4 == 0:
            data = data[:rng.randrange(1, len(data))]
        (folder / f"{index}.png").write_bytes(bytes(data))
    data = only_refused_in_words(lambda: load_dataset("folder", 32, 3, str(folder)))
    assert data is None or len(data) + data.skipped == 120

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, original in enumerate(originals * 3):
            archive.writestr(f"faces/{index}.png", original)
    zipped = buffer.getvalue()
    for trial in range(80):
        mutated = bytearray(zipped)
        for _ in range(rng.randrange(1, 10)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        (tmp_path / f"z{trial}").mkdir()
        staged = only_refused_in_words(lambda: stage_zip_upload("faces.zip", bytes(mutated), tmp_path / f"z{trial}"))
        if staged is not None:
            only_refused_in_words(lambda: load_dataset("folder", 32, 3, str(staged)))
