"""Checkpoints: safetensors weights beside a JSON card holding the whole config, written atomically.

Nothing here ever unpickles: .pt/.pth/.pkl files (pickles, which can run code) are refused by name and
by content before anything reads them.
"""
import hashlib
import io
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, fields, replace
from pathlib import Path, PurePosixPath

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from . import __version__
from .archives import open_zip, safe_zip_files
from .config import config_classes, config_from_dict, config_to_dict
from .errors import CheckpointError, ConfigError, MismatchedCard
from .eye_codes import CARD_FIELD as EYE_CODES, check_eye_codes
from .host import run_memory_budget
from .memory import estimate_generator, meta_models
from .models import build_generator
from .quality import QualityScore

CARD_FORMAT = "gan-studio-checkpoint"
CHECKPOINT_NAME = "checkpoint"
EXPORTED_NAME = "generator"  # a Hub folder's generator: generator.safetensors + generator.json
PREVIOUS = ".prev"  # NAME.prev.safetensors + .json: the pair before the last save
PICKLE_SUFFIXES = {".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin", ".tar"}
MAX_CARD_BYTES = 2**20
MAX_CARD_NESTING = 16
JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


@dataclass
class Checkpoint:
    model_cfg: object  # ModelConfig, or PointModelConfig for mlp2d
    train_cfg: object  # TrainConfig, or PointTrainConfig
    card: dict
    tensors: dict  # "generator.*", "generator_train.*", "discriminator.*", "opt_g.*", "opt_d.*", "rng.*"

    def state(self, prefix):
        """The tensors under one prefix as a state dict (e.g. 'generator')."""
        cut = len(prefix) + 1
        return {k[cut:]: v for k, v in self.tensors.items() if k.startswith(prefix + ".")}

    @property
    def has_training_state(self):
        return any(k.startswith("opt_d.") for k in self.tensors)


