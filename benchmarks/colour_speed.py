"""Images per second and peak memory of the colour models on the shipped emoji, at each size asked for.

    python -m benchmarks.colour_speed [--sizes 64 128 256] [--steps 40] [--device auto]

Each family's preset (the DCGAN with the emoji recipe, the few-shot GAN with its own) trains `--steps` steps after
10 of warm-up through the project's Trainer, at batch 64 and 32 as the presets do. On CUDA the peak is
torch.cuda.max_memory_allocated; beside it, the estimate the Train page checks before a run. Written for the GPU
figures in docs/performance.md; it runs on a CPU too (slowly: a few steps).
"""
import argparse

import torch

from ganlib.api import run_configs
from ganlib.bench import trainer_loop
from ganlib.datasets import load_dataset
from ganlib.device import describe_device, resolve_device
from ganlib.memory import estimate_run, gigabytes

WARMUP = 10


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    print(describe_device(device))
    for size in args.sizes:
        data = load_dataset("emoji", size, 3).to(device)
        for family in ("dcgan", "fastgan"):
            model_cfg, train_cfg = run_configs(family, "emoji", image_size=size, device=device.type)
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            speed, _ = trainer_loop(model_cfg, train_cfg, data, args.steps, WARMUP)
            peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
            estimate = estimate_run(model_cfg, train_cfg, len(data))
            print(f"{family} {size} px, batch {train_cfg.batch_size}: {speed:,.0f} img/s; peak "
                  f"{gigabytes(peak) if peak is not None else 'n/a'} (estimated {gigabytes(estimate.total)})")


if __name__ == "__main__":
    main()
