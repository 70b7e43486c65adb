"""What one poll of the live route costs as a run grows: the cost must not grow with the run.

    python -m benchmarks.live_poll_cost [--lengths 1000 10000 100000] [--repeats 200]

A run of N metric rows (the trainer's own columns, a noisy but healthy trace) in a real Run, whose alarm watch
took the rows as the trainer hands them over (batches of 10). Each poll asks what a page that is up to date asks:
the rows after the last step it has, no new grids or scores. Reported: the median and 95th-percentile time of
`snapshot` per length, the same function the route calls.
"""
import argparse
import random
import time
from pathlib import Path
from statistics import median, quantiles

from ganlib.config import ModelConfig, TrainConfig
from ganlib.runs import Run
from ganlib.events import Metrics
from studio.live_stream import snapshot


def grown_run(rows):
    run = Run("bench", "bench", ModelConfig(), TrainConfig(), Path("/nonexistent"), status="running")
    rng = random.Random(0)
    for start in range(0, rows, 10):
        batch = [{"step": step, "epoch": step / 100, "loss_d": rng.uniform(0.8, 1.6), "loss_g": rng.uniform(0.7, 1.4),
                  "d_real": rng.uniform(0.5, 0.7), "d_fake": rng.uniform(0.3, 0.5), "grad_norm_d": rng.uniform(1, 3),
                  "grad_norm_g": rng.uniform(1, 2), "seconds": step / 30} for step in range(start + 1, start + 11)]
        run.on_event(Metrics(batch, start + 10, (start + 10) / 100, 2000.0, (start + 10) / 30, 60.0))
    return run


def poll_times(run, repeats):
    last = run.rows[-1]["step"]
    times = []
    for _ in range(repeats):
        begun = time.perf_counter()
        snapshot(run, after=last - 10, grids_seen=0, scores_seen=0)
        times.append(time.perf_counter() - begun)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    runs = {rows: grown_run(rows) for rows in args.lengths}
    results = {rows: [] for rows in args.lengths}
    for _ in range(5):  # lengths alternate, so the machine's drift hits each alike
        for rows, run in runs.items():
            results[rows] += poll_times(run, args.repeats // 5)
    for rows, times in results.items():
        print(f"{rows:>9,} rows: median {median(times) * 1e3:.3f} ms, p95 {quantiles(times, n=20)[-1] * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
