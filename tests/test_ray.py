"""Runs on a real Ray cluster of this machine: a head with no CPU and two worker nodes of one CPU each, every node on
127.0.0.1 (conftest.py sets Ray's single-machine switch before ray is first imported, so no process advertises another
address). Skipped only where the ray package is not installed."""
import csv
import io
import os
import re
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

assert os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] == "0"  # set by conftest.py before anything imports ray
ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

from ganlib.archives import stage_zip_upload  # noqa: E402
from ganlib.checkpoint import load_checkpoint  # noqa: E402
from ganlib.config import ModelConfig, TrainConfig  # noqa: E402
from ganlib.datasets import mnist_sample_arrays  # noqa: E402
from ganlib.ray_backend import ClusterSettings, FolderMirror, apply_changes  # noqa: E402
from ganlib.runs import RunManager  # noqa: E402
from ganlib.trainer import Trainer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODEL = ModelConfig(family="dcgan", g_width=8, d_width=8, latent_dim=16, classes=0)
TRAIN = TrainConfig(dataset="mnist-sample", batch_size=64, device="cpu", seed=3, max_seconds=0.0)


@pytest.fixture(scope="module")
def cluster():
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    workers = [nodes.add_node(num_cpus=1) for _ in range(2)]
    nodes.wait_for_nodes()
    yield nodes, workers, ClusterSettings(nodes.address)
    ray.shutdown()
    nodes.shutdown()


def wait_for(condition, seconds=120):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def manager(tmp_path, settings):
    return RunManager(max_concurrent=1, runs_root=tmp_path / "runs", cluster=settings, session_grace=600)


