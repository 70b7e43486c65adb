"""A short run's fixed costs: everything that is not a training step, against the steps themselves.

    python -m benchmarks.fixed_costs [--repeats 3] [--images 1280] [--epochs 2] [--in-process]

The speed check's setting: the DCGAN example's 64×64×3 network (ngf = ndf = 64) on a folder of 1,280 colour
images (the shipped emoji, written out as PNG files), 2 epochs, through `python -m ganlib train` in a fresh
process. Wall time runs from launch to exit; training time is what the run's card says its steps took. The rest
(the torch import, reading the folder, grids, quality scores, checkpoints) is the fixed cost.

--in-process runs the same command inside this process after one warm-up run, as the Train page runs every run
after a server's first: torch and what it imports on first use are loaded already.
"""
import argparse
import contextlib
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from PIL import Image

from ganlib import cli
from ganlib.datasets import emoji_arrays

ROOT = Path(__file__).resolve().parent.parent


def write_folder(folder, count):
    images = emoji_arrays()[0][:count].permute(0, 2, 3, 1).numpy()
    for index, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{index:05d}.png")


def one_run(folder, epochs, in_process=False):
    """(wall seconds from launch to exit, training seconds the card reports)"""
    out = Path(tempfile.mkdtemp()) / "run"
    command = ["train", "--model", "dcgan", "--dataset", "folder", "--data-dir", str(folder), "--image-size", "64",
               "--channels", "3", "--ngf", "64", "--ndf", "64", "--latent-codes", "0", "--epochs", str(epochs),
               "--out", str(out)]
    started = time.perf_counter()
    if in_process:
        errors = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(errors):
            failed = cli.main(command)
        if failed:  # the CLI's one-line message, not a bare assertion
            raise SystemExit(errors.getvalue().strip().splitlines()[-1])
    else:
        subprocess.run([sys.executable, "-m", "ganlib", *command], cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - started
    return wall, json.loads((out / "checkpoint.json").read_text())["elapsed_seconds"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--images", type=int, default=1280)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--in-process", action="store_true", help="as the Train page: torch imported already")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    write_folder(folder, args.images)
    if args.in_process:
        one_run(folder, 1, in_process=True)  # the server's first run: what torch imports on first use
    runs = [one_run(folder, args.epochs, args.in_process) for _ in range(args.repeats)]
    for wall, training in runs:
        print(f"wall {wall:5.1f} s · training {training:5.1f} s · fixed costs {wall - training:4.1f} s "
              f"({wall / training - 1:.0%} of the training time)")
    overhead = median(wall / training - 1 for wall, training in runs)
    print(f"median: fixed costs add {overhead:.0%} to a {args.epochs}-epoch run's training time")


if __name__ == "__main__":
    main()
