"""Mutated cards, weights, points files, images and zips: each is loaded or refused with a GanStudioError, never
a traceback. The mutations are random but seeded, so a failure reproduces."""
import io
import json
import math
import random
import re
import zipfile

import pytest
from PIL import Image

import ganlib
from ganlib.archives import stage_zip_upload
from ganlib.cli import main
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


def hostile_copy(export, folder, card=None, tensors=None):
    """A copy of the export with its card (a dict or raw text) or its tensors replaced; the card's hash follows."""
    from safetensors.torch import load_file, save_file

    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / "g.safetensors"
    original = load_file(export)
    save_file({name: tensors(name, tensor) for name, tensor in original.items()} if tensors else original, weights)
    card = json.loads(export.with_suffix(".json").read_text()) if card is None else card
    if isinstance(card, dict):
        card = json.dumps({**card, "weights_sha256": file_sha256(weights)})
    weights.with_suffix(".json").write_text(card)
    return weights


def run_cli(capsys, *argv):
    code = main(list(map(str, argv)))
    return code, capsys.readouterr().err.strip()


@pytest.mark.parametrize("kind,message", [
    ("nested", "is nested deeper than 16 levels"),
    ("huge", "is larger than 1024 KB"),
    ("nan", "holds NaN or infinite values"),
    ("inf", "holds NaN or infinite values"),
    ("integers", "holds torch.int64 values, not floating-point numbers"),
    ("overflow", "draws NaN or infinite values"),
])
def test_a_hostile_checkpoint_is_refused_in_one_line_by_every_command(export, tmp_path, capsys, kind, message):
    """Each once showed the explorer a traceback with the server's paths (RecursionError, LinAlgError)."""
    import torch

    card, tensors = None, None
    if kind == "nested":
        card = '{"format": "gan-studio-checkpoint", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    elif kind == "huge":
        card = json.dumps({"format": "gan-studio-checkpoint", "pad": "x" * 2**21})
    elif kind in ("nan", "inf"):
        tensors = lambda name, t: t.fill_(math.nan if kind == "nan" else math.inf) if name.endswith("weight") else t
    elif kind == "integers":
        tensors = lambda name, t: t.long() if name.endswith("0.weight") else t
    else:  # finite weights whose products overflow float32
        tensors = lambda name, t: t.fill_(3e38) if t.is_floating_point() and "running_var" not in name else t
    weights = hostile_copy(export, tmp_path / kind, card, tensors)
    with pytest.raises(GanStudioError, match=re.escape(message)):
        load_generator(weights)
    for command in (["sample", weights, "--out", tmp_path / "s.png"], ["interpolate", weights, "--out", tmp_path / "i.gif"],
                    ["score", weights], ["code", weights, "--out", tmp_path / "t.py"]):
        code, err = run_cli(capsys, *command)
        assert code == 2 and err.startswith("error: ") and message in err and "\n" not in err, (command, err)
    assert not any((tmp_path / name).exists() for name in ("s.png", "i.gif", "t.py"))