def atomic_write(path, write):
    """Call write(tmp_path) then rename over `path`, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def optimizer_tensors(prefix, optimizer):
    """Flatten an optimizer's per-parameter state into named tensors; its hyperparameters go to the card."""
    tensors = {}
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            tensors[f"{prefix}.{index}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    return tensors


def optimizer_state_dict(checkpoint, prefix):
    state = {}
    for name, value in checkpoint.state(prefix).items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": checkpoint.card["optimizers"][prefix]}


def save_checkpoint(path, *, model_cfg, train_cfg, modules, optimizers=None, rng=None, progress=None, metrics=None):
    """Write PATH.safetensors and PATH.json.

    `modules` maps a prefix to a network: "generator" (what sampling uses) always; "generator_train" (raw
    weights when "generator" is their moving average) and "discriminator" for a checkpoint that resumes.
    With only "generator" it is a small export for sampling.
    """
    path = Path(path).with_suffix("")
    tensors = {f"{prefix}.{k}": v.detach().cpu().contiguous()
               for prefix, module in modules.items() for k, v in module.state_dict().items()}
    card = {
        "format": CARD_FORMAT,
        "ganlib_version": __version__,
        "model": config_to_dict(model_cfg),
        "train": config_to_dict(train_cfg),
        **(progress or {}),  # epoch, step, batch_in_epoch, elapsed_seconds, device
        "metrics": metrics or {},
    }
    if optimizers:
        card["optimizers"] = {}
        for prefix, optimizer in optimizers.items():
            tensors.update(optimizer_tensors(prefix, optimizer))
            card["optimizers"][prefix] = optimizer.state_dict()["param_groups"]
    for name, state in (rng or {}).items():
        tensors[f"rng.{name}"] = state.cpu()
    weights_path, card_path = path.with_suffix(".safetensors"), path.with_suffix(".json")
    keep_previous(weights_path, card_path)
    atomic_write(weights_path, lambda tmp: save_file(tensors, tmp))
    card["weights_sha256"] = file_sha256(weights_path)
    atomic_write(card_path, lambda tmp: Path(tmp).write_text(json.dumps(card, indent=2, default=float)))
    return weights_path


def keep_previous(weights_path, card_path):
    """Link the pair about to be replaced to NAME.prev.*: the weights and the card are renamed one after the
    other, and a kill between the two leaves a pair that does not match, so loading falls back to this one."""
    if not (weights_path.is_file() and card_path.is_file()):
        return
    for current in (weights_path, card_path):
        atomic_write(previous_of(current), lambda tmp, current=current: link_or_copy(current, tmp))


def previous_of(path):
    """NAME.prev.safetensors (or .json) beside NAME.safetensors: where the pair before the last save is kept."""
    return path.with_name(f"{path.stem}{PREVIOUS}{path.suffix}")


def link_or_copy(source, target):
    """A hard link costs nothing whatever the file's size; a file system without links gets a copy."""
    os.unlink(target)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def refuse_pickle(name):
    """Refuse a file by its name when it is a PyTorch pickle, before anything opens it."""
    if Path(name).suffix.lower() in PICKLE_SUFFIXES:
        raise CheckpointError(f"{Path(name).name} is a PyTorch pickle, which can run code when loaded; GAN Studio "
                              "only loads .safetensors weights with their .json card")


def resolve_checkpoint_path(path):
    """A run folder, a .safetensors file or its .json card → the .safetensors path; pickles refused."""
    path = Path(path).expanduser()
    refuse_pickle(path.name)
    if not path.exists() and path.with_name(f"{path.name}.safetensors").is_file():  # checkpoints/mnist-dcgan
        path = path.with_name(f"{path.name}.safetensors")
    if not path.exists() and not path.with_suffix(".safetensors").exists():
        raise CheckpointError(f"there is no checkpoint at {path}")
    if path.is_dir():  # a run folder's checkpoint, else a Hub folder's generator
        path = path / f"{CHECKPOINT_NAME}.safetensors"
        if not path.exists() and path.with_name(f"{EXPORTED_NAME}.safetensors").exists():
            path = path.with_name(f"{EXPORTED_NAME}.safetensors")
    if path.suffix.lower() not in (".safetensors", ".json"):
        raise CheckpointError(f"{path.name} is not a GAN Studio checkpoint (a .safetensors file with its .json card)")
    weights = path.with_suffix(".safetensors")
    for needed in (weights, weights.with_suffix(".json")):
        if not needed.is_file():
            raise CheckpointError(f"checkpoint file {needed} is missing")
    return weights


def looks_like_safetensors(path):
    """Header check before parsing: 8-byte little-endian length, then a JSON object that fits in the file."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(9)
    if len(head) < 9:
        return False
    header_len = int.from_bytes(head[:8], "little")
    return head[8:9] == b"{" and 8 + header_len <= size


def read_card(weights_path):
    """The card as a dict, bounded in size and nesting before it is parsed: a card is a few kilobytes a few levels
    deep, and a deeply nested one would exhaust the parser's recursion."""
    card_path = weights_path.with_suffix(".json")
    try:
        if card_path.stat().st_size > MAX_CARD_BYTES:
            raise CheckpointError(f"the card {card_path.name} is larger than {MAX_CARD_BYTES // 1024} KB; a GAN "
                                  "Studio card is a few KB")
        text = card_path.read_text()
        if nesting_depth(text) > MAX_CARD_NESTING:
            raise CheckpointError(f"the card {card_path.name} is nested deeper than {MAX_CARD_NESTING} levels; a GAN "
                                  "Studio card is not")
        card = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"the card {card_path.name} is not valid JSON") from error
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise CheckpointError(f"{card_path.name} is not a GAN Studio checkpoint card")
    return card


def nesting_depth(text):
    """How deep JSON text nests its arrays and objects, counted without parsing it (brackets inside strings aside)."""
    brackets = re.sub(r"[^\[\]{}]", "", JSON_STRING.sub("", text))
    depth = deepest = 0
    for bracket in brackets:
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


# What a card may hold besides its configs, each field's type: an uploaded card is checked field by field, so no
# page or command meets a value it cannot format or use.
CARD_NUMBERS = {"step", "epoch", "batch_in_epoch", "elapsed_seconds", "world_size", "images_per_second"}
CARD_TEXTS = {"format", "ganlib_version", "device", "hardware", "precision", "weights_sha256", "command"}
CARD_TABLES = {"metrics", "quality", "optimizers", "model", "train"}
MAX_CARD_TEXT = 500
QUALITY_FIELDS = {"epoch", *(field.name for field in fields(QualityScore))}


