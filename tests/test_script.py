"""`python -m ganlib code`: the exported script trains the same setup on its own, where ganlib cannot be imported."""
import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganlib.cli import main
from ganlib.config import preset
from ganlib.datasets import SAMPLE_PATH, conditional_settings
from ganlib.models import build_generator
from ganlib.quality import QualityMeter
from ganlib.errors import ConfigError
from ganlib.script import literal, standalone_script

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"


def run_standalone(script, tmp_path, *args):
    """Run a script in a fresh process whose `import ganlib` fails loudly, from a folder of its own."""
    (tmp_path / "ganlib").mkdir(exist_ok=True)
    (tmp_path / "ganlib" / "__init__.py").write_text("raise ImportError('the exported script must not need ganlib')")
    return subprocess.run([sys.executable, str(script), *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)


def test_the_exported_recommended_preset_learns_digits_on_its_own(tmp_path, capsys, digits):
    """About 15 s: 400 steps of the exported script; its generator loads into ganlib's own network unchanged."""
    script = tmp_path / "train_gan.py"
    assert main(["code", str(CHECKPOINTS / "mnist-dcgan.safetensors"), "--out", str(script)]) == 0
    assert "python" in capsys.readouterr().out
    text = script.read_text()
    assert "import ganlib" not in text and "from ganlib" not in text and "{{" not in text and "#if" not in text
    assert "CODES = 10" in text and "LR_G, LR_D = 0.002, 0.001" in text and "EMA_DECAY = 0.999" in text
    result = run_standalone(script, tmp_path, "--data", str(SAMPLE_PATH), "--max-steps", "400", "--out", "out",
                            "--grid-every", "200")
    assert result.returncode == 0, result.stderr[-2000:]
    losses = [float(value) for value in re.findall(r"loss_G (\d+\.\d+)", result.stdout)]
    assert len(losses) == 5 and len(set(losses)) == 5  # steps 0, 100, 200, 300, 399
    assert (tmp_path / "out" / "grid_000200.png").is_file() and (tmp_path / "out" / "grid_000400.png").is_file()
    assert Image.open(tmp_path / "out" / "grid_000400.png").size == (242, 242)  # 8 × 8 digits of 28 px
    model_cfg = preset("dcgan")[0]
    trained, untrained = build_generator(model_cfg), build_generator(model_cfg)
    trained.load_state_dict(torch.load(tmp_path / "out" / "generator.pt"))  # strict: the very same network
    meter = QualityMeter.for_data("mnist-sample", digits)
    after, before = (meter.score_generator(g.eval(), model_cfg) for g in (trained, untrained))
    assert after.frechet < before.frechet / 5 and after.classes_covered >= 8


def test_every_setup_writes_a_script_that_compiles_with_only_its_own_parts():
    kinds = [{}, {"loss": "wgan-gp", "d_batchnorm": False, "latent_codes": 0}, {"loss": "hinge", "r1_gamma": 1.0},
             {"r1_gamma": 1.0, "r1_every": 16}, {"augment": "translation,cutout", "lr_decay": True, "ema_decay": 0.0, "d_dropout": 0.3},
             {**conditional_settings("mnist-sample"), "loss": "lsgan"}, {"loss": "minimax", "d_steps": 3}]
    for family in ("dcgan", "mlp", "fastgan"):
        for kind in kinds:
            model_cfg, train_cfg = preset(family, **{**kind, **({"latent_codes": 0} if family != "dcgan" else {})})
            text = standalone_script(model_cfg, train_cfg, "a test")
            compile(text, "train_gan.py", "exec")
            assert ("def r1_penalty" in text) == bool(train_cfg.r1_gamma)
            assert ("if step % R1_EVERY == 0" in text) == (train_cfg.r1_gamma and train_cfg.r1_every > 1)
            assert ("def gradient_penalty" in text) == (train_cfg.loss == "wgan-gp")
            assert ("def cutout" in text) == ("cutout" in train_cfg.augment)
            assert ("class ClassProjection" in text) == bool(model_cfg.classes)
            assert ("G_average = copy.deepcopy(G)" in text) == bool(train_cfg.ema_decay)
            assert "\n\n\n\n" not in text


def test_the_exported_few_shot_gan_trains_on_its_own_and_loads_into_ganlib(tmp_path):
    """About 15 s: 30 steps of the exported FastGAN preset, class-conditional, on the shipped emoji and their nine
    categories, its D rebuilding real images as it goes; the saved generator is ganlib's own network, weight for
    weight."""
    from ganlib.datasets import EMOJI_PATH

    model_cfg, train_cfg = preset("fastgan", dataset="emoji", **conditional_settings("emoji"), g_width=8, d_width=8,
                                  max_steps=30)
    script = tmp_path / "train_gan.py"
    script.write_text(standalone_script(model_cfg, train_cfg, "a test"))
    text = script.read_text()
    assert "class SkipExcitation" in text and "reconstruct=True" in text and "def color" in text and "CLASSES = 9" in text
    result = run_standalone(script, tmp_path, "--data", str(EMOJI_PATH), "--max-steps", "30", "--out", "out",
                            "--grid-every", "15")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "1,906 images of (3, 32, 32)" in result.stdout
    assert Image.open(tmp_path / "out" / "grid_000030.png").size == (8 * 34 + 2, 8 * 34 + 2)
    losses = [float(value) for value in re.findall(r"loss_D (-?\d+\.\d+)", result.stdout)]
    assert len(losses) == 2 and losses[0] != losses[1]  # steps 0 and 29
    generator = build_generator(model_cfg)
    generator.load_state_dict(torch.load(tmp_path / "out" / "generator.pt"))  # strict: the very same network
    drawn = generator.eval()(torch.randn(4, model_cfg.latent_dim))
    assert drawn.shape == (4, 3, 32, 32) and drawn.std() > 0.05


@pytest.mark.parametrize("family,data,r1_every", [("mlp", "floats.npz", 1), ("dcgan", "pets", 3)])
def test_a_conditional_script_with_every_regularizer_trains_on_an_npz_or_class_folders(tmp_path, family, data, r1_every):
    model_cfg, train_cfg = preset(family, **conditional_settings("mnist-sample"), loss="wgan-gp", r1_gamma=1.0,
                                  r1_every=r1_every,
                                  augment="translation,cutout", lr_decay=True, ema_decay=0.0, d_batchnorm=False,
                                  d_dropout=0.2, d_steps=2, batch_size=16, image_size=32, channels=3)
    script = tmp_path / "train_gan.py"
    script.write_text(standalone_script(model_cfg, train_cfg, "a test"))
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "floats.npz", images=rng.uniform(-1, 1, (40, 1, 28, 28)).astype(np.float32),
             labels=np.arange(40) % 10)
    for name in ("cats", "dogs"):
        (tmp_path / "pets" / name).mkdir(parents=True)
        for index in range(20):
            Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(tmp_path / "pets" / name / f"{index}.png")
    result = run_standalone(script, tmp_path, "--data", data, "--max-steps", "6", "--out", "out")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "40 images of (3, 32, 32)" in result.stdout and (tmp_path / "out" / "grid_000006.png").is_file()
    if family != "dcgan":
        return
    np.savez(tmp_path / "unlabelled.npz", images=rng.integers(0, 255, (40, 28, 28), dtype=np.uint8))
    result = run_standalone(script, tmp_path, "--data", "unlabelled.npz", "--max-steps", "6")
    assert result.returncode != 0 and "needs labels" in result.stderr