def test_counts_past_the_memory_budget_are_refused_before_anything_is_drawn(export, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_MEMORY_MB", "100")
    code, err = run_cli(capsys, "sample", export, "--n", 10_000_000, "--out", tmp_path / "s.png")
    assert code == 2 and "--n 10,000,000 would need about 146.0 GB of memory" in err and "ask for at most 6,687" in err
    code, err = run_cli(capsys, "interpolate", export, "--steps", 100_000, "--out", tmp_path / "w.gif")
    assert code == 2 and "--steps 100,000 would need about 1.5 GB" in err and "more than the 100 MB" in err
    assert not (tmp_path / "s.png").exists() and not (tmp_path / "w.gif").exists()
    assert run_cli(capsys, "sample", export, "--n", 1000, "--out", tmp_path / "s.png")[0] == 0


def test_class_folders_that_differ_only_in_case_or_encoding_are_refused_by_name(tmp_path):
    for first, second in (("cat", "Cat"), ("caf\u00e9", "cafe\u0301")):
        folder = tmp_path / first.encode().hex()
        for name in (first, second):
            (folder / name).mkdir(parents=True)
            Image.new("RGB", (8, 8)).save(folder / name / "a.png")
        with pytest.raises(GanStudioError, match="differ only in letter case or in how an accent is encoded"):
            load_dataset("folder", 32, 3, str(folder))


def test_names_printed_to_a_terminal_carry_no_control_characters():
    from ganlib.text import printable

    assert printable("evil\u202egnp.exe\x1b[2J\r\nname\u200b") == "evil?gnp.exe?[2J??name?"
    assert printable("Ana-María 学生 🎨") == "Ana-María 学生 🎨"


EYE_CODES = {"codes": [1, 3], "share": 0.55, "others_share": 0.06, "labelled": 200}


@pytest.mark.parametrize("eye_codes,message", [
    ("codes 1 and 3", "bad 'eye_codes' (not a table of codes, share, others_share and labelled)"),
    ({**EYE_CODES, "codes": [1, 1]}, "its codes are not a list of distinct code numbers"),
    ({**EYE_CODES, "codes": [[1]]}, "its codes are not a list of distinct code numbers"),
    ({**EYE_CODES, "share": math.nan}, "its shares are not numbers from 0 to 1"),
    ({**EYE_CODES, "labelled": 0}, "its labelled is not a count of samples"),
])
def test_a_card_naming_codes_no_reader_expects_is_refused_in_one_line(export, tmp_path, capsys, eye_codes, message):
    card = {**json.loads(export.with_suffix(".json").read_text()), "eye_codes": eye_codes}
    weights = hostile_copy(export, tmp_path / "eye", card)
    code, err = run_cli(capsys, "sample", weights, "--out", tmp_path / "s.png")
    assert code == 2 and err.startswith("error: the card of g.safetensors has a bad 'eye_codes'") and message in err
    assert not (tmp_path / "s.png").exists()


def test_mutated_eye_codes_are_drawn_or_refused_in_words(tmp_path, capsys):
    """A card's codes past its generator's own are refused when asked for; every mutation is drawn or refused."""
    model_cfg = ModelConfig(g_width=8, d_width=8, latent_dim=16, latent_codes=4)
    weights = save_checkpoint(tmp_path / "g", model_cfg=model_cfg, train_cfg=TrainConfig(),
                              modules={"generator": build_generator(model_cfg)}, progress={"step": 1})
    card = json.loads(weights.with_suffix(".json").read_text())
    hostile_copy(weights, tmp_path / "past", {**card, "eye_codes": {**EYE_CODES, "codes": [1, 5]}})
    code, err = run_cli(capsys, "sample", tmp_path / "past" / "g.safetensors", "--codes", "eye", "--out",
                        tmp_path / "s.png")
    assert (code, err) == (2, "error: the card's 'eye_codes' name code 5, past this generator's 4 codes")
    rng, drawn = random.Random(1), 0
    for attempt in range(60):
        copy = hostile_copy(weights, tmp_path / str(attempt), {**card, "eye_codes": mutations(rng, EYE_CODES)})
        generator = only_refused_in_words(lambda: ganlib.load(copy))
        if generator is not None and only_refused_in_words(lambda: generator.images(4, codes="eye")) is not None:
            drawn += 1
    assert 0 < drawn < 60


def test_codes_asked_of_the_library_that_are_not_code_numbers_are_refused_in_words(tmp_path):
    model_cfg = ModelConfig(g_width=8, d_width=8, latent_dim=16, latent_codes=4)
    generator = ganlib.load(save_checkpoint(tmp_path / "g", model_cfg=model_cfg, train_cfg=TrainConfig(),
                                            modules={"generator": build_generator(model_cfg)}, progress={"step": 1}))
    assert generator.codes_to_draw([3, 1]) == (1, 3) and len(generator.images(2, codes="1, 3")) == 2
    for codes in (3, [1.5], [None], "1;3", [4]):
        with pytest.raises(GanStudioError, match=r"are not a list of code numbers from 0 to 3 \(or 'eye'"):
            generator.images(2, codes=codes)
