"""What a host allows, read from the environment at the moment it is needed (never at import time).

A hosted GAN Studio serves a whole class from one process: these settings keep one user from taking the
machine's memory, another session's files or the server's folders.
"""
import os
import resource
from pathlib import Path

from .errors import ConfigError

HEARTBEAT_SECONDS = 30  # an open tab tells the server at least this often that it is there (the pages' heartbeat)


def max_concurrent_runs():
    """GAN_STUDIO_MAX_RUNS, else one run per two cores (a 2-core machine trains one run at a time)."""
    return max(1, int(os.environ.get("GAN_STUDIO_MAX_RUNS", max(1, (os.cpu_count() or 2) // 2))))


def machine_memory_bytes():
    """The memory this process may still use: the lowest of physical memory, the container's cgroup cap (a Space's
    is lower than the host's) and what the process's own limits leave (`ulimit -v` / `prlimit --as` cap its address
    space, RLIMIT_DATA its heap: many lab servers set these rather than a cgroup)."""
    limits = [os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")]
    try:
        cap = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        cap = ""
    if cap.isdigit():
        limits.append(int(cap))
    for limit, used in ((resource.RLIMIT_AS, "VmSize"), (resource.RLIMIT_DATA, "VmData")):
        soft = resource.getrlimit(limit)[0]
        if soft != resource.RLIM_INFINITY:
            limits.append(max(soft - process_memory(used), 0))  # what is mapped already counts against it
    return min(limits)


def process_memory(field):
    """This process's VmSize (address space) or VmData (heap and private mappings) in bytes, from /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run_memory_budget(runs_at_once=None):
    """Bytes one run may use: GAN_STUDIO_MEMORY_MB, else three quarters of the machine's memory shared by the runs
    that may train at once (the rest is Python, Streamlit, the browser's uploads and the OS)."""
    if "GAN_STUDIO_MEMORY_MB" in os.environ:
        try:
            return int(float(os.environ["GAN_STUDIO_MEMORY_MB"]) * 2**20)
        except ValueError as error:
            raise ConfigError(f"GAN_STUDIO_MEMORY_MB must be a number ({error})") from error
    return int(0.75 * machine_memory_bytes() / (runs_at_once or max_concurrent_runs()))


def data_root():
    """GAN_STUDIO_DATA_ROOT: the one server folder whose paths users may type; None: uploads only."""
    root = os.environ.get("GAN_STUDIO_DATA_ROOT", "").strip()
    return Path(root).expanduser().resolve() if root else None


def confined_path(text, root):
    """A user's path inside `root` (relative paths start there), resolved with symlinks; outside it: ConfigError."""
    path = (root / Path(text).expanduser()).resolve()
    if not path.is_relative_to(root):
        raise ConfigError("that path is outside the data folder this server allows; upload a .zip instead")
    return path


def shared_checkpoints():
    """GAN_STUDIO_SHARED_CHECKPOINTS: a folder where saved generators persist and every session sees them; None:
    each session saves into its own space, deleted when it leaves."""
    folder = os.environ.get("GAN_STUDIO_SHARED_CHECKPOINTS", "").strip()
    return Path(folder).expanduser() if folder else None


def tensorboard_root():
    """GAN_STUDIO_TENSORBOARD: a folder where every run of the app also writes TensorBoard event files, one subfolder
    a run (`tensorboard --logdir` on it); None: none written."""
    folder = os.environ.get("GAN_STUDIO_TENSORBOARD", "").strip()
    return Path(folder).expanduser() if folder else None


def gallery_limit():
    """Entries the class gallery holds: GAN_STUDIO_GALLERY_MAX (default 60), or 0 when GAN_STUDIO_GALLERY=off."""
    if os.environ.get("GAN_STUDIO_GALLERY", "on").strip().lower() in ("off", "0", "false", "no"):
        return 0
    try:
        return max(0, int(os.environ.get("GAN_STUDIO_GALLERY_MAX", 60)))
    except ValueError as error:
        raise ConfigError(f"GAN_STUDIO_GALLERY_MAX must be a whole number ({error})") from error


def gallery_per_session():
    """Entries one session may hold on the class gallery: GAN_STUDIO_GALLERY_PER_SESSION (default 2); a new share
    replaces that session's oldest."""
    try:
        return max(1, int(os.environ.get("GAN_STUDIO_GALLERY_PER_SESSION", 2)))
    except ValueError as error:
        raise ConfigError(f"GAN_STUDIO_GALLERY_PER_SESSION must be a whole number ({error})") from error
