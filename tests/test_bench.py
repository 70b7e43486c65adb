import json

import pytest
import torch

from ganlib.bench import forward_flops, step_flops_per_image
from ganlib.cli import main
from ganlib.config import ModelConfig
from ganlib.models import build_models


def test_flops_are_counted_from_layer_shapes():
    cfg = ModelConfig(family="mlp", g_width=256, d_width=256)
    generator, _ = build_models(cfg)
    multiply_adds = 100 * 256 + 256 * 512 + 512 * 1024 + 1024 * 784  # the notebook's G, one image
    assert forward_flops(generator, torch.zeros(3, 100)) == 2 * 3 * multiply_adds


def test_the_64px_dcgan_step_costs_what_the_dcgan_example_is_known_to_cost():
    reference, trainer = step_flops_per_image(ModelConfig(image_size=64, channels=3, g_width=64, d_width=64))
    assert 2.4e9 < reference < 2.6e9  # ~2.5 GFLOP per image per step, as measured for the PyTorch example
    assert trainer == pytest.approx(reference * 11 / 12, rel=0.01)  # no D weight gradients in the G step


def test_bench_times_both_loops_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--cases", "mlp28", "--steps", "2", "--warmup", "1", "--json", str(out), "--device", "cpu"]) == 0
    results = json.loads(out.read_text())
    case = results["cases"][0]
    assert case["case"] == "mlp28" and results["peak_gflops"]["fp32"] > 0
    assert case["reference_img_s"] > 0 and case["trainer_img_s"] > 0
    assert case["speedup"] == pytest.approx(case["trainer_img_s"] / case["reference_img_s"], abs=0.01)
    assert 0 < case["trainer_utilization"] < 2
    assert "mlp28" in capsys.readouterr().out


def test_bench_refuses_zero_steps(tmp_path):
    assert main(["bench", "--steps", "0", "--json", str(tmp_path / "b.json")]) == 2


def test_levers_time_the_trainer_with_each_setting(tmp_path):
    out = tmp_path / "bench.json"
    args = ["bench", "--cases", "dcgan28", "--steps", "2", "--warmup", "1", "--batch-size", "32", "--levers"]
    assert main([*args, "--json", str(out), "--device", "cpu"]) == 0
    results = json.loads(out.read_text())
    levers = results["cases"][0]["levers"]
    assert results["batch_size"] == 32
    assert [row["settings"] for row in levers] == ["fp32", "fp32 + channels_last"]  # CUDA adds bf16 and the graph
    assert all(row["img_s"] > 0 and 0 < row["utilization"] < 2 for row in levers)
