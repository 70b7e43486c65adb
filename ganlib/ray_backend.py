"""Training on a Ray cluster: each run is a Ray actor holding a share of a node; the app (or the command line) is the
front that follows it.

The actor (RunWorker) builds the very same Trainer in a thread of its own and keeps the run folder on its node. The
front (RayTrainer) stands in for a Trainer: pause, resume and stop reach the actor, and twice a second it collects the
events the trainer emitted and the run folder's new bytes, so the folder grows on the front's side as on the node's.
A node lost mid-run (killed, preempted) costs the work since the last checkpoint: the run goes on from the
checkpoint the front already holds, on whichever node Ray gives it, with the numbers it would have had.
"""
import hashlib
import io
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .archives import zip_limits
from .checkpoint import CHECKPOINT_NAME, atomic_write, keep_previous, load_checkpoint
from .datasets import folder_images, folder_path, load_dataset
from .errors import ConfigError, DatasetError
from .events import CheckpointSaved, Failed, Finished, Metrics, Moved, Placed
from .rundir import RunDirectory
from .tensorboard_log import with_tensorboard
from .trainer import Trainer, build_failure

INSTALL_HINT = 'pip install "gan-studio[ray]" (or pip install "ray[default]")'
POLL_SECONDS = 0.5  # how often the front collects a run's events and files
MAX_MOVES = 3  # a run that loses more nodes than this fails instead of moving again
WORKER_THREADS = 4  # the training thread, and the calls that pause, stop or collect while it trains


@dataclass(frozen=True)
class ClusterSettings:
    """Where runs train and what share of a node each holds, from GAN_STUDIO_RAY_* (or `train --ray ADDRESS`)."""

    address: str  # a cluster's address (HOST:PORT, ray://HOST:PORT, auto) or 'local': start one on this machine
    gpus_per_run: float = 0.0  # 0.25: four runs share a GPU
    cpus_per_run: float = 1.0
    fallback: str = "refuse"  # 'local': train in this process's threads when the cluster cannot be reached

    @classmethod
    def from_environment(cls, address=None):
        """The host's settings; None when GAN_STUDIO_RAY_ADDRESS is unset (and no address is given)."""
        address = (address or os.environ.get("GAN_STUDIO_RAY_ADDRESS", "")).strip()
        if not address:
            return None
        try:
            gpus = float(os.environ.get("GAN_STUDIO_RAY_GPUS_PER_RUN", 0))
            cpus = float(os.environ.get("GAN_STUDIO_RAY_CPUS_PER_RUN", 1))
        except ValueError as error:
            raise ConfigError(f"GAN_STUDIO_RAY_GPUS_PER_RUN and GAN_STUDIO_RAY_CPUS_PER_RUN must be numbers ({error})")
        if not (gpus >= 0 and cpus > 0):
            raise ConfigError("GAN_STUDIO_RAY_GPUS_PER_RUN must be 0 or more and GAN_STUDIO_RAY_CPUS_PER_RUN above 0")
        fallback = os.environ.get("GAN_STUDIO_RAY_FALLBACK", "refuse").strip().lower()
        if fallback not in ("refuse", "local"):
            raise ConfigError("GAN_STUDIO_RAY_FALLBACK must be 'refuse' or 'local'")
        return cls(address, gpus, cpus, fallback)

    def describe(self):
        return "a Ray cluster on this machine" if self.address == "local" else f"the Ray cluster at {self.address}"


_joining = threading.Lock()


def connect(settings):
    """Join the cluster (start one on this machine for 'local', bound to 127.0.0.1); returns the ray module. Ray
    missing or the cluster not answering is one ConfigError, within seconds."""
    if settings.address == "local":  # Ray's switch for a cluster of one machine: every process binds to 127.0.0.1,
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read when ray is first imported, and by its children
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no report home (a lab may have no network at all)
    try:
        import ray
    except ImportError as error:
        raise ConfigError(f"training on Ray needs the ray package: {INSTALL_HINT}") from error
    with _joining:
        if not ray.is_initialized():
            if settings.address != "local":
                check_reachable(settings)
            in_a_thread_that_stays(lambda: start_driver(ray, settings))
    return ray