def check_card(card, name):
    """Raise a CheckpointError naming the first field of `card` whose type or value no reader expects."""
    def refuse(field, why):
        raise CheckpointError(f"the card of {name} has a bad '{field}' ({why})")

    for field, value in card.items():
        if field in CARD_NUMBERS and not is_plain_number(value):
            refuse(field, "not a finite, non-negative number")
        if field in CARD_TEXTS and not (isinstance(value, str) and len(value) <= MAX_CARD_TEXT):
            refuse(field, f"not a text of at most {MAX_CARD_TEXT} characters")
        if field in CARD_TABLES and not isinstance(value, dict):
            refuse(field, "not a table of named values")
    for field, value in card.get("metrics", {}).items():
        if not is_finite_number(value):
            refuse(f"metrics.{field}", "not a finite number")
    for field, value in card.get("quality", {}).items():
        numbers = value if isinstance(value, list) else [value]
        if field not in QUALITY_FIELDS or not numbers or len(numbers) > 10 or not all(map(is_finite_number, numbers)):
            refuse(f"quality.{field}", "not one of the quality meter's figures")
    if card.get("quality"):
        try:  # read it the way the pages and the CLI do
            config_from_dict(QualityScore, card["quality"]).summary()
        except (TypeError, ValueError) as error:
            refuse("quality", f"incomplete: {error}")
    for field in ("step", "epoch", "batch_in_epoch", "world_size"):
        if field in card and card[field] != int(card[field]):
            refuse(field, "not a whole number")
    if EYE_CODES in card:
        try:
            check_eye_codes(card[EYE_CODES])
        except ValueError as error:
            refuse(EYE_CODES, str(error))


def is_finite_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_plain_number(value):
    return is_finite_number(value) and 0 <= value < 1e15


def load_checkpoint(path):
    """Read and verify a checkpoint: card format and fields, weights hash, safetensors content, configs. A run
    folder whose newest pair was cut off mid-write (a kill between its two renames) yields the previous pair."""
    weights_path = resolve_checkpoint_path(path)
    try:
        return read_checkpoint(weights_path)
    except MismatchedCard:
        previous = previous_of(weights_path)
        if previous.is_file() and previous.with_suffix(".json").is_file():
            return read_checkpoint(previous)
        raise


def read_checkpoint(weights_path):
    card = read_card(weights_path)
    check_card(card, weights_path.name)
    if not looks_like_safetensors(weights_path):
        raise CheckpointError(f"{weights_path.name} is not a safetensors file (corrupt, truncated or a pickle)")
    if card.get("weights_sha256") not in (None, file_sha256(weights_path)):
        raise MismatchedCard(f"{weights_path.name} does not match its card (the weights were changed or replaced)")
    try:
        tensors = load_file(weights_path)
        model_class, train_class = config_classes(card["model"].get("family"))
        model_cfg = config_from_dict(model_class, card["model"]).validate()
        train_cfg = config_from_dict(train_class, card.get("train", {})).validate()
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{weights_path.name} is corrupt or truncated and cannot be read") from error
    except (KeyError, TypeError, AttributeError, ConfigError) as error:
        raise CheckpointError(f"the card of {weights_path.name} does not describe a valid model ({error})") from error
    return Checkpoint(model_cfg, train_cfg, card, tensors)


def load_generator(path, device="cpu", memory_budget=None):
    """(generator in eval mode on `device`, checkpoint) — what sampling and the latent explorer need.

    Before the generator is built, its memory (from the card) is checked against `memory_budget` (default: the
    host's budget for one run) and the weights' shapes against the card's, so a tiny file whose card asks for a
    giant model is refused without allocating it. The returned checkpoint keeps its card and configs but drops
    the tensors (optimizer state, D), which a cached generator would otherwise hold in memory for nothing.
    """
    checkpoint = load_checkpoint(path)
    budget = run_memory_budget(runs_at_once=1) if memory_budget is None else memory_budget
    estimate_generator(checkpoint.model_cfg).check(budget)
    weights = checkpoint.state("generator")
    expected = {name: tuple(t.shape) for name, t in meta_models(checkpoint.model_cfg)[0].state_dict().items()}
    if {name: tuple(t.shape) for name, t in weights.items()} != expected:
        raise CheckpointError("the generator weights do not fit the architecture the card describes")
    check_weight_values(weights)
    generator = build_generator(checkpoint.model_cfg)
    load_state(generator, weights, "generator")
    check_draws(generator, checkpoint.model_cfg)
    return generator.to(device).eval(), replace(checkpoint, tensors={})