HOSTILE_NAMES = ['x"""; __import__("os").system("touch pwned"); """x', "x'''; open('pwned', 'w'); '''x",
                 'a\\\\"; open("pwned", "w"); "', "line one\nopen('pwned', 'w')\n#", "tab\there \\ back\\slash",
                 "\u202eevil\x1b[2J", "{{seed}} {{SOURCE}}"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_file_name_never_becomes_code_in_the_exported_script(tmp_path, name):
    """A checkpoint renamed to a payload: the script holds the name as one string and runs nothing of it."""
    source = CHECKPOINTS / "mnist-dcgan"
    renamed = tmp_path / "weights" / f"{name}.safetensors"
    renamed.parent.mkdir()
    renamed.write_bytes(source.with_suffix(".safetensors").read_bytes())
    renamed.with_suffix(".json").write_text(source.with_suffix(".json").read_text())
    script = tmp_path / "train_gan.py"
    assert main(["code", str(renamed), "--out", str(script)]) == 0
    tree = ast.parse(script.read_text())
    constants = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
                 if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                 and node.targets[0].id in ("SOURCE", "TITLE", "SEED")}
    assert constants == {"SOURCE": renamed.name, "TITLE": "DCGAN on mnist-sample, 28×28×1", "SEED": 0}
    if name == HOSTILE_NAMES[0]:  # one run of the script (3 s of torch import each): the payload observed in class
        result = run_standalone(script, tmp_path, "--help")
        assert result.returncode == 0, result.stderr[-2000:]
        assert "Train a GAN: DCGAN on mnist-sample" in result.stdout and not (tmp_path / "pwned").exists()


def test_only_plain_values_can_be_written_into_a_script():
    assert literal("it's \"quoted\"\n") == repr("it's \"quoted\"\n") and literal(2e-3) == "0.002"
    for bad in (float("nan"), float("inf"), None, [1], {"a": 1}):
        with pytest.raises(ConfigError, match="cannot be written into a script"):
            literal(bad)
