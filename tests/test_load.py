"""A class at once: 20 sessions press Start within seconds on one server; the cap holds, the rest queue, all finish."""
import threading
import time
from pathlib import Path

from test_app import button, open_train_page, streamed

SESSIONS = 20


def megabytes(pid="self", field="VmRSS"):
    """A process's resident memory now (VmRSS) or at its peak (VmHWM), in MB."""
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith(field))
    return int(line.split()[1]) / 1024


def student_ready_to_start():
    """A session on the Train page with the model shrunk, about to press Start."""
    app = open_train_page()
    for key, value in [("train_g_width", 8), ("train_d_width", 8), ("train_epochs", 1), ("train_batch_size", 128)]:
        app.sidebar.number_input(key=key).set_value(value).run()
    return app


def press_start(app):
    """(run id, the status line the page's live view shows, seconds the page took to answer)."""
    started = time.perf_counter()
    button(app, "Start training").click().run()
    seconds = time.perf_counter() - started
    assert not app.exception, [e.value for e in app.exception]
    return app.session_state.train_run_id, streamed(app)["status"], seconds


def test_twenty_sessions_start_at_once_and_the_cap_holds(tmp_path, monkeypatch):
    from studio.session import run_manager

    monkeypatch.setenv("GAN_STUDIO_CHECKPOINTS", str(tmp_path))
    manager = run_manager()  # the server's one manager, shared by every session below
    monkeypatch.setattr(manager, "session_grace", 3600)  # AppTest sessions do not poll: keep them while they wait
    memory_before = megabytes()
    busiest, stop_watching = [0], threading.Event()

    def watch():
        while not stop_watching.is_set():
            busiest[0] = max(busiest[0], manager.running_count())
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    # AppTest is not thread-safe (its sessions share script-run state), so the sessions press Start one after
    # another, as fast as the server answers: every run is requested within a few seconds, as in a classroom.
    students = [student_ready_to_start() for _ in range(SESSIONS)]
    requested = time.perf_counter()
    results = [press_start(app) for app in students]
    requesting = time.perf_counter() - requested
    try:
        run_ids = [r[0] for r in results]
        assert len(set(run_ids)) == SESSIONS  # one run per session, each its own
        queued = [r[1] for r in results if "Waiting for a free slot" in r[1]]
        assert queued, "with 20 runs at once some must wait"
        assert all("position" in text for text in queued)
        for run_id in run_ids:
            assert manager.wait(run_id, timeout=300)
            assert manager.get(run_id).status == "finished", manager.get(run_id).message
    finally:
        stop_watching.set()
        watcher.join()
    assert 1 <= busiest[0] <= manager.max_concurrent
    grown = megabytes() - memory_before
    slowest = max(r[2] for r in results)
    print(f"{SESSIONS} sessions started runs within {requesting:.1f} s, cap {manager.max_concurrent}, {len(queued)} "
          f"queued at first, busiest "
          f"{busiest[0]} running, memory +{grown:.0f} MB, slowest Start response {slowest:.2f} s")
    assert grown < 2048  # 20 finished tiny runs keep their histories, not their memory
