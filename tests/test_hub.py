"""`export --hub`: a folder that is a ready Hub model repository, whose card's YAML parses, that loads back into every
command and the explorer, and that `--push` hands to huggingface_hub (stopped before the network here)."""
import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

import ganlib
from ganlib.checkpoint import CheckpointError, stage_upload
from ganlib.cli import main
from ganlib.hub import hub_zip

SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints"


def front_matter(readme):
    """The YAML header of a model card, parsed as the Hub parses it."""
    assert readme.startswith("---\n")
    return yaml.safe_load(readme.split("---\n")[1])


@pytest.fixture(scope="module")
def hub_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hub") / "mnist-cdcgan"
    assert main(["export", str(SHIPPED / "mnist-cdcgan"), "--hub", str(folder)]) == 0
    return folder


def test_the_folder_is_a_hub_model_repository_with_a_valid_card(hub_folder):
    assert {p.name for p in hub_folder.iterdir()} == {"README.md", "generator.safetensors", "generator.json",
                                                      "samples.png"}
    readme = (hub_folder / "README.md").read_text()
    meta = front_matter(readme)
    assert meta["license"] == "cc-by-sa-3.0" and meta["library_name"] == "gan-studio"
    assert meta["pipeline_tag"] == "unconditional-image-generation" and meta["datasets"] == ["ylecun/mnist"]
    assert {"gan", "dcgan", "mnist-sample", "class-conditional"} <= set(meta["tags"])
    card = json.loads((SHIPPED / "mnist-cdcgan.json").read_text())
    assert card["command"] in readme and "not** Inception FID" in readme
    assert f"| {card['quality']['frechet']:.3g} | {card['quality']['real_frechet']:.3g} |" in readme
    assert Image.open(hub_folder / "samples.png").size == (8 * 30 + 2, 8 * 30 + 2)


def test_sample_interpolate_score_and_the_library_load_the_folder(hub_folder, tmp_path, capsys):
    assert main(["sample", str(hub_folder), "--n", "8", "--class", "3", "--out", str(tmp_path / "s.npz")]) == 0
    exported = np.load(tmp_path / "s.npz")["images"]
    original = ganlib.load(SHIPPED / "mnist-cdcgan").images(8, label=3).numpy()
    assert np.allclose(exported, original, atol=1e-6)  # the same generator, the same drawings
    assert main(["interpolate", str(hub_folder), "--steps", "4", "--out", str(tmp_path / "w.gif")]) == 0
    assert main(["score", str(hub_folder)]) == 0
    assert "legible" in capsys.readouterr().out


def test_the_zip_a_page_offers_uploads_back(tmp_path):
    data = hub_zip(SHIPPED / "emoji-dcgan")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert set(archive.namelist()) == {"README.md", "generator.safetensors", "generator.json", "samples.png"}
        assert front_matter(archive.read("README.md").decode())["license"] == "cc-by-4.0"
    weights = stage_upload([("my-emoji.zip", data)], tmp_path / "staged")
    assert ganlib.load(weights).images(2).shape == (2, 3, 32, 32)


def test_a_zip_upload_holds_exactly_one_generator_and_no_pickle(tmp_path):
    def zipped(**files):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, content in files.items():
                archive.writestr(name.replace("__", "/"), content)
        return buffer.getvalue()

    pair = {"g.safetensors": (SHIPPED / "mnist-mlp.safetensors").read_bytes(),
            "g.json": (SHIPPED / "mnist-mlp.json").read_bytes()}
    with pytest.raises(CheckpointError, match="should hold one generator.*found 0"):
        stage_upload([("a.zip", zipped(**{"README.md": b"hi"}))], tmp_path / "a")
    with pytest.raises(CheckpointError, match="found 2"):
        stage_upload([("b.zip", zipped(**pair, **{f"x__{n}": c for n, c in pair.items()}))], tmp_path / "b")
    with pytest.raises(CheckpointError, match="model.pt is a PyTorch pickle"):
        stage_upload([("c.zip", zipped(**pair, **{"model.pt": b"\x80\x04K\x01."}))], tmp_path / "c")
    with pytest.raises(ganlib.errors.GanStudioError, match="not a valid .zip"):
        stage_upload([("d.zip", b"PK\x03\x04 not really")], tmp_path / "d")
    assert not any((tmp_path / name).exists() for name in "abcd")
    assert stage_upload([("e.zip", zipped(**{f"deep__er__{n}": c for n, c in pair.items()}))], tmp_path / "e").exists()


