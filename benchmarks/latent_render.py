"""How fast the Latent explorer draws, for each shipped generator on this machine.

    python -m benchmarks.latent_render [--repeats 20]

Times what one interaction costs: a 10-frame slerp strip, the 24-sample grid, a 10-frame GIF, one moved
sample, the nearest training images of one sample, and the one-off work done when a generator is first
chosen (loading it and finding its directions). Medians of --repeats runs, in milliseconds.
"""
import argparse
import io
import statistics
import time
from pathlib import Path

import torch

from ganlib.checkpoint import load_generator
from ganlib.datasets import load_dataset
from ganlib.device import resolve_device
from ganlib.images import to_pil_grid
from ganlib.latent import latent_path, move_along, principal_directions, render, render_gif, sample_z
from ganlib.nearest import nearest_images

ROOT = Path(__file__).resolve().parent.parent


def median_ms(work, repeats):
    work()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def once_ms(work):
    start = time.perf_counter()
    result = work()
    return 1000 * (time.perf_counter() - start), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    resolve_device("cpu")  # the same thread setting training uses
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    for path in sorted((ROOT / "checkpoints").glob("*.safetensors")):
        load_ms, (generator, checkpoint) = once_ms(lambda: load_generator(path))
        model, train = checkpoint.model_cfg, checkpoint.train_cfg
        dim = model.latent_dim
        directions_ms, (directions, _) = once_ms(lambda: principal_directions(generator, dim))
        keys = sample_z(2, dim, seed=0)
        training = load_dataset(train.dataset, model.image_size, model.channels, train.data_dir).images
        timings = {
            "10-frame strip": lambda: to_pil_grid(render(generator, latent_path(keys, 10, "slerp")), nrow=10, scale=2),
            "24-sample grid": lambda: render(generator, sample_z(24, dim, seed=1)),
            "10-frame GIF": lambda: render_gif(generator, latent_path(keys, 10), io.BytesIO(), scale=4),
            "moved sample": lambda: render(generator, move_along(keys[0], directions, [1.0, -0.5, 0, 2])[None]),
            "8 nearest real": lambda: nearest_images(render(generator, keys[:1]), training, k=8),
        }
        print(f"\n{path.stem}: load {load_ms:.0f} ms, directions {directions_ms:.0f} ms (once per generator)")
        for name, work in timings.items():
            print(f"  {name:<16} {median_ms(work, args.repeats):7.1f} ms")


if __name__ == "__main__":
    main()
