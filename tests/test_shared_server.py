"""One server, a whole class: no setting, card or upload can sink the process, read another session's files or
overwrite what others use. Engine and command-line side; the pages' side is in tests/test_shared_pages.py."""
import json
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import pytest
import torch
from safetensors.torch import save_file

import ganlib.datasets
from conftest import tiny_dcgan
from ganlib.checkpoint import file_sha256, load_checkpoint, load_generator, save_checkpoint
from ganlib.cli import main
from ganlib.config import ModelConfig, TrainConfig, preset
from ganlib.datasets import TensorImages, load_dataset
from ganlib.errors import CheckpointError, ConfigError, DatasetError
from ganlib.host import confined_path
from ganlib.models import build_generator
from ganlib.points import points_from_csv
from ganlib.runs import HostLimits, RunManager

GIANT = dict(image_size=128, channels=3, g_width=1024, d_width=1024)  # ~21 GB of weights, ~100 GB to train
TINY_CLI = ["--ngf", "8", "--ndf", "8", "--latent-dim", "16", "--device", "cpu"]


def peak_memory_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_generator(path, model_cfg, tensors=None):
    """A generator export: given weights (default: the model's own), a card describing `model_cfg`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if tensors is None:
        tensors = {f"generator.{k}": v for k, v in build_generator(model_cfg).state_dict().items()}
    save_file(tensors, path.with_suffix(".safetensors"))
    card = {"format": "gan-studio-checkpoint", "model": model_cfg.__dict__, "train": TrainConfig().__dict__,
            "step": 1, "weights_sha256": file_sha256(path.with_suffix(".safetensors"))}
    path.with_suffix(".json").write_text(json.dumps(card))
    return path.with_suffix(".safetensors")


# --- memory --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides,advice", [
    (GIANT, "lower the G and D widths"),
    (dict(image_size=64, channels=3, batch_size=65_536), "lower the batch size"),
])
def test_a_memory_bomb_setting_is_refused_in_under_a_second_without_allocating(tmp_path, overrides, advice):
    model_cfg, train_cfg = preset("dcgan", **overrides)
    manager = RunManager(max_concurrent=1, runs_root=tmp_path)
    # the defaults fit; checking them first also pays torch's one-time import of its meta kernels (~0.5 s), as a
    # server has by the time a student types a bomb
    assert manager.check(*preset("dcgan")).dataset == "mnist-sample"
    before, start = peak_memory_mb(), time.perf_counter()
    with pytest.raises(ConfigError, match=rf"this run would need about [\d,.]+ GB of memory .*: {advice}"):
        manager.check(model_cfg, train_cfg)
    assert time.perf_counter() - start < 1.0 and peak_memory_mb() - before < 50


def test_the_budget_is_the_hosts_share_for_one_run(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_MEMORY_MB", "64")
    model_cfg, train_cfg = preset("dcgan", image_size=64, channels=3)  # ~590 MB to train
    with pytest.raises(ConfigError, match="more than the 64 MB a run may use here"):
        RunManager(max_concurrent=1, runs_root=tmp_path).check(model_cfg, train_cfg)


def test_the_command_line_refuses_a_memory_bomb_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ganlib", "train", "--image-size", "128", "--channels", "3",
                             "--ngf", "1024", "--ndf", "1024", "--out", str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: this run would need about ") and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_a_tiny_file_whose_card_asks_for_a_giant_generator_is_refused_before_building(tmp_path):
    weights = write_generator(tmp_path / "bomb", ModelConfig(**GIANT), {"generator.x": torch.ones(1)})
    assert weights.stat().st_size < 100
    before, start = peak_memory_mb(), time.perf_counter()
    with pytest.raises(ConfigError, match="this generator would need about .* too large to load on this server"):
        load_generator(weights, memory_budget=2**30)
    assert time.perf_counter() - start < 1.0 and peak_memory_mb() - before < 50


def test_weights_that_do_not_fit_the_card_are_refused_before_the_generator_is_built(tmp_path):
    weights = write_generator(tmp_path / "odd", ModelConfig(g_width=512, d_width=8), {"generator.x": torch.ones(1)})
    with pytest.raises(CheckpointError, match="do not fit the architecture the card describes"):
        load_generator(weights)


def test_a_zip_that_would_decode_past_the_budget_is_refused_before_decoding(tmp_path, monkeypatch, digits):
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for index in range(100):
            zipped.writestr(f"{index}.png", b"not decoded")
    monkeypatch.setenv("GAN_STUDIO_MEMORY_MB", "1")
    decoded = []
    monkeypatch.setattr(ganlib.datasets, "decode_image", lambda *args: decoded.append(args))
    with pytest.raises(DatasetError, match=r"100 images at 128×128×3 would take 5 MB of memory, more than the 1 MB"):
        load_dataset("folder", 128, 3, str(archive))
    assert decoded == []


def test_a_huge_points_file_is_refused_before_it_is_parsed():
    start = time.perf_counter()
    with pytest.raises(DatasetError, match="the points file is 9 MB; at most 8 MB"):
        points_from_csv(b"1,2\n" * (9 * 2**18))
    with pytest.raises(DatasetError, match="more than 100,000 rows"):
        points_from_csv(b"1,2\n" * 100_001)
    assert time.perf_counter() - start < 2.0


# --- paths and names -----------------------------------------------------------------------------------

def test_paths_are_confined_to_the_data_root_symlinks_included(tmp_path):
    root = tmp_path / "data"
    (root / "faces").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    (root / "escape").symlink_to(tmp_path / "secret")
    assert confined_path("faces", root.resolve()) == (root / "faces").resolve()
    for outside in ("../secret", str(tmp_path / "secret"), "escape", "/etc"):
        with pytest.raises(ConfigError, match="outside the data folder this server allows"):
            confined_path(outside, root.resolve())


def test_run_folders_have_unguessable_names(tmp_path, small_digits):
    manager = RunManager(max_concurrent=2, runs_root=tmp_path)
    model_cfg, train_cfg = tiny_dcgan(max_steps=1)
    ids = [manager.start(session, model_cfg, train_cfg, data=small_digits) for session in ("alice", "bob")]
    for run_id in ids:
        assert manager.wait(run_id, timeout=60)
        assert len(run_id) == len("run-") + 24 and int(run_id[4:], 16) >= 0
    assert ids[0] != ids[1] and sorted(p.name for p in tmp_path.iterdir()) == sorted(ids)


# --- the host's time cap ----------------------------------------------------------------------------------

def test_the_time_cap_holds_wall_time_grids_and_scores_included(tmp_path, digits):
    """Two images at batch 1: each epoch is two steps, then a grid and a 1,000-sample score. The training clock
    alone let such a run hold its slot ~40× the cap; the cap now counts everything."""
    two_images = TensorImages(digits.images[:2].clone())
    manager = RunManager(max_concurrent=1, runs_root=tmp_path, limits=HostLimits(max_seconds=3))
    model_cfg, train_cfg = tiny_dcgan(batch_size=1, epochs=10_000)
    start = time.monotonic()
    run = manager.get(manager.start("alice", model_cfg, train_cfg, data=two_images))
    assert manager.wait(run.run_id, timeout=60)
    assert run.finished_reason == "time_cap" and time.monotonic() - start < 3 + 2.5
    assert run.progress.elapsed < 3 and len(run.grids) > 2  # training time was well under the cap


# --- crash safety ------------------------------------------------------------------------------------------

SAVER = textwrap.dedent("""
    import sys, torch
    from ganlib.checkpoint import save_checkpoint
    from ganlib.config import ModelConfig, TrainConfig
    from ganlib.models import build_models
    model_cfg = ModelConfig(g_width=16, d_width=16)
    generator, discriminator = build_models(model_cfg)
    step = 0
    while True:
        step += 1
        with torch.no_grad():
            for weight in generator.parameters():
                weight.fill_(step)
        save_checkpoint(sys.argv[1], model_cfg=model_cfg, train_cfg=TrainConfig(), progress={"step": step},
                        modules={"generator": generator, "discriminator": discriminator})
        print(step, flush=True)
