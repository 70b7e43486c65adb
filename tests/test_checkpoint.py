import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from ganlib.checkpoint import load_checkpoint, load_generator, save_checkpoint, stage_upload
from ganlib.config import ModelConfig, TrainConfig
from ganlib.errors import CheckpointError
from ganlib.models import build_models


def saved_generator(tmp_path, cfg=ModelConfig(family="dcgan", g_width=8, latent_dim=16)):
    torch.manual_seed(0)
    generator, _ = build_models(cfg)
    save_checkpoint(tmp_path / "gen", model_cfg=cfg, train_cfg=TrainConfig(), modules={"generator": generator})
    return generator.eval()


def test_generator_round_trip_draws_the_same_images(tmp_path):
    original = saved_generator(tmp_path)
    loaded, checkpoint = load_generator(tmp_path / "gen.safetensors")
    z = torch.randn(4, 16)
    with torch.no_grad():
        assert torch.equal(original(z), loaded(z))
    assert checkpoint.model_cfg.latent_dim == 16 and not loaded.training
    assert json.loads((tmp_path / "gen.json").read_text())["ganlib_version"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # atomic: no leftovers


class Payload:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("name", ["evil.pt", "evil.pth", "evil.pkl"])
def test_pickle_checkpoints_are_refused_without_being_unpickled(tmp_path, name):
    marker = tmp_path / "payload-ran"
    (tmp_path / name).write_bytes(pickle.dumps(Payload(str(marker))))
    with pytest.raises(CheckpointError, match="pickle, which can run code"):
        load_checkpoint(tmp_path / name)
    assert not marker.exists()


def test_a_pickle_disguised_as_safetensors_is_refused(tmp_path):
    saved_generator(tmp_path)
    marker = tmp_path / "payload-ran"
    (tmp_path / "gen.safetensors").write_bytes(pickle.dumps(Payload(str(marker))))
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_checkpoint(tmp_path / "gen.safetensors")
    assert not marker.exists()


def test_truncated_weights_are_refused(tmp_path):
    saved_generator(tmp_path)
    weights = tmp_path / "gen.safetensors"
    weights.write_bytes(weights.read_bytes()[: os.path.getsize(weights) // 2])
    with pytest.raises(CheckpointError, match="not a safetensors file|does not match its card|corrupt"):
        load_checkpoint(weights)


def test_weights_swapped_under_a_card_are_refused(tmp_path):
    saved_generator(tmp_path)
    save_file({"generator.x": torch.zeros(3)}, tmp_path / "gen.safetensors")
    with pytest.raises(CheckpointError, match="does not match its card"):
        load_checkpoint(tmp_path / "gen.safetensors")


def test_weights_of_another_architecture_are_refused(tmp_path):
    saved_generator(tmp_path)
    card = json.loads((tmp_path / "gen.json").read_text())
    card["model"]["g_width"] = 16  # the card now describes a wider network than the weights
    (tmp_path / "gen.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="do not fit the architecture"):
        load_generator(tmp_path / "gen.json")


@pytest.mark.parametrize("card", ['{"not": "ours"}', "{broken json", '{"format": "gan-studio-checkpoint"}'])
def test_foreign_or_broken_cards_are_refused(tmp_path, card):
    saved_generator(tmp_path)
    (tmp_path / "gen.json").write_text(card)
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "gen.safetensors")


def test_missing_card_is_named(tmp_path):
    saved_generator(tmp_path)
    (tmp_path / "gen.json").unlink()
    with pytest.raises(CheckpointError, match="gen.json is missing"):
        load_checkpoint(tmp_path / "gen.safetensors")


def uploaded_pair(tmp_path):
    saved_generator(tmp_path)
    return [("gen.safetensors", (tmp_path / "gen.safetensors").read_bytes()),
            ("gen.json", (tmp_path / "gen.json").read_bytes())]


def test_an_uploaded_pair_is_staged_and_loads(tmp_path):
    weights = stage_upload(uploaded_pair(tmp_path), tmp_path / "staged")
    generator, checkpoint = load_generator(weights)
    assert checkpoint.model_cfg.latent_dim == 16 and checkpoint.tensors == {}


def test_an_uploaded_pickle_is_refused_and_never_written(tmp_path):
    marker = tmp_path / "payload-ran"
    files = [("model.pt", pickle.dumps(Payload(str(marker)))), ("gen.json", b"{}")]
    with pytest.raises(CheckpointError, match="model.pt is a PyTorch pickle"):
        stage_upload(files, tmp_path / "staged")
    assert not marker.exists() and not (tmp_path / "staged").exists()


@pytest.mark.parametrize("keep", [[0], [1], [0, 0]])
def test_an_upload_needs_exactly_the_weights_and_their_card(tmp_path, keep):
    pair = uploaded_pair(tmp_path)
    with pytest.raises(CheckpointError, match="together with their .json card"):
        stage_upload([pair[i] for i in keep], tmp_path / "staged")


def test_a_checkpoint_is_found_by_its_name_without_the_suffix():
    from ganlib.checkpoint import resolve_checkpoint_path

    shipped = Path(__file__).resolve().parent.parent / "checkpoints" / "mnist-dcgan"
    assert resolve_checkpoint_path(shipped) == shipped.with_suffix(".safetensors")
