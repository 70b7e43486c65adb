"""The run manager: training runs in background threads, shared by every UI session of one process.

A UI keeps only a run's id; the run, its history and its thread live here, so a page rerun, a page switch
or a closed tab never kills or restarts training. A global cap bounds concurrent runs; the rest queue.
"""
import os
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from .alarms import AlarmWatch
from .datasets import DATASETS
from .device import cpu_threads, release_memory
from .errors import ConfigError, GanStudioError
from .events import CheckpointSaved, Failed, Finished, GridSampled, Metrics, Moved, Placed, QualityScored, Started
from .host import HEARTBEAT_SECONDS, max_concurrent_runs, run_memory_budget, tensorboard_root
from .losses import get_loss
from .ray_backend import ClusterSettings, RayTrainer, connect
from .trainer import Trainer, build_failure

ACTIVE = ("queued", "starting", "running", "paused")


def default_session_grace():
    """GAN_STUDIO_SESSION_GRACE: seconds a silent session keeps its runs and files (a closed tab goes silent); never
    under two heartbeats, so one late heartbeat of a slow tab cannot cost it its run."""
    try:
        grace = float(os.environ.get("GAN_STUDIO_SESSION_GRACE", 120))
    except ValueError as error:
        raise ConfigError(f"GAN_STUDIO_SESSION_GRACE must be a number of seconds ({error})") from error
    return max(grace, 2 * HEARTBEAT_SECONDS)


@dataclass(frozen=True)
class HostLimits:
    """What a host allows each run, from the environment: a shared Space must not let one run take the evening."""

    max_seconds: float = 0.0  # 0: no cap
    max_epochs: int = 0  # 0: no cap
    datasets: tuple = tuple(DATASETS)  # the datasets offered

    @classmethod
    def from_environment(cls):
        """GAN_STUDIO_MAX_SECONDS, GAN_STUDIO_MAX_EPOCHS, GAN_STUDIO_DATASETS (comma-separated names)."""
        try:
            max_seconds = float(os.environ.get("GAN_STUDIO_MAX_SECONDS", 0))
            max_epochs = int(os.environ.get("GAN_STUDIO_MAX_EPOCHS", 0))
        except ValueError as error:
            raise ConfigError(f"GAN_STUDIO_MAX_SECONDS and GAN_STUDIO_MAX_EPOCHS must be numbers ({error})") from error
        names = [n.strip() for n in os.environ.get("GAN_STUDIO_DATASETS", "").split(",") if n.strip()]
        unknown = [n for n in names if n not in DATASETS]
        if unknown:
            raise ConfigError(f"GAN_STUDIO_DATASETS names unknown datasets: {', '.join(unknown)}")
        return cls(max(0.0, max_seconds), max(0, max_epochs), tuple(names) or tuple(DATASETS))

    def apply(self, train_cfg):
        """The run's settings within the host's caps; a dataset the host does not offer is refused."""
        if train_cfg.dataset not in self.datasets:
            raise ConfigError(f"this server offers only these datasets: {', '.join(self.datasets)}")
        if self.max_seconds:
            train_cfg = replace(train_cfg, max_seconds=min(train_cfg.max_seconds or self.max_seconds, self.max_seconds))
        if self.max_epochs:
            train_cfg = replace(train_cfg, epochs=min(train_cfg.epochs or self.max_epochs, self.max_epochs))
        return train_cfg

    def describe(self):
        """One line for the Train page, or '' when nothing is capped."""
        caps = [f"{self.max_seconds:g} s"] if self.max_seconds else []
        caps += [f"{self.max_epochs} epochs"] if self.max_epochs else []
        return f"This server stops each run after {' or '.join(caps)}." if caps else ""