""")


def test_a_kill_during_checkpoint_writes_always_leaves_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "checkpoint"
    for attempt in range(4):
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True)
        saver.stdout.readline()  # one save done
        time.sleep(0.05 + 0.037 * attempt)  # kills land at different points of the save cycle
        saver.send_signal(signal.SIGKILL)
        saver.wait()
        checkpoint = load_checkpoint(path.with_suffix(".safetensors"))
        step = checkpoint.card["step"]
        assert step >= 1 and checkpoint.state("generator")["net.0.weight"].flatten()[0] == step


def test_a_save_cut_between_its_two_renames_falls_back_to_the_previous_pair(tmp_path, monkeypatch):
    model_cfg = ModelConfig(g_width=8, d_width=8)
    generator = build_generator(model_cfg)
    save = lambda step: save_checkpoint(tmp_path / "checkpoint", model_cfg=model_cfg, train_cfg=TrainConfig(),
                                        modules={"generator": generator}, progress={"step": step})
    save(1)
    real_replace = os.replace

    def killed_before_the_card(source, target):
        if str(target).endswith("checkpoint.json"):
            raise KeyboardInterrupt  # the process dies here: new weights, old card
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", killed_before_the_card)
    with torch.no_grad():
        generator.net[0].weight.add_(1.0)  # a step later: other weights
    with pytest.raises(KeyboardInterrupt):
        save(2)
    monkeypatch.setattr(os, "replace", real_replace)
    assert load_checkpoint(tmp_path / "checkpoint.safetensors").card["step"] == 1


# --- the command line's run folders ----------------------------------------------------------------------

def test_out_refuses_a_folder_holding_another_run_and_resume_refuses_other_settings(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["train", "--max-steps", "2", "--out", out, *TINY_CLI]) == 0
    capsys.readouterr()
    assert main(["train", "--max-steps", "2", "--out", out, *TINY_CLI]) == 2
    assert f"--out {out} already holds files (another run?): continue it with --resume" in capsys.readouterr().err
    assert main(["train", "--resume", out, "--lr", "0.5"]) == 2
    assert "--resume continues the run with its own settings: --lr 0.5 contradicts its 0.002" in \
        capsys.readouterr().err  # the flag the user typed, not the setting it fills in
    assert main(["train", "--resume", out, "--ngf", "16"]) == 2
    assert "--ngf 16 contradicts its 8; drop --ngf" in capsys.readouterr().err
    assert main(["train", "--resume", out, "--model", "mlp", "--max-steps", "3"]) == 2
    assert main(["train", "--resume", out, "--max-steps", "3", "--ngf", "8"]) == 0  # the same settings may be named
    assert load_checkpoint(tmp_path / "run").card["step"] == 3