def check_weight_values(weights):
    """Every weight a finite float (BatchNorm's batch counter aside, a whole number): NaN or infinite weights, or
    integers where floats belong, draw nothing and break every view that computes with what they draw."""
    for name, tensor in weights.items():
        if name.endswith("num_batches_tracked"):
            continue
        if not tensor.is_floating_point():
            raise CheckpointError(f"the generator weight {name} holds {tensor.dtype} values, not floating-point "
                                  "numbers")
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"the generator weight {name} holds NaN or infinite values: the run that wrote it "
                                  "diverged, or the file was altered")


@torch.no_grad()
def check_draws(generator, model_cfg, n=4):
    """Finite weights can still overflow: a generator whose drawings are not finite numbers is refused."""
    drawn = generator.eval()(torch.randn(n, model_cfg.latent_dim, generator=torch.Generator().manual_seed(0)))
    if not torch.isfinite(drawn).all():
        raise CheckpointError("this generator draws NaN or infinite values (its weights overflow), so there is "
                              "nothing to show")


def stage_upload(files, folder):
    """Write an uploaded checkpoint — [(file name, bytes)]: one .safetensors and its .json card, or one .zip of a
    folder holding them (a Hub folder) — into `folder` and return the weights' path; anything else is refused in one
    sentence, before it is read."""
    for name, _ in files:
        refuse_pickle(name)
    by_suffix = {Path(name).suffix.lower(): data for name, data in files}
    if len(files) == 1 and ".zip" in by_suffix:
        by_suffix = checkpoint_in_zip(files[0][0], by_suffix[".zip"])
    elif len(files) != 2 or set(by_suffix) != {".safetensors", ".json"}:
        names = ", ".join(name for name, _ in files) or "nothing"
        raise CheckpointError(f"upload the .safetensors weights together with their .json card, or a .zip of a "
                              f"folder holding them (got {names})")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for suffix, data in by_suffix.items():
        (folder / f"upload{suffix}").write_bytes(data)
    return folder / "upload.safetensors"


def checkpoint_in_zip(name, data):
    """{'.safetensors': bytes, '.json': bytes} of the one weights-and-card pair in a .zip (a Hub folder's other files
    are left unread), after the archive's own checks; pickles inside are refused."""
    with open_zip(io.BytesIO(data), name) as archive:
        pairs = {}
        for info in safe_zip_files(archive):
            entry = PurePosixPath(info.filename)
            refuse_pickle(entry.name)
            if entry.suffix.lower() in (".safetensors", ".json") and not entry.name.startswith("."):
                pairs.setdefault(entry.with_suffix(""), {})[entry.suffix.lower()] = info
        pairs = [found for found in pairs.values() if len(found) == 2]
        if len(pairs) != 1:
            raise CheckpointError(f"{name} should hold one generator, a .safetensors file with its .json card beside "
                                  f"it (found {len(pairs)})")
        return {suffix: archive.read(info) for suffix, info in pairs[0].items()}


def load_state(module, state, what):
    """load_state_dict with a one-sentence error when the weights belong to another architecture."""
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"the {what} weights do not fit the architecture the card describes") from error


def export_generator(checkpoint_path, out_path, **card_extra):
    """Write a small generator-only checkpoint (what sampling needs) from a full one; returns its path."""
    generator, checkpoint = load_generator(checkpoint_path)
    card = {k: v for k, v in checkpoint.card.items()
            if k not in ("format", "ganlib_version", "model", "train", "metrics", "optimizers", "weights_sha256")}
    return save_checkpoint(out_path, model_cfg=checkpoint.model_cfg, train_cfg=checkpoint.train_cfg,
                           modules={"generator": generator}, progress={**card, **card_extra},
                           metrics=checkpoint.card.get("metrics"))
