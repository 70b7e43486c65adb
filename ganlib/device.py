"""Pick the training device and the numeric tricks that pay on it."""
import gc
import os
import platform
from contextlib import contextmanager

import torch

from .errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def available_devices():
    """The device names present on this machine, 'auto' first (for menus)."""
    names = ["auto", "cpu"]
    if torch.cuda.is_available():
        names.append("cuda")
    if torch.backends.mps.is_available():
        names.append("mps")
    return names


def pick_device(name="auto"):
    """cuda, then mps, then cpu, unless one is named; a named device that is absent is a ConfigError."""
    if name not in DEVICE_CHOICES:
        raise ConfigError(f"unknown device '{name}'; choose one of {', '.join(DEVICE_CHOICES)}")
    if name == "auto":
        return next(d for d in ("cuda", "mps", "cpu") if d in available_devices())
    if name not in available_devices():
        raise ConfigError(f"device '{name}' is not available on this machine; use --device auto or cpu")
    return name


def resolve_device(name="auto", threads=None):
    """The device to train on (see pick_device); on the CPU it also sets the calling thread's torch threads:
    `threads`, else cpu_threads()."""
    device = torch.device(pick_device(name))
    if device.type == "cpu":
        torch.set_num_threads(threads or cpu_threads())
    if device.type == "cuda":  # every step has the same shapes: let cuDNN time its kernels once, keep the fastest
        torch.backends.cudnn.benchmark = True
    return device


def release_memory():
    """Free what a finished run held now, not at the next collection: its tensors sit in reference cycles (the
    trainer's callbacks point back at their run), and CUDA's caching allocator keeps freed blocks from others."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def cpu_threads():
    """GAN_STUDIO_CPU_THREADS, else every core (torch's default can be fewer than os.cpu_count() in containers)."""
    return max(1, int(os.environ.get("GAN_STUDIO_CPU_THREADS", os.cpu_count() or 1)))


@contextmanager
def single_cpu_thread():
    """Run tiny networks (the 2D Playground's) on one torch thread, then give the calling thread its own back.

    Tiny matrix products gain nothing from a second thread, and when another process (Streamlit, a browser)
    holds a core the threads wait on each other: on 2 cores a Playground step took 47 ms with two threads
    against 12 with one. torch's CPU thread count belongs to the thread that sets it (OpenMP), so an image run
    training in the same process keeps its own.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def autocast_dtype(device, precision):
    """bf16 autocast where the hardware runs it fast (CUDA, and CPUs with AVX-512 bf16), else None (fp32)."""
    if precision == "fp32" or device.type == "mps":
        return None
    if precision == "bf16":
        return torch.bfloat16
    # precision == "auto"
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    return torch.bfloat16 if cpu_has_fast_bf16() else None


def cpu_has_fast_bf16():
    """True when oneDNN can use native bf16 instructions (AVX-512 BF16 or AMX) on this CPU."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def describe_device(device):
    """A human name for the hardware a run used, for checkpoint cards ("NVIDIA H100", "CPU (x86_64), 2 threads")."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "cpu":
        threads = torch.get_num_threads()
        return f"CPU ({platform.machine()}), {threads} thread{'s' if threads > 1 else ''}"
    return device.type
