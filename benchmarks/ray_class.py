"""A simulated class on one machine: N students start the one-minute preset at once, trained by local threads (one run
at a time on a 2-core machine, as GAN_STUDIO_MAX_RUNS defaults) and by a 2-node Ray cluster of the same cores (two
runs at once, one core each). Prints and writes JSON: when each student saw a first grid, the total wall time, and
what Ray adds to a run (start-up on the node; bytes sent to the front per epoch; img/s of one run alone, one thread,
Ray against a local thread).

    PYTHONPATH=. python benchmarks/ray_class.py --students 12 --seconds 60 --json benchmarks/results/ray-class-cpu.json

Run it on a quiet machine: time-budgeted runs measure the machine's load as much as the code.
"""
import argparse
import json
import os
import pickle
import platform
import tempfile
import time
from pathlib import Path

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # every node on 127.0.0.1
import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

from ganlib.api import run_configs  # noqa: E402
from ganlib.ray_backend import ClusterSettings  # noqa: E402
from ganlib.runs import RunManager  # noqa: E402


def simulate_class(manager, students, seconds):
    """Start every student's run at once; follow them until all end. Per run: seconds to the first grid, to the
    end, from start-up (placed or started) to the Started event, and what the front received."""
    model_cfg, train_cfg = run_configs(None, "mnist-sample", max_seconds=seconds)
    begin = time.monotonic()
    ids = [manager.start(f"student-{i}", model_cfg, train_cfg) for i in range(students)]
    first_grid, ended, starting, started = {}, {}, {}, {}
    while len(ended) < len(ids):
        now = time.monotonic() - begin
        for run_id in ids:
            run = manager.get(run_id)
            if run.status == "starting":
                starting.setdefault(run_id, now)
            if run.started is not None:
                started.setdefault(run_id, now)
            if run.grids:
                first_grid.setdefault(run_id, now)
            if not run.active:
                ended.setdefault(run_id, now)
        time.sleep(0.1)
    runs = [manager.get(i) for i in ids]
    traffic = [len(pickle.dumps((r.rows, r.grids, r.quality))) + sum(p.stat().st_size for p in r.run_dir.rglob("*")
                                                                       if p.is_file()) for r in runs]
    epochs = [max(r.progress.epoch, 1e-9) for r in runs]
    return {
        "last_first_grid_s": round(max(first_grid.values()), 1),
        "first_grid_s": [round(first_grid[i], 1) for i in ids],
        "total_s": round(max(ended.values()), 1),
        "startup_s": [round(started[i] - starting.get(i, started[i]), 2) for i in ids],
        "images_per_second": [round(r.progress.images_per_second) for r in runs],
        "epochs": [round(e, 2) for e in epochs],
        "kb_to_front_per_epoch": [round(t / e / 1024) for t, e in zip(traffic, epochs)],
        "statuses": sorted({r.status for r in runs}),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--skip-local", action="store_true", help="time the Ray cluster only (the threads take longest)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ray-class-"))
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    flags = open("/proc/cpuinfo").read()
    results = {"cpu": f"{cpu} ({os.cpu_count()} cores, {'AVX-512 BF16' if 'avx512_bf16' in flags else 'AVX2'})",
               "python": platform.python_version(), "students": args.students, "seconds": args.seconds}

    # One run alone, one thread: a local thread against a Ray actor (the cost of the actor and of twice-a-second
    # collection on the node's own speed), alternating.
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    for _ in range(2):
        nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    cluster = ClusterSettings.from_environment(nodes.address)  # GAN_STUDIO_RAY_GPUS_PER_RUN on a GPU machine
    alone = {"local": [], "ray": []}
    for _ in range(2):
        for name, settings in (("local", None), ("ray", cluster)):
            manager = RunManager(max_concurrent=2, runs_root=root / f"alone-{name}", session_grace=3600,
                                 cluster=settings)  # None: threads here, one of the two cores each
            alone[name].append(simulate_class(manager, 1, 20)["images_per_second"][0])
    results["one_run_alone_img_s"] = alone

    manager = RunManager(max_concurrent=2, runs_root=root / "ray", session_grace=3600, cluster=cluster)
    results["ray_2_nodes"] = simulate_class(manager, args.students, args.seconds)
    ray.shutdown()
    nodes.shutdown()
    if not args.skip_local:
        manager = RunManager(max_concurrent=1, runs_root=root / "local", session_grace=3600)  # 2 threads, one at a time
        results["local_threads"] = simulate_class(manager, args.students, args.seconds)

    print(json.dumps(results, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