def test_outside_text_in_the_card_stays_inside_its_code_block(tmp_path):
    card = json.loads((SHIPPED / "mnist-mlp.json").read_text())
    card["command"] = "python -m ganlib train --data-dir '```\n# Pwned <script>alert(1)</script>'"
    shutil.copy(SHIPPED / "mnist-mlp.safetensors", tmp_path / "hostile.safetensors")
    (tmp_path / "hostile.json").write_text(json.dumps(card))
    assert main(["export", str(tmp_path / "hostile.safetensors"), "--hub", str(tmp_path / "hub")]) == 0
    readme = (tmp_path / "hub" / "README.md").read_text()
    block = readme.split("The command that trained it:\n\n")[1]
    fence = block.split("\n")[0]
    assert fence == "````" and "\n# Pwned" not in readme  # a fence longer than the text's; its newline kept out
    assert block.split("\n")[2] == fence and "<script>" in block.split("\n")[1]


def test_bad_requests_get_one_line(tmp_path, hub_folder, capsys):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.tex").write_text("mine")
    assert main(["export", str(SHIPPED / "mnist-mlp"), "--hub", str(tmp_path / "busy")]) == 2
    assert "already holds other files" in capsys.readouterr().err
    assert main(["export", str(SHIPPED / "mnist-mlp"), "--hub", str(tmp_path / "x"), "--license", "MIT; rm"]) == 2
    assert "is not a licence identifier" in capsys.readouterr().err
    assert main(["export", str(SHIPPED / "mnist-mlp"), "--hub", str(hub_folder), "--push", "not a repo"]) == 2
    assert "is not a Hub repository id" in capsys.readouterr().err
    assert (tmp_path / "busy" / "thesis.tex").read_text() == "mine"


def test_push_creates_the_repository_and_uploads_the_folder(tmp_path, monkeypatch, capsys):
    huggingface_hub = pytest.importorskip("huggingface_hub")
    calls = []
    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo",
                        lambda self, repo_id, **kw: calls.append(("create", repo_id, kw)) or f"https://hf.co/{repo_id}")
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder",
                        lambda self, **kw: calls.append(("upload", sorted(p.name for p in Path(kw["folder_path"]).iterdir()),
                                                         kw["repo_id"])))
    assert main(["export", str(SHIPPED / "mnist-dcgan"), "--hub", str(tmp_path / "hub"), "--push", "ada/digits",
                 "--private"]) == 0
    assert calls == [("create", "ada/digits", {"repo_type": "model", "private": True, "exist_ok": True}),
                     ("upload", ["README.md", "generator.json", "generator.safetensors", "samples.png"], "ada/digits")]
    assert "uploaded to https://hf.co/ada/digits" in capsys.readouterr().out


def test_the_explorer_opens_an_uploaded_hub_folder_zip_and_offers_its_own(monkeypatch):
    from test_app import image_captions, open_explorer, shown

    app = open_explorer(monkeypatch)
    assert app.sidebar.get("download_button")  # the shipped generator's Hub folder, on offer
    app.sidebar.radio(key="explore_source").set_value("Upload").run()
    upload = ("my-digits.zip", hub_zip(SHIPPED / "mnist-cdcgan"), "application/zip")
    app.sidebar.file_uploader(key="explore_upload").set_value([upload]).run()
    assert not app.exception and not app.error
    assert any("DCGAN · 28×28×1" in text and "8,000 steps" in text for text in shown(app.caption))
    assert set(image_captions(app)[:24]) == {f"#{i}" for i in range(24)}