@dataclass
class Run:
    """One run's state and history, written by its worker thread and read by any number of pages."""

    run_id: str
    session_id: str
    model_cfg: object
    train_cfg: object
    run_dir: Path
    status: str = "queued"  # queued → starting → running ⇄ paused → finished | stopped | failed
    message: str = ""
    rows: list = field(default_factory=list)  # every step's metrics
    grids: list = field(default_factory=list)  # GridSampled events, oldest first
    quality: list = field(default_factory=list)  # QualityScored events, one per grid
    started: Started = None
    progress: Metrics = None  # the latest report (no rows kept here)
    finished_reason: str = ""
    checkpoint_path: str = ""
    created: float = field(default_factory=time.time)
    trainer: Trainer = None  # while the run is active
    data: object = None  # an already-loaded dataset, if the caller has one
    stop_requested: bool = False  # Stop pressed before the trainer existed
    alarm_watch: AlarmWatch = None  # the run's alarms, kept up to date as rows and scores arrive
    tensorboard: Path = None  # where the run writes TensorBoard events, if the host asks for them
    cluster: bool = False  # trains on a Ray cluster: Ray queues it and places it on a node
    placement: str = ""  # where the cluster trains it: 'node 2 of 5, GPU 0'
    notice: str = ""  # what happened to it on the cluster (it moved from a lost node)

    def __post_init__(self):
        self._watch_history()

    @property
    def active(self):
        return self.status in ACTIVE

    def on_event(self, event):
        if isinstance(event, Started):
            self.started, self.status = event, "running" if self.status == "starting" else self.status
        elif isinstance(event, Metrics):
            self.rows.extend(event.rows)
            self.alarm_watch.add_rows(event.rows)
            self.progress = Metrics([], event.step, event.epoch, event.images_per_second, event.elapsed,
                                    event.eta_seconds)
        elif isinstance(event, GridSampled):
            self.grids.append(event)
        elif isinstance(event, QualityScored):
            self.quality.append(event)
            self.alarm_watch.add_diversity(event.score.diversity)
        elif isinstance(event, CheckpointSaved):
            self.checkpoint_path = event.path
        elif isinstance(event, Finished):
            self.status = "stopped" if event.reason == "stopped" else "finished"
            self.finished_reason = event.reason
        elif isinstance(event, Failed):
            self.status, self.message = "failed", event.message
        elif isinstance(event, Placed):
            self.placement = event.where
            self.status = "starting" if self.status == "queued" else self.status
        elif isinstance(event, Moved):
            self.rewind(event.step)
            self.status, self.notice, self.placement = "queued", event.message, ""

    def rewind(self, step):
        """Forget what came after `step`: a run that moved trains it again from its checkpoint there."""
        self.rows = [row for row in self.rows if row["step"] <= step]
        self.grids = [grid for grid in self.grids if grid.step <= step]
        self.quality = [scored for scored in self.quality if scored.step <= step]
        self._watch_history()

    def _watch_history(self):
        """The run's alarms, from the rows and scores it has (none yet when it is created)."""
        self.alarm_watch = AlarmWatch(get_loss(self.train_cfg.loss).probabilities).add_rows(self.rows)
        for scored in self.quality:
            self.alarm_watch.add_diversity(scored.score.diversity)