def test_a_run_trains_on_the_cluster_and_its_folder_arrives(cluster, tmp_path):
    _, _, settings = cluster
    runs = manager(tmp_path, settings)
    run_id = runs.start("student", MODEL, replace(TRAIN, max_steps=100))
    assert ray.is_initialized()
    assert {node["NodeManagerAddress"] for node in ray.nodes()} == {"127.0.0.1"}  # loopback only
    assert runs.wait(run_id, timeout=180)
    run = runs.get(run_id)
    assert (run.status, run.finished_reason, run.message) == ("finished", "max_steps", "")
    assert re.fullmatch(r"node [123] of 3, CPU", run.placement)
    with open(run.run_dir / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [r["step"] for r in run.rows] == list(range(1, 101))
    assert float(rows[-1]["loss_d"]) == pytest.approx(run.rows[-1]["loss_d"], rel=1e-6)
    assert (run.run_dir / "grids" / "epoch_001.png").is_file() and (run.run_dir / "quality.csv").is_file()
    checkpoint = load_checkpoint(run.run_dir)  # the pair arrived whole: its hash matches
    assert checkpoint.card["step"] == 100 and run.checkpoint_path == str(run.run_dir / "checkpoint.safetensors")
    assert checkpoint.card["placement"].startswith("Ray: the Ray cluster at 127.0.0.1:")
    assert len(run.grids) == 2 and run.grids[-1].image.size == (242, 242) and len(run.quality) == 2


def paused_run(settings, tmp_path):
    """A long run on the cluster, paused once 20 steps have arrived, and given the time to report where it stands."""
    runs = manager(tmp_path, settings)
    run = runs.get(runs.start("student", MODEL, replace(TRAIN, epochs=50)))
    wait_for(lambda: len(run.rows) >= 20)
    runs.pause(run.run_id)
    assert run.status == "paused"
    time.sleep(1.5)  # what was trained before the pause has arrived by now
    return runs, run


def test_pause_resume_and_stop_reach_the_node(cluster, tmp_path):
    runs, run = paused_run(cluster[2], tmp_path)
    paused_at = len(run.rows)
    time.sleep(1.5)
    assert len(run.rows) == paused_at  # nothing trains while paused
    runs.resume(run.run_id)
    wait_for(lambda: len(run.rows) > paused_at + 10)
    started = time.monotonic()
    runs.stop(run.run_id)
    assert runs.wait(run.run_id, timeout=30)
    assert run.status == "stopped" and time.monotonic() - started < 10  # the grid, score and checkpoint included
    assert load_checkpoint(run.run_dir).card["step"] == run.rows[-1]["step"] == len(run.rows)


def test_stop_while_paused_ends_on_the_step_shown(cluster, tmp_path):
    runs, run = paused_run(cluster[2], tmp_path)
    shown = run.rows[-1]["step"]
    runs.stop(run.run_id)
    assert runs.wait(run.run_id, timeout=30) and run.status == "stopped"
    assert run.rows[-1]["step"] == shown and load_checkpoint(run.run_dir).card["step"] == shown


def test_sessions_see_only_their_own_runs(cluster, tmp_path):
    _, _, settings = cluster
    runs = manager(tmp_path, settings)
    mine = runs.start("alice", MODEL, replace(TRAIN, max_steps=10))
    theirs = runs.start("bob", MODEL, replace(TRAIN, max_steps=10))
    assert runs.wait(mine, timeout=120) and runs.wait(theirs, timeout=120)
    assert [r.run_id for r in runs.runs_of("alice")] == [mine]
    assert [r.run_id for r in runs.runs_of("bob")] == [theirs]
    assert runs.get(mine).run_dir != runs.get(theirs).run_dir  # folders named by unguessable ids
    assert len(mine) > 24 and all(r.status == "finished" for r in (runs.get(mine), runs.get(theirs)))


def test_the_cluster_queues_runs_beyond_its_cpus(cluster, tmp_path):
    _, _, settings = cluster
    runs = manager(tmp_path, settings)
    ids = [runs.start(f"student{i}", MODEL, replace(TRAIN, max_steps=150)) for i in range(3)]
    wait_for(lambda: sum(runs.get(i).status == "queued" for i in ids) == 1, 60)  # two nodes of one CPU: one waits
    waiting = next(i for i in ids if runs.get(i).status == "queued")
    assert runs.queue_position(waiting) == 1
    assert all(runs.wait(i, timeout=240) for i in ids)
    assert all(runs.get(i).status == "finished" for i in ids)
    assert len({runs.get(i).placement for i in ids}) == 2  # both worker nodes trained


def test_a_lost_node_costs_at_most_the_work_since_the_checkpoint(cluster, tmp_path):
    nodes, workers, settings = cluster
    train = replace(TRAIN, max_steps=260)  # 78 steps an epoch, a checkpoint at each epoch's end on a cluster
    runs = manager(tmp_path, settings)
    run_id = runs.start("student", MODEL, train)
    run = runs.get(run_id)
    wait_for(lambda: bool(run.rows) and run.rows[-1]["step"] >= 100)
    lost = next(w for w in workers if w.node_id == run.trainer.node_id)
    nodes.remove_node(lost)
    try:
        assert runs.wait(run_id, timeout=240)
        assert (run.status, run.message) == ("finished", "")
        lost_at, restart = (int(t.replace(",", "")) for t in re.search(r"lost at step ([\d,]+): it goes on from step ([\d,]+)",
                                              run.notice).groups())
        # At most the epoch in progress, and what the front had not collected yet (its last half second)
        assert restart % 78 == 0 and 78 <= restart <= lost_at < restart + 2 * 78, run.notice
        steps = [row["step"] for row in run.rows]
        assert steps == list(range(1, 261))  # nothing lost, nothing twice
        with open(run.run_dir / "metrics.csv") as f:
            assert [int(r["step"]) for r in csv.DictReader(f)] == steps
        # The same numbers as a run that never stopped (one thread, as on the node)
        straight = []
        thread = threading.Thread(target=lambda: Trainer(MODEL, train, cpu_threads=1, on_event=lambda e: straight.extend(
            getattr(e, "rows", []))).run())
        thread.start()
        thread.join()
        assert [r["loss_d"] for r in straight] == pytest.approx([r["loss_d"] for r in run.rows], rel=1e-5)
    finally:
        workers[workers.index(lost)] = nodes.add_node(num_cpus=1)
        nodes.wait_for_nodes()


def test_an_uploaded_zip_trains_on_the_cluster(cluster, tmp_path):
    _, _, settings = cluster
    images, labels = mnist_sample_arrays()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(130):
            png = io.BytesIO()
            Image.fromarray(images[i, 0].numpy()).save(png, format="PNG")
            archive.writestr(f"mine/{'odd' if labels[i] % 2 else 'even'}/{i}.png", png.getvalue())
    upload = stage_zip_upload("mine.zip", buffer.getvalue(), tmp_path)
    runs = manager(tmp_path, settings)
    run_id = runs.start("student", MODEL,
                        replace(TRAIN, dataset="folder", data_dir=str(upload), max_steps=4))
    assert runs.wait(run_id, timeout=120)
    run = runs.get(run_id)
    assert (run.status, run.message) == ("finished", "")
    assert run.started.dataset_size == 130 and run.rows[-1]["step"] == 4
    assert load_checkpoint(run.run_dir).train_cfg.data_dir == str(upload)  # the card names the user's data


def test_a_failure_on_the_node_or_before_is_one_line(cluster, tmp_path):
    _, _, settings = cluster
    runs = manager(tmp_path, settings)
    offline = runs.start("student", MODEL, replace(TRAIN, dataset="mnist", data_dir=str(tmp_path / "cache"),
                                                   max_steps=4))  # the node downloads MNIST: no network here
    assert runs.wait(offline, timeout=120)
    run = runs.get(offline)
    assert run.status == "failed" and run.message.startswith("could not download MNIST into ") and run.placement
    missing = runs.start("student", MODEL, replace(TRAIN, dataset="folder", data_dir=str(tmp_path / "nothing.zip"),
                                                   max_steps=4))  # the front cannot send what is not there
    assert runs.wait(missing, timeout=60)
    assert runs.get(missing).message.endswith("nothing.zip does not exist")
    for message in (run.message, runs.get(missing).message):
        assert "\n" not in message and "Traceback" not in message and "ray::" not in message


def test_the_command_line_trains_on_a_cluster(cluster, tmp_path):
    _, _, settings = cluster
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "ganlib", "train", "--ray", settings.address, "--max-steps", "20",
                             "--ngf", "8", "--ndf", "8", "--out", str(out)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "the Ray cluster placed the run on node" in result.stderr
    assert "max_steps: 0 epochs, 20 steps" in result.stdout and "on Ray (node" in result.stdout
    card = load_checkpoint(out).card
    assert card["step"] == 20 and card["placement"].startswith("Ray: ") and card["hardware"].startswith("CPU")


def test_a_cluster_that_is_not_there_is_one_line_or_the_fallback():
    refused = subprocess.run([sys.executable, "-m", "ganlib", "train", "--ray", "127.0.0.1:9", "--out", "never"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and not (ROOT / "never").exists()
    assert refused.stderr.strip() == ("error: cannot reach the Ray cluster at 127.0.0.1:9 (Connection refused): is "
                                      "`ray start --head` running there?")
    script = ("from ganlib.runs import RunManager; from ganlib.config import ModelConfig, TrainConfig;"
              "import tempfile, os; os.environ['GAN_STUDIO_RAY_ADDRESS'] = '127.0.0.1:9';"
              "os.environ['GAN_STUDIO_RAY_FALLBACK'] = 'local'; runs = RunManager(runs_root=tempfile.mkdtemp());"
              "i = runs.start('s', ModelConfig(family='dcgan', g_width=8, d_width=8, latent_dim=16, classes=0),"
              " TrainConfig(device='cpu', max_steps=3, max_seconds=0)); runs.wait(i, 60);"
              "print(runs.get(i).status, runs.get(i).cluster); print(runs.backend_note)")
    fallback = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert fallback.stdout.splitlines() == [
        "finished False", "cannot reach the Ray cluster at 127.0.0.1:9 (Connection refused): is `ray start --head` "
        "running there?: runs train on this server instead."]


def test_the_folder_mirror_sends_new_lines_and_whole_files(tmp_path):
    node, front = tmp_path / "node", tmp_path / "front"
    (node / "grids").mkdir(parents=True)
    mirror = FolderMirror(node)
    (node / "metrics.csv").write_text("step,loss\n1,0.5\n2,0.")  # the third line is being written
    (node / "grids" / "epoch_001.png").write_bytes(b"png1")
    (node / ".checkpoint.json.x.tmp").write_text("half")  # an atomic write in progress
    (node / "checkpoint.prev.json").write_text("{}")  # the front keeps its own previous pair
    first = mirror.changes()
    assert first == {"grids/epoch_001.png": ("whole", b"png1"), "metrics.csv": ("whole", b"step,loss\n1,0.5\n")}
    apply_changes(front, first)
    with open(node / "metrics.csv", "a") as f:
        f.write("4\n3,0.3\n")
    second = mirror.changes()
    assert second == {"metrics.csv": ("append", b"2,0.4\n3,0.3\n")}
    apply_changes(front, second)
    assert (front / "metrics.csv").read_text() == (node / "metrics.csv").read_text()
    assert mirror.changes() == {}
    (node / "metrics.csv").write_text("step,loss\n1,0.5\n2,0.41\n3,0.33\n")  # resumed: rewritten, not appended
    third = mirror.changes()
    assert third == {"metrics.csv": ("whole", b"step,loss\n1,0.5\n2,0.41\n3,0.33\n")}
    apply_changes(front, third)
    assert (front / "metrics.csv").read_text() == (node / "metrics.csv").read_text()
    apply_changes(front, {"../escape.txt": ("whole", b"no")})
    assert not (tmp_path / "escape.txt").exists()
