import json
import time
from pathlib import Path

import pytest
import torch

from ganlib.config import ModelConfig, TrainConfig
from ganlib.datasets import TensorImages
from ganlib.device import describe_device
from ganlib.errors import ConfigError, GanStudioError
from ganlib.runs import RunManager

TINY = ModelConfig(g_width=8, d_width=8, latent_dim=16)


def long_run(**overrides):
    return TrainConfig(**{"epochs": 1000, "device": "cpu", "batch_size": 64, **overrides})


def wait_until(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def manager(tmp_path):
    return RunManager(max_concurrent=1, runs_root=tmp_path)


def test_start_pause_resume_and_stop_within_one_step(manager, small_digits):
    run_id = manager.start("alice", TINY, long_run(), data=small_digits)
    run = manager.get(run_id)
    wait_until(lambda: run.progress is not None)
    manager.pause(run_id)
    assert run.status == "paused"
    held = run.trainer.step
    time.sleep(0.4)
    assert run.trainer.step <= held + 1
    manager.resume(run_id)
    wait_until(lambda: run.trainer.step > held + 2)
    manager.stop(run_id)
    stopped_at = run.trainer.step
    assert manager.wait(run_id, 30)
    assert run.status == "stopped" and run.progress.step <= stopped_at + 1
    assert run.checkpoint_path.endswith("checkpoint.safetensors")  # what was trained is kept


def test_the_cap_queues_runs_and_starts_them_in_order(manager, small_digits):
    first = manager.start("alice", TINY, long_run(), data=small_digits)
    second = manager.start("bob", TINY, long_run(max_steps=3), data=small_digits)
    third = manager.start("carol", TINY, long_run(max_steps=3), data=small_digits)
    assert manager.get(second).status == "queued" and manager.queue_position(second) == 1
    assert manager.queue_position(third) == 2
    assert manager.running_count() == 1
    manager.stop(first)
    assert manager.wait(second, 60) and manager.wait(third, 60)
    assert manager.get(second).finished_reason == "max_steps" and manager.get(third).finished_reason == "max_steps"
    assert manager.get(second).created <= manager.get(third).created


def test_runs_that_train_at_once_share_the_cpu_threads(tmp_path, small_digits, monkeypatch, request):
    monkeypatch.setenv("GAN_STUDIO_CPU_THREADS", "4")
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    request.addfinalizer(lambda: torch.set_num_threads(before))  # later tests keep this thread's count
    manager = RunManager(max_concurrent=2, runs_root=tmp_path)
    runs = [manager.start(name, TINY, long_run(max_steps=5), data=small_digits) for name in ("alice", "bob")]
    assert manager.running_count() == 2  # both train at once, on half the threads each
    for run_id in runs:
        assert manager.wait(run_id, 60)
        card = json.loads(Path(manager.get(run_id).checkpoint_path).with_suffix(".json").read_text())
        assert card["hardware"].endswith(", 2 threads")
    assert torch.get_num_threads() == 3  # the caller (a page's thread) keeps its own count
    alone = RunManager(max_concurrent=1, runs_root=tmp_path / "alone")
    run_id = alone.start("carol", TINY, long_run(max_steps=5), data=small_digits)
    assert alone.wait(run_id, 60)
    card = json.loads(Path(alone.get(run_id).checkpoint_path).with_suffix(".json").read_text())
    assert card["hardware"].endswith(", 4 threads")


def test_a_card_names_one_thread_in_the_singular(request):
    before = torch.get_num_threads()
    request.addfinalizer(lambda: torch.set_num_threads(before))
    torch.set_num_threads(1)
    assert describe_device(torch.device("cpu")).endswith(", 1 thread")
    torch.set_num_threads(2)
    assert describe_device(torch.device("cpu")).endswith(", 2 threads")


class RunsOutOfMemory(TensorImages):
    """Digits whose fourth batch asks the allocator for more memory than any machine has."""

    def batches(self, order, batch_size):
        for index, batch in enumerate(super().batches(order, batch_size)):
            if index == 3:
                torch.empty(1 << 50)  # 4 PiB: refused by the CPU allocator, as a too-large batch is on a GPU
            yield batch


def test_out_of_memory_fails_that_run_in_words_and_the_others_go_on(tmp_path, small_digits):
    manager = RunManager(max_concurrent=2, runs_root=tmp_path)
    healthy = manager.start("alice", TINY, long_run(max_steps=30), data=small_digits)
    greedy = manager.start("bob", TINY, long_run(), data=RunsOutOfMemory(small_digits.images, small_digits.labels))
    assert manager.wait(greedy, 60)
    assert manager.get(greedy).status == "failed"
    assert manager.get(greedy).message == "out of memory at step 3 — try a smaller batch or image size"
    assert manager.wait(healthy, 60)
    run = manager.get(healthy)
    assert run.status == "finished" and run.progress.step == 30
    # a run that is over lets go of its networks and data, and keeps what the page shows
    assert run.trainer is None and run.started.real_grid.size == run.grids[-1].image.size and Path(run.checkpoint_path).exists()


def test_a_queued_run_that_is_stopped_never_starts(manager, small_digits):
    first = manager.start("alice", TINY, long_run(), data=small_digits)
    queued = manager.start("bob", TINY, long_run(max_steps=3), data=small_digits)
    manager.stop(queued)
    manager.stop(first)
    assert manager.wait(first, 30)
    time.sleep(0.3)
    assert manager.get(queued).status == "stopped" and manager.get(queued).started is None


def test_one_active_run_per_session(manager, small_digits):
    run_id = manager.start("alice", TINY, long_run(), data=small_digits)
    with pytest.raises(GanStudioError, match="already has a run in progress"):
        manager.start("alice", TINY, long_run(), data=small_digits)
    assert [r.run_id for r in manager.runs_of("alice")] == [run_id]
    manager.stop(run_id)
    manager.wait(run_id, 30)
    manager.start("alice", TINY, long_run(max_steps=2), data=small_digits)  # a new run once the first is over


def test_a_run_keeps_going_while_nobody_watches(manager, small_digits):
    """A page rerun or a closed tab drops only the run id: the manager's run trains on."""
    run_id = manager.start("alice", TINY, long_run(max_steps=30), data=small_digits)
    assert manager.wait(run_id, 60)  # no one polls it in the meantime
    run = manager.get(run_id)
    assert run.status == "finished" and len(run.rows) == 30 and run.grids


def test_failures_arrive_as_a_status_and_a_sentence(manager, tmp_path):
    run_id = manager.start("alice", TINY, long_run(dataset="folder", data_dir=str(tmp_path / "nothing-here")))
    assert manager.wait(run_id, 30)
    run = manager.get(run_id)
    assert run.status == "failed" and run.message.endswith("nothing-here does not exist")


def test_impossible_settings_are_refused_before_queueing(manager):
    with pytest.raises(ConfigError, match="lr_d must be between"):
        manager.start("alice", TINY, long_run(lr_d=5.0))
    assert manager.runs_of("alice") == []


def test_host_limits_cap_every_run_and_refuse_datasets_not_offered(tmp_path, small_digits, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_MAX_SECONDS", "0.5")
    monkeypatch.setenv("GAN_STUDIO_MAX_EPOCHS", "3")
    monkeypatch.setenv("GAN_STUDIO_DATASETS", "mnist-sample")
    manager = RunManager(max_concurrent=1, runs_root=tmp_path)
    run = manager.get(manager.start("alice", TINY, long_run(max_seconds=600), data=small_digits))
    assert run.train_cfg.max_seconds == 0.5 and run.train_cfg.epochs == 3
    # the host's cap counts wall time, which passes 0.5 s no later than the training clock does
    assert manager.wait(run.run_id, timeout=60) and run.finished_reason == "time_cap"
    with pytest.raises(ConfigError, match="this server offers only these datasets: mnist-sample"):
        manager.start("bob", TINY, long_run(dataset="fashion-mnist"))


def test_misconfigured_host_limits_are_named(monkeypatch):
    from ganlib.runs import HostLimits

    monkeypatch.setenv("GAN_STUDIO_DATASETS", "mnist-sample,imagenet")
    with pytest.raises(ConfigError, match="unknown datasets: imagenet"):
        HostLimits.from_environment()
    monkeypatch.setenv("GAN_STUDIO_DATASETS", "")
    monkeypatch.setenv("GAN_STUDIO_MAX_EPOCHS", "many")
    with pytest.raises(ConfigError, match="must be numbers"):
        HostLimits.from_environment()


def test_a_silent_session_loses_its_runs_and_files_and_its_queued_run_never_starts(tmp_path, small_digits):
    manager = RunManager(max_concurrent=1, runs_root=tmp_path / "runs", session_grace=60)
    upload = tmp_path / "alice-upload"
    upload.mkdir()
    (upload / "faces.zip").write_bytes(b"zip")
    busy = manager.start("carol", TINY, long_run(), data=small_digits)  # never touches: a CLI-like user, kept
    manager.touch("alice", files=[upload])
    queued = manager.start("alice", TINY, long_run(), data=small_digits)
    assert manager.queue_position(queued) == 1
    manager.reap(now=time.monotonic() + 30)  # within the grace period: nothing happens
    assert manager.get(queued).status == "queued" and upload.exists()
    manager.reap(now=time.monotonic() + 61)
    assert manager.get(queued) is None and not upload.exists()  # the queued run dropped unstarted, files gone
    assert manager.get(busy).active  # not a session: never reaped
    manager.stop(busy)
    assert manager.wait(busy, timeout=30)


def test_a_silent_sessions_running_run_is_stopped_then_forgotten_with_its_folder(tmp_path, small_digits):
    manager = RunManager(max_concurrent=1, runs_root=tmp_path, session_grace=60)
    manager.touch("alice")
    run_id = manager.start("alice", TINY, long_run(), data=small_digits)
    run = manager.get(run_id)
    wait_until(lambda: run.progress is not None)
    manager.reap(now=time.monotonic() + 61)
    assert manager.wait(run_id, timeout=30) and run.finished_reason == "stopped"
    assert run.run_dir.exists()  # it wrote its checkpoint on the way out
    manager.reap()
    assert manager.get(run_id) is None and not run.run_dir.exists()


def test_the_grace_is_at_least_two_heartbeats_and_an_open_tab_keeps_its_run_for_three_graces(tmp_path, small_digits,
                                                                                                monkeypatch):
    """A tab's heartbeat comes every 30 s, sometimes late; a grace of one heartbeat once reaped a run 2 s after its
    tab closed, and could reap a slow open tab. Simulated clock: the reaper looks every 5 s."""
    from ganlib.host import HEARTBEAT_SECONDS
    from ganlib.runs import default_session_grace

    monkeypatch.setenv("GAN_STUDIO_SESSION_GRACE", "30")
    assert default_session_grace() == 2 * HEARTBEAT_SECONDS
    monkeypatch.setenv("GAN_STUDIO_SESSION_GRACE", "300")
    assert default_session_grace() == 300
    monkeypatch.setenv("GAN_STUDIO_SESSION_GRACE", "soon")
    with pytest.raises(ConfigError, match="GAN_STUDIO_SESSION_GRACE must be a number"):
        default_session_grace()
    monkeypatch.setenv("GAN_STUDIO_SESSION_GRACE", "30")
    manager = RunManager(max_concurrent=1, runs_root=tmp_path)
    start = time.monotonic()
    manager.touch("alice", now=start)
    run_id = manager.start("alice", TINY, long_run(), data=small_digits)
    grace = manager.session_grace
    beats = [start + k * HEARTBEAT_SECONDS + (k % 3) * 7 for k in range(1, 100)]  # up to 14 s late
    for now in (start + 5 * k for k in range(int(3 * grace / 5) + 1)):
        while beats and beats[0] <= now:
            manager.touch("alice", now=beats.pop(0))
        manager.reap(now=now)
        assert manager.get(run_id).active, f"reaped {now - start:.0f} s after the start with its tab open"
    manager.reap(now=now + grace + 1)  # then the tab closes: the run goes once the grace has passed
    assert manager.wait(run_id, timeout=30) and manager.get(run_id).finished_reason == "stopped"


def test_a_cluster_address_without_ray_installed_is_one_line(monkeypatch, tmp_path):
    import sys

    from ganlib.ray_backend import ClusterSettings

    monkeypatch.setitem(sys.modules, "ray", None)  # as where `pip install "gan-studio[ray]"` was never run
    runs = RunManager(runs_root=tmp_path, cluster=ClusterSettings("local"))
    with pytest.raises(ConfigError, match=r'^training on Ray needs the ray package: pip install "gan-studio\[ray\]"'):
        runs.join_cluster()
    fallback = RunManager(runs_root=tmp_path, cluster=ClusterSettings("local", fallback="local"))
    fallback.join_cluster()
    assert fallback.cluster is None and fallback.backend_note.endswith("runs train on this server instead.")