def start_driver(ray, settings):
    # The nodes run this front's own ganlib, which Ray ships to them (8 MB, cached by content): every node needs only
    # the packages (torch, torchvision, ray), and a front and its workers never disagree on a version.
    options = {"logging_level": logging.WARNING, "log_to_driver": False,
               "runtime_env": {"py_modules": [str(Path(__file__).resolve().parent)]}}
    if settings.address == "local":
        ray.init(address="local", include_dashboard=False, **options)
        return
    try:
        ray.init(address=settings.address, **options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise ConfigError(f"could not join {settings.describe()}: {first_line(error)}") from error


def in_a_thread_that_stays(start):
    """Run start() in a thread that then lives as long as the process. Ray's local processes are told to die with
    the thread that started them (Linux's parent-death signal): started from a Streamlit script's thread, which ends
    with each rerun, the whole cluster went with it."""
    outcome, done = [], threading.Event()

    def drive():
        try:
            start()
        except BaseException as error:  # noqa: BLE001 — handed to the caller's thread
            outcome.append(error)
        done.set()
        if not outcome:
            threading.Event().wait()

    threading.Thread(target=drive, name="ray-driver", daemon=True).start()
    done.wait()
    if outcome:
        raise outcome[0]


def check_reachable(settings, timeout=3.0):
    """A TCP connection to the cluster's address first: ray.init would otherwise retry for minutes."""
    address = settings.address
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except ValueError as error:
        raise ConfigError(f"'{address}' is not a Ray address: give HOST:PORT, ray://HOST:PORT, auto or local") from error
    except OSError as error:
        raise ConfigError(f"cannot reach {settings.describe()} ({error.strerror or error}): is `ray start --head` "
                          "running there?") from error


def first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def data_archive(train_cfg):
    """The folder dataset's images as .zip bytes for the object store (its workers cannot see this machine's files),
    within the upload limits; None for the built-in datasets, which each node loads itself."""
    if train_cfg.dataset != "folder":
        return None
    path = folder_path(train_cfg.data_dir)
    max_entries, max_bytes, _ = zip_limits()
    if path.is_file():  # an uploaded .zip, checked when it was staged
        if path.stat().st_size > max_bytes:
            raise DatasetError(f"{path.name} is larger than the {max_bytes / 2**20:,.0f} MB a run may send a cluster")
        return path.read_bytes()
    images = folder_images(path)
    if len(images) > max_entries or sum(p.stat().st_size for p in images) > max_bytes:
        raise DatasetError(f"{path.name} holds more than the {max_entries:,} images or {max_bytes / 2**20:,.0f} MB a "
                           "run may send a cluster")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # images are compressed already
        for image in images:
            archive.write(image, image.relative_to(path).as_posix())
    return buffer.getvalue()


# --- the run folder, node to front ---------------------------------------------------------------------------

APPENDED = (".csv",)  # files that grow while a run trains: sent as their new lines, whole when rewritten


class FolderMirror:
    """What changed in a run folder since the last call, as {name: (mode, bytes)}: 'append' for the new lines of a
    CSV file that still begins with what was sent, 'whole' for any other new or rewritten file (a resumed trainer
    rewrites metrics.csv without the rows past its checkpoint). Files mid-write (hidden temporaries) wait."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.seen = {}  # name -> (size, mtime) when last read
        self.sent_lines = {}  # CSV name -> (length, SHA-1) of the complete lines sent
        self.changes()  # what is there already came from the front

    def changes(self):
        changed = {}
        for path in sorted(self.folder.rglob("*")):
            if not path.is_file() or path.name.startswith(".") or ".prev." in path.name:
                continue  # the previous checkpoint pair: the front keeps its own (apply_changes)
            name = path.relative_to(self.folder).as_posix()
            stat = path.stat()
            if self.seen.get(name) == (stat.st_size, stat.st_mtime_ns):
                continue
            self.seen[name] = (stat.st_size, stat.st_mtime_ns)
            data = path.read_bytes()
            if path.suffix in APPENDED:
                data = data[:data.rfind(b"\n") + 1]  # a line being appended waits for the next call
                length, digest = self.sent_lines.get(name, (0, None))
                lines = memoryview(data)
                hashed = hashlib.sha1(lines[:length])  # one pass: the part sent, then the new lines
                grew = 0 < length <= len(data) and hashed.digest() == digest
                hashed.update(lines[length:])
                self.sent_lines[name] = (len(data), hashed.digest())
                if grew:
                    if len(data) > length:
                        changed[name] = ("append", data[length:])
                    continue
            changed[name] = ("whole", data)
        return changed


def apply_changes(folder, changes):
    """Write what a FolderMirror sent into `folder` (names checked: they stay inside it). New checkpoint weights first
    keep the pair they replace as the previous pair, as save_checkpoint does on the node: a node lost between the
    weights and the card leaves a pair that loads (the previous) without sending it over the network each epoch."""
    folder = Path(folder)
    weights = folder / f"{CHECKPOINT_NAME}.safetensors"
    if weights.name in changes:
        keep_previous(weights, weights.with_suffix(".json"))
    for name, (mode, data) in changes.items():
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            continue
        path = folder / relative
        if mode == "append" and path.is_file():
            with open(path, "ab") as f:
                f.write(data)
        else:
            atomic_write(path, lambda tmp, data=data: Path(tmp).write_bytes(data))


def folder_files(folder):
    """A run folder's files, as apply_changes takes them: what a run moving to another node takes along (metrics to
    go on appending to, grids; not the checkpoint, which travels loaded, as the run's `resume`)."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): ("whole", p.read_bytes()) for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith((".", f"{CHECKPOINT_NAME}."))}


# --- the actor, on a node ----------------------------------------------------------------------------------

class RunWorker:
    """One run on a node of the cluster (a Ray actor with WORKER_THREADS threads): the Trainer in one thread, and
    pause, stop and collect from the others."""

    def __init__(self, files):
        self.home = Path(tempfile.mkdtemp(prefix="gan-studio-ray-"))
        self.folder = self.home / "run"
        apply_changes(self.folder, files)  # a run that moved brings its folder, checkpoint included
        RunDirectory(self.folder)
        self.mirror = FolderMirror(self.folder)
        self.trainer = None
        self._events, self._lock = [], threading.Lock()
        self._stop = threading.Event()

    def where(self):
        """This node's id and the GPUs Ray gave the actor."""
        import ray

        return {"node_id": ray.get_runtime_context().get_node_id(), "gpus": [str(g) for g in ray.get_gpu_ids()]}

    def train(self, model_cfg, train_cfg, data, archive, options):
        """Build the Trainer here (torch's threads belong to the thread that trains) and run it to its end."""
        try:
            if archive is not None:  # the folder dataset, sent through the object store
                path = self.home / "data.zip"
                path.write_bytes(archive)
                data = load_dataset(train_cfg.dataset, model_cfg.image_size, model_cfg.channels, str(path))
            seconds_left = options["seconds_left"]
            self.trainer = Trainer(model_cfg, train_cfg, run_dir=self.folder, on_event=self._keep, data=data,
                                   resume=options["resume"], cpu_threads=options["threads"],
                                   memory_budget=options["memory_budget"], placement=options["placement"],
                                   checkpoint_seconds=0,  # every epoch: a lost node costs at most the one in progress
                                   deadline=None if seconds_left is None else time.monotonic() + seconds_left)
        except Exception as error:  # noqa: BLE001 — every cause is one line on the page, never a Ray traceback
            self._keep(Failed(build_failure(error), options["step"]))
            return "failed"
        if self._stop.is_set():
            self.trainer.stop()
        return self.trainer.run()

    def _keep(self, event):
        with self._lock:
            self._events.append(event)

    def collect(self):
        """(events since the last call, the run folder's changes): events first, so the files are at least as new."""
        with self._lock:
            events, self._events = self._events, []
        return events, self.mirror.changes()

    def pause(self, wait):
        return self.trainer.pause(wait) if self.trainer else False

    def resume(self):
        if self.trainer:
            self.trainer.resume()

    def stop(self):
        self._stop.set()
        if self.trainer:
            self.trainer.stop()

    def close(self):
        shutil.rmtree(self.home, ignore_errors=True)


# --- the front ----------------------------------------------------------------------------------------

class NodeLost(Exception):
    """The actor's node went away mid-run."""


class RayTrainer:
    """Stands in for a Trainer whose loop runs in a Ray actor: the same checks first, pause()/resume()/stop() from
    any thread, and run() that follows the actor until the run ends, moving it when its node is lost."""

    rank, world_size = 0, 1  # one process trains each run

    def __init__(self, model_cfg, train_cfg, *, cluster, run_dir, on_event=None, data=None, resume=None,
                 memory_budget=None, deadline=None, tensorboard=None):
        Trainer.check_configs(model_cfg, train_cfg, memory_budget, dataset_images=len(data) if data is not None else None)
        self.ray = connect(cluster)
        self.cluster, self.model_cfg, self.cfg = cluster, model_cfg, train_cfg
        self.run_dir = RunDirectory(run_dir)
        self.on_event = with_tensorboard(self._track(on_event), tensorboard, model_cfg, train_cfg)
        self.data = self.ray.put(data) if data is not None else None
        archive = data_archive(train_cfg) if data is None else None
        self.archive = self.ray.put(archive) if archive is not None else None
        self.resume_from = resume  # a Checkpoint to go on from (the run folder holds its metrics so far)
        self.memory_budget, self.deadline = memory_budget, deadline
        self.step = self.epoch = 0
        self.elapsed = 0.0
        self.placement, self.moves = "", 0
        self._actor = self.node_id = None
        self._stop = threading.Event()

    def _track(self, on_event):
        """Keep step, epoch and training time as a Trainer has them (the command line prints them)."""
        def track(event):
            if isinstance(event, Metrics):
                self.step, self.elapsed = event.step, event.elapsed
            elif isinstance(event, Finished):
                self.step, self.epoch = event.step, event.epoch
            if on_event is not None:
                on_event(event)
        return track

    # --- control, callable from any thread ---------------------------------------------------------

    def pause(self, wait=0.0):
        return bool(self._call("pause", wait))

    def resume(self):
        self._call("resume")

    def stop(self):
        self._stop.set()
        self._call("stop")

    def _call(self, method, *args):
        actor = self._actor
        if actor is None:
            return None
        try:
            return self.ray.get(getattr(actor, method).remote(*args), timeout=30)
        except self.ray.exceptions.RayError:  # the node is gone: run() moves the run
            return None

    # --- the run ---------------------------------------------------------------------------------------

    def run(self):
        """Train on the cluster until done, stopped or failed; every outcome is an event, never raised."""
        resume = self.resume_from
        while True:
            try:
                return self._run_once(resume)
            except NodeLost:
                lost_at = self.step
                self.moves += 1
                if self.moves > MAX_MOVES:
                    self.on_event(Failed(f"the cluster lost {self.moves} nodes under this run; giving up at step "
                                         f"{lost_at}", lost_at))
                    return "failed"
                resume = load_checkpoint(self.run_dir.path) if self.run_dir.checkpoint.is_file() else None
                restart = int(resume.card["step"]) if resume else 0  # nothing saved yet: from the start
                self.step = restart
                self.on_event(Moved(f"its node ({self.placement}) was lost at step {lost_at:,}: it goes on from "
                                    f"step {restart:,} on another node", restart))

    def _run_once(self, resume):
        ray = self.ray
        worker = ray.remote(RunWorker).options(num_cpus=self.cluster.cpus_per_run, num_gpus=self.cluster.gpus_per_run,
                                               max_concurrency=WORKER_THREADS)
        files = folder_files(self.run_dir.path) if resume else {}  # its metrics so far, to go on appending
        actor = worker.remote(files)
        where = None
        try:
            where = self._wait_for_place(actor)
            if where is None:  # stopped while waiting for the cluster
                self.on_event(Finished("stopped", self.step, self.epoch))
                return "stopped"
            self._actor, self.node_id = actor, where["node_id"]
            self.placement = self._describe(where)
            self.on_event(Placed(self.placement))
            seconds_left = None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0)
            options = {"resume": resume, "threads": max(1, int(self.cluster.cpus_per_run)), "step": self.step,
                       "memory_budget": self.memory_budget, "seconds_left": seconds_left,
                       "placement": f"Ray: {self.cluster.describe()}, {self.placement}"}
            done = actor.train.remote(self.model_cfg, self.cfg, self.data, self.archive, options)
            if self._stop.is_set():
                actor.stop.remote()
            while True:
                ready, _ = ray.wait([done], timeout=POLL_SECONDS)
                self._collect(actor)
                if ready:
                    return ray.get(done)
        except ray.exceptions.RayError as error:
            if self._node_lost(where, error):
                raise NodeLost() from error
            self.on_event(Failed(f"the cluster failed the run: {first_line(error)}", self.step))  # one line
            return "failed"
        finally:
            self._actor = None
            try:
                actor.close.remote()
                ray.kill(actor, no_restart=True)  # frees its share of the node at once
            except ray.exceptions.RayError:
                pass

    def _node_lost(self, where, error, patience=15.0):
        """Whether the run's actor died with its node (rather than failing on it): the cluster may take a few
        seconds to mark the node dead after the actor's calls fail."""
        errors = self.ray.exceptions
        if where is None or not isinstance(error, (errors.ActorDiedError, errors.ActorUnavailableError,
                                                   errors.NodeDiedError, errors.ObjectLostError)):
            return False
        give_up = time.monotonic() + patience
        while time.monotonic() < give_up:
            if where["node_id"] not in {node["NodeID"] for node in self.ray.nodes() if node.get("Alive")}:
                return True
            time.sleep(0.5)
        return False

    def _wait_for_place(self, actor):
        """The actor's node once Ray has scheduled it (Ray queues runs while the cluster is full); None if stopped."""
        placed = actor.where.remote()
        while not self._stop.is_set():
            ready, _ = self.ray.wait([placed], timeout=POLL_SECONDS)
            if ready:
                return self.ray.get(placed)
        return None

    def _collect(self, actor):
        events, changes = self.ray.get(actor.collect.remote())
        apply_changes(self.run_dir.path, changes)
        for event in events:
            if isinstance(event, CheckpointSaved):  # the node's path: here the copy that just arrived
                event = CheckpointSaved(str(self.run_dir.checkpoint), event.step)
            self.on_event(event)

    def _describe(self, where):
        """'node 2 of 5, GPU 0': the node's place among the cluster's live nodes, and its GPUs."""
        nodes = [node["NodeID"] for node in self.ray.nodes() if node.get("Alive")]
        number = nodes.index(where["node_id"]) + 1 if where["node_id"] in nodes else "?"
        gpus = f"GPU {', '.join(where['gpus'])}" if where["gpus"] else "CPU"
        return f"node {number} of {len(nodes)}, {gpus}"