class RunManager:
    """Every run of the server. Runs train in threads of this process, at most `max_concurrent` at once, or, with a
    cluster (GAN_STUDIO_RAY_ADDRESS), each in a Ray actor, Ray queueing them until a node has room."""

    def __init__(self, max_concurrent=None, runs_root=None, limits=None, session_grace=None, cluster=None):
        self.max_concurrent = max_concurrent or max_concurrent_runs()
        self.cluster = cluster if cluster is not None else ClusterSettings.from_environment()
        self.backend_note = ""  # one line for the Train page: where runs train, or why not on the cluster
        self.limits = limits  # None: read the environment at each start
        self.session_grace = default_session_grace() if session_grace is None else session_grace
        self._last_seen = {}  # session id → monotonic time its pages last ran (sessions that never touch are kept)
        self._session_files = {}  # session id → folders to delete once it is gone (its uploads)
        self._leaving = set()  # sessions gone silent whose runs are still stopping
        self._reaper = None
        self.runs_root = Path(runs_root or Path(tempfile.gettempdir()) / "gan-studio-runs")
        self._runs = {}
        self._queue = []  # run ids waiting for a slot, oldest first
        self._lock = threading.Lock()

    def check(self, model_cfg, train_cfg, data=None):
        """The train config within the host's caps, once both configs are checked, memory included (one run's
        share of the host's budget); a ConfigError says what cannot work."""
        train_cfg = self.host_limits().apply(train_cfg)
        Trainer.check_configs(model_cfg, train_cfg, run_memory_budget(self.max_concurrent),
                              dataset_images=len(data) if data is not None else None)
        return train_cfg

    def host_limits(self):
        return self.limits or HostLimits.from_environment()

    def start(self, session_id, model_cfg, train_cfg, data=None):
        """Create a run for a session and start it now or queue it; configs are validated and capped first."""
        train_cfg = self.check(model_cfg, train_cfg, data)
        self.join_cluster()
        with self._lock:
            if any(r.active for r in self._runs.values() if r.session_id == session_id):
                raise GanStudioError("this session already has a run in progress: stop it first")
            run_id = f"run-{secrets.token_hex(12)}"  # its folder's name: no session can guess another's
            tensorboard = tensorboard_root()
            run = Run(run_id, session_id, model_cfg, train_cfg, self.runs_root / run_id, data=data,
                      tensorboard=tensorboard / run_id if tensorboard else None, cluster=self.cluster is not None)
            self._runs[run_id] = run
            self._queue.append(run_id)
            self._launch_waiting()
        return run_id

    def join_cluster(self):
        """Connect to the cluster before a run needs it. Unreachable: one ConfigError, or with
        GAN_STUDIO_RAY_FALLBACK=local the runs train here from now on and the note says why."""
        if self.cluster is None:
            return
        try:
            connect(self.cluster)
        except ConfigError as error:
            if self.cluster.fallback != "local":
                raise
            self.cluster, self.backend_note = None, f"{error}: runs train on this server instead."
            return
        self.backend_note = f"Runs train on {self.cluster.describe()}."

    def get(self, run_id):
        return self._runs.get(run_id)

    def runs_of(self, session_id):
        return [r for r in list(self._runs.values()) if r.session_id == session_id]

    # --- sessions that leave -------------------------------------------------------------------------

    def touch(self, session_id, files=(), now=None):
        """A page of this session ran or polled: it is still there. `files`: its folders to remove once gone."""
        with self._lock:
            self._last_seen[session_id] = time.monotonic() if now is None else now
            self._leaving.discard(session_id)  # back after all (a laptop woke up): keep what is left
            self._session_files.setdefault(session_id, set()).update(str(f) for f in files)
            if self._reaper is None:
                self._reaper = threading.Thread(target=self._reap_forever, name="session-reaper", daemon=True)
                self._reaper.start()

    def reap(self, now=None):
        """Stop the runs of sessions silent for longer than the grace period (queued ones never start); once
        those runs have ended, delete their run folders and uploads and forget them, freeing their memory."""
        now = time.monotonic() if now is None else now
        with self._lock:
            silent = [s for s, seen in self._last_seen.items() if now - seen > self.session_grace]
            for session_id in silent:
                del self._last_seen[session_id]
                self._leaving.add(session_id)
        for session_id in list(self._leaving):
            runs = self.runs_of(session_id)
            for run in runs:
                if run.active:
                    self.stop(run.run_id)
            if any(run.active for run in runs):
                continue  # stopping within a step; finish the cleanup on a later pass
            with self._lock:
                for run in runs:
                    del self._runs[run.run_id]
                folders = [run.run_dir for run in runs] + sorted(self._session_files.pop(session_id, ()))
                self._leaving.discard(session_id)
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)

    def _reap_forever(self, every=5.0):
        while True:
            time.sleep(every)
            self.reap()

    def queue_position(self, run_id):
        """1 for the next run to start, None when not queued. On a cluster: among this server's runs Ray has not
        placed yet, oldest first."""
        with self._lock:
            if run_id in self._queue:
                return self._queue.index(run_id) + 1
            waiting = sorted((r for r in self._runs.values() if r.cluster and r.status == "queued"),
                             key=lambda r: r.created)
            ids = [r.run_id for r in waiting]
            return ids.index(run_id) + 1 if run_id in ids else None

    def running_count(self):
        return sum(r.status in ("starting", "running", "paused") for r in self._runs.values())

    def pause(self, run_id):
        run = self._runs[run_id]
        if run.trainer and run.status == "running":
            run.trainer.pause(wait=2.0)  # a step, or an epoch's grid and score, finishes first
            run.status = "paused"

    def resume(self, run_id):
        run = self._runs[run_id]
        if run.trainer and run.status == "paused":
            run.status = "running"
            run.trainer.resume()

    def stop(self, run_id):
        """Stop a running run within one step, or drop a queued one before it starts."""
        with self._lock:
            run = self._runs[run_id]
            if run_id in self._queue:
                self._queue.remove(run_id)
                run.status, run.finished_reason = "stopped", "stopped"
                return
        run.stop_requested = True
        if run.trainer:
            run.trainer.stop()

    @property
    def threads_per_run(self):
        """An even share of the CPU threads for each run that may train at once: runs that each took every core
        would wait on each other's threads (torch's thread count belongs to the thread that trains)."""
        return max(1, cpu_threads() // self.max_concurrent)

    def wait(self, run_id, timeout=None):
        """Block until the run leaves the active states (for tests and the CLI-like uses)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while run_id in self._runs and self._runs[run_id].active:  # a reaped run is gone: nothing to wait for
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def _launch_waiting(self):
        """Start queued runs while there are free slots (called with the lock held)."""
        while self._queue and (self.cluster or self.running_count() < self.max_concurrent):
            run = self._runs[self._queue.pop(0)]
            run.status = "queued" if run.cluster else "starting"  # a cluster's run waits for Ray to place it
            threading.Thread(target=self._work, args=(run,), name=run.run_id, daemon=True).start()

    def _work(self, run):
        try:
            cap = self.host_limits().max_seconds  # the host's cap holds the slot's wall time, everything included
            common = {"run_dir": run.run_dir, "on_event": run.on_event, "data": run.data,
                      "memory_budget": run_memory_budget(self.max_concurrent), "tensorboard": run.tensorboard,
                      "deadline": time.monotonic() + cap if cap else None}
            if run.cluster:
                run.trainer = RayTrainer(run.model_cfg, run.train_cfg, cluster=self.cluster, **common)
            else:
                run.trainer = Trainer(run.model_cfg, run.train_cfg, cpu_threads=self.threads_per_run, **common)
            if run.stop_requested:
                run.trainer.stop()
            run.trainer.run()
        except Exception as error:  # noqa: BLE001 — building the networks failed: the page says so, never waits
            run.status, run.message = "failed", build_failure(error)
        finally:
            # A run that is over keeps its history, grids and checkpoint; its networks, optimizers and dataset go
            run.data = run.trainer = None
            release_memory()
            if run.active:  # ended without a Finished/Failed event
                run.status = "stopped"
            with self._lock:
                self._launch_waiting()
